"""Bad query parameters on the file registry's searches: a 400 or an empty page in the client's media
type, never a 500 (PostgreSQL rejects NUL in text and regular expressions repeating more than 255 times)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CJ, json_of
from tests.uploads.conftest import upload

JSON = "application/json"
FILE_SEARCHES = ("/api/v1/userfiles/search/", "/api/v1/uploadedfiles/search/", "/api/v1/files/search/",
                 "/api/v1/servicefiles/search/", "/api/v1/pacsfiles/search/", "/api/v1/pipelines/sourcefiles/search/")


@pytest.mark.django_db
@pytest.mark.parametrize("url", FILE_SEARCHES)
def test_nslashes_beyond_the_regex_repeat_limit_is_an_answer_not_a_500(actors: Any, url: str) -> None:
    for who in ("alice", "admin"):
        for value in ("256", "99999999999999999999", "1025u", "9" * 5000):
            r = actors.client(who).get(f"{url}?fname_nslashes={value}", HTTP_ACCEPT=JSON)
            assert r.status_code == 200, (url, value, r.content)
            assert json_of(r)["results"] == []


@pytest.mark.django_db
def test_nslashes_finds_a_file_deeper_than_255_slashes(actors: Any) -> None:
    alice = actors.client("alice")
    path = "home/alice/uploads/" + "d/" * 258 + "f.txt"
    depth = path.count("/")
    assert depth > 255
    r = upload(alice, path, b"deep")
    assert r.status_code == 201, r.content
    for n, found in ((f"{depth}", [path]), (f"{depth + 1}", []), (f"{depth - 1}", []), (f"{depth}u", [path])):
        r = alice.get(f"/api/v1/userfiles/search/?fname_nslashes={n}", HTTP_ACCEPT=JSON)
        assert r.status_code == 200, (n, r.content)
        assert [row["fname"] for row in json_of(r)["results"]] == found, n
    # The classic form lacks 'home/': one slash fewer.
    r = alice.get(f"/api/v1/uploadedfiles/search/?fname_nslashes={depth - 1}", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["count"] == 1


@pytest.mark.django_db
def test_filebrowser_search_with_nul_in_path_is_a_400_in_both_media_types(actors: Any) -> None:
    for who in ("alice", "admin", "anon"):
        client = actors.client(who)
        for path in ("%00", "home/%00", "home/alice%00"):
            r = client.get(f"/api/v1/filebrowser/search/?path={path}", HTTP_ACCEPT=JSON)
            assert r.status_code == 400, (who, path, r.content)
            assert "path" in json_of(r)
            r = client.get(f"/api/v1/filebrowser/search/?path={path}")
            assert r.status_code == 400 and r["Content-Type"].startswith(CJ)
            assert "path" in json_of(r)["collection"]["error"]["message"]
        r = client.get("/api/v1/filebrowser/search/?id=abc", HTTP_ACCEPT=JSON)
        assert r.status_code == 400 and "id" in json_of(r)
    # The good searches still answer.
    r = actors.client("alice").get("/api/v1/filebrowser/search/?path=home/alice", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and [f["path"] for f in json_of(r)["results"]] == ["home/alice"]
    home = json_of(r)["results"][0]["id"]
    for bad_id in ("99999999999999999999999", f"{home}.5", "-1"):
        r = actors.client("alice").get(f"/api/v1/filebrowser/search/?id={bad_id}", HTTP_ACCEPT=JSON)
        assert r.status_code == 200 and json_of(r)["results"] == [], bad_id
    r = actors.client("alice").get(f"/api/v1/filebrowser/search/?id={home}", HTTP_ACCEPT=JSON)
    assert [f["path"] for f in json_of(r)["results"]] == ["home/alice"]


@pytest.mark.django_db
def test_options_on_detail_views_is_an_answer_not_a_500(actors: Any) -> None:
    """DRF's OPTIONS asks the view's get_object() whether a PUT would be allowed; these views reach their
    object through the access selectors in get/put, and GenericAPIView's get_object asserted a queryset."""
    from uploads.models import ChrisFile, ChrisLinkFile

    alice = actors.client("alice")
    assert upload(alice, "home/alice/uploads/o/a.txt", b"x").status_code == 201
    file = ChrisFile.objects.get(fname="home/alice/uploads/o/a.txt")
    folder = file.parent_folder
    links = ChrisLinkFile.objects.order_by("id")  # link files come from feeds: maybe none here
    grants = []
    for kind, target in (("filebrowser", folder.id), ("filebrowser/files", file.id)):
        r = alice.post(f"/api/v1/{kind}/{target}/grouppermissions/", {"grp_name": "lab", "permission": "r"},
                       format="json", HTTP_ACCEPT=JSON)
        assert r.status_code == 201, r.content
        grants.append(json_of(r)["url"].split("testserver")[1])
        r = alice.post(f"/api/v1/{kind}/{target}/userpermissions/", {"username": "bob", "permission": "r"},
                       format="json", HTTP_ACCEPT=JSON)
        assert r.status_code == 201, r.content
        grants.append(json_of(r)["url"].split("testserver")[1])
    urls = [f"/api/v1/filebrowser/{folder.id}/", f"/api/v1/filebrowser/files/{file.id}/",
            f"/api/v1/userfiles/{file.id}/", f"/api/v1/uploadedfiles/{file.id}/", *grants,
            "/api/v1/filebrowser/linkfiles/999999/", "/api/v1/filebrowser/999999/"]
    if links.exists():
        urls.append(f"/api/v1/filebrowser/linkfiles/{links.first().id}/")
    for who in ("alice", "bob", "admin", "anon"):
        for url in urls:
            r = actors.client(who).options(url, HTTP_ACCEPT=JSON)
            assert r.status_code in (200, 401), (who, url, r.status_code, r.content)
            assert r["Content-Type"].startswith(JSON)
    # The owner may PUT her file; bob, who may only read it, is not offered a PUT.
    assert "PUT" in json_of(alice.options(f"/api/v1/filebrowser/files/{file.id}/", HTTP_ACCEPT=JSON))["actions"]
    r = actors.client("bob").options(f"/api/v1/filebrowser/files/{file.id}/", HTTP_ACCEPT=JSON)
    assert "PUT" not in json_of(r).get("actions", {})


@pytest.mark.django_db
def test_upload_paths_storage_cannot_hold_are_400s_and_store_nothing(actors: Any, storage_root: str) -> None:
    """A name longer than a file system allows (ENAMETOOLONG), a path longer than the registry's column,
    and a path under an existing file (a file cannot be a folder too) were 500s."""
    from pathlib import Path

    from uploads.models import ChrisFile, ChrisFolder

    alice, admin = actors.client("alice"), actors.client("admin")
    assert upload(alice, "home/alice/uploads/p/a.txt", b"kept").status_code == 201
    files, folders = ChrisFile.objects.count(), ChrisFolder.objects.count()
    stored = sorted(str(p) for p in Path(storage_root).rglob("*"))
    bad_paths = ("home/alice/uploads/" + "x" * 256, "home/alice/uploads/" + "/".join(["d" * 50] * 21),
                 "home/alice/uploads/p/a.txt/b.txt", "home/alice/uploads/p/a.txt/deeper/c.txt")
    for client in (alice, admin):
        for path in bad_paths:
            for accept in (JSON, CJ):
                r = upload(client, path, b"new", accept=accept)
                assert r.status_code == 400, (path[:60], r.content)
                if accept == JSON:
                    assert "upload_path" in json_of(r)
                else:
                    assert "upload_path" in json_of(r)["collection"]["error"]["message"]
            r = client.put(f"/api/v1/userfiles/{ChrisFile.objects.get(fname='home/alice/uploads/p/a.txt').id}/",
                           {"upload_path": path}, format="json", HTTP_ACCEPT=JSON)
            assert r.status_code == 400, (path[:60], r.content)
            r = client.post("/api/v1/filebrowser/", {"path": path}, format="json", HTTP_ACCEPT=JSON)
            assert r.status_code == 400, (path[:60], r.content)
    assert (ChrisFile.objects.count(), ChrisFolder.objects.count()) == (files, folders)
    assert sorted(str(p) for p in Path(storage_root).rglob("*") if ".cube-tmp" not in p.name) == stored
    assert ChrisFile.objects.filter(fname="home/alice/uploads/p/a.txt").exists()
    # The longest name the file systems take is still fine.
    assert upload(alice, "home/alice/uploads/" + "y" * 255, b"ok").status_code == 201
