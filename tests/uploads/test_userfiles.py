"""/userfiles/ and the classic /uploadedfiles/: uploads streamed into storage, the path rules, search,
moves, public flags and deletion."""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.conftest import CJ, cj_items, json_of
from tests.uploads.conftest import multipart, upload


def stored_keys(prefix: str = "") -> list[str]:
    from cube.storage import get_storage

    return list(get_storage().ls(prefix))


def stored_bytes(key: str) -> bytes:
    from cube.storage import get_storage

    return b"".join(get_storage().open(key))


@pytest.mark.django_db
def test_upload_streams_into_storage_and_registers_the_file(actors):
    from uploads.models import ChrisFile, ChrisFolder

    data = os.urandom(3 * 1024 * 1024 + 17)  # several reads, above Django's in-memory upload limit
    r = upload(actors.client("alice"), "home/alice/uploads/new/deep/scan.dcm", data, accept=CJ)
    assert r.status_code == 201, r.content
    assert r["Content-Type"].startswith(CJ)
    item = cj_items(r)[0]
    assert item["fname"] == "home/alice/uploads/new/deep/scan.dcm"
    assert item["fsize"] == len(data) and item["owner_username"] == "alice" and item["public"] is False
    assert item["href"].endswith(f"/api/v1/userfiles/{item['id']}/")
    assert item["links"]["file_resource"].endswith(f"/api/v1/userfiles/{item['id']}/scan.dcm")
    for rel in ("parent_folder", "owner", "group_permissions", "user_permissions"):
        assert rel in item["links"]
    row = ChrisFile.objects.get(pk=item["id"])
    assert row.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert stored_bytes(row.fname) == data
    folders = ChrisFolder.objects.filter(path__startswith="home/alice/uploads/new")
    assert {f.path: f.owner.username for f in folders} == {
        "home/alice/uploads/new": "alice", "home/alice/uploads/new/deep": "alice"}
    assert row.parent_folder.path == "home/alice/uploads/new/deep"


@pytest.mark.django_db
def test_a_file_part_sent_before_upload_path_is_accepted_too(actors):
    data = os.urandom(300_000)
    r = upload(actors.client("alice"), "home/alice/uploads/first.bin", data, file_first=True)
    assert r.status_code == 201, r.content
    assert stored_bytes("home/alice/uploads/first.bin") == data


@pytest.mark.django_db
@pytest.mark.parametrize("accept", [CJ, "application/json"])
@pytest.mark.parametrize("path", [
    "home/bob/uploads/x.txt",         # another user's home
    "../../x.txt",                    # escaping the tree
    "home/alice/../../etc/x.txt",
    "/etc/passwd",                    # absolute
    "home/alice/uploads/a,b.txt",     # commas separate path lists in plugin parameters
    "SERVICES/PACS/x.dcm",            # outside home/
    "home/alice/uploads/x.chrislink",  # link files are not uploads
    "home/newuser/x.txt",             # a home that does not exist
    "",
])
def test_bad_upload_paths_are_400_in_the_clients_media_type_and_store_nothing(actors, path, accept):
    from uploads.models import ChrisFile

    before_keys, before_rows = stored_keys(), ChrisFile.objects.count()
    r = upload(actors.client("alice"), path, b"data", accept=accept)
    assert r.status_code == 400, (path, r.content)
    assert r["Content-Type"].startswith(accept)
    body = json_of(r)
    message = body["collection"]["error"]["message"] if accept == CJ else body
    assert "upload_path" in message
    assert stored_keys() == before_keys and ChrisFile.objects.count() == before_rows


@pytest.mark.django_db
def test_missing_parts_duplicates_and_non_multipart_bodies_are_400(actors):
    client = actors.client("alice")
    body, ctype = multipart([("upload_path", "home/alice/uploads/a.txt", None)])
    r = client.generic("POST", "/api/v1/userfiles/", body, content_type=ctype, HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and "fname" in json_of(r)
    body, ctype = multipart([("fname", b"x", "a.txt")])
    r = client.generic("POST", "/api/v1/userfiles/", body, content_type=ctype, HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and "upload_path" in json_of(r)
    r = client.post("/api/v1/userfiles/", {"upload_path": "home/alice/uploads/a.txt"}, format="json")
    assert r.status_code == 400
    assert upload(client, "home/alice/uploads/a.txt", b"one").status_code == 201
    r = upload(client, "home/alice/uploads/a.txt", b"two")
    assert r.status_code == 400 and "already exists" in str(json_of(r))
    assert stored_bytes("home/alice/uploads/a.txt") == b"one"
    r = upload(client, "home/alice/uploads", b"a folder's path")
    assert r.status_code == 400


@pytest.mark.django_db
def test_an_interrupted_upload_leaves_nothing_behind(actors):
    """A body cut inside the file (a dropped connection over a real socket: tests/uploads/test_live.py)."""
    from uploads.models import ChrisFile, ChrisFolder

    data = os.urandom(2 * 1024 * 1024)
    body, ctype = multipart([("upload_path", "home/alice/uploads/cut/part.bin", None), ("fname", data, "f")])
    cut = body[: len(body) // 2]
    before = stored_keys()
    r = actors.client("alice").generic("POST", "/api/v1/userfiles/", cut, content_type=ctype,
                                       HTTP_ACCEPT="application/json")
    assert r.status_code == 400, r.content
    assert "ended" in json_of(r)["detail"]
    assert not ChrisFile.objects.filter(fname__startswith="home/alice/uploads/cut").exists()
    assert stored_keys() == before
    # Nothing half-written stays in the storage root either (the filesystem writes temporary files).
    from cube.storage import get_storage

    root = get_storage().root  # type: ignore[attr-defined]
    leftovers = [f for _, _, files in os.walk(root) for f in files if "cube-tmp" in f]
    assert leftovers == []
    assert not ChrisFile.objects.filter(fname="home/alice/uploads/cut/part.bin").exists()
    assert ChrisFolder.objects.filter(path="home/alice/uploads/cut").count() <= 1


@pytest.mark.django_db
def test_a_body_cut_after_the_file_part_registers_nothing_either(actors):
    from uploads.models import ChrisFile

    body, ctype = multipart([("upload_path", "home/alice/uploads/late.bin", None), ("fname", b"complete", "f"),
                             ("trailing", "field", None)])
    cut = body[: body.rindex(b"field")]
    r = actors.client("alice").generic("POST", "/api/v1/userfiles/", cut, content_type=ctype,
                                       HTTP_ACCEPT="application/json")
    assert r.status_code == 400
    assert not ChrisFile.objects.filter(fname="home/alice/uploads/late.bin").exists()
    assert "home/alice/uploads/late.bin" not in stored_keys()


@pytest.mark.django_db
def test_uploads_into_a_shared_folder_need_a_write_grant(actors):
    from uploads.selectors import access_folder_by_path
    from uploads.services import folder_get_or_create
    from uploads.sharing import grant_create

    team = folder_get_or_create(path="home/alice/uploads/team", owner=actors.alice)
    grant = grant_create(obj=team, permission="r", group=actors.lab)
    carol = actors.client("carol")
    assert upload(carol, "home/alice/uploads/team/c.txt", b"c").status_code == 400
    grant.permission = "w"
    grant.save()
    r = upload(carol, "home/alice/uploads/team/sub/c.txt", b"c")
    assert r.status_code == 201, r.content
    assert json_of(r)["owner_username"] == "carol"
    # The folder it created lies in alice's tree: alice keeps full access to it.
    assert access_folder_by_path(actors.alice, "home/alice/uploads/team/sub", "w")
    assert upload(actors.client("bob"), "home/alice/uploads/team/b.txt", b"b").status_code == 400


@pytest.mark.django_db
def test_listing_shows_your_own_files_and_the_superuser_sees_all(actors):
    upload(actors.client("alice"), "home/alice/uploads/a1.txt", b"1")
    upload(actors.client("bob"), "home/bob/uploads/b1.txt", b"2")
    names = {i["fname"] for i in json_of(actors.client("alice").get(
        "/api/v1/userfiles/?limit=100", HTTP_ACCEPT="application/json"))["results"]}
    assert names == {"home/alice/uploads/welcome.txt", "home/alice/uploads/a1.txt"}
    everyone = json_of(actors.client("admin").get("/api/v1/userfiles/?limit=100", HTTP_ACCEPT="application/json"))
    assert {"home/alice/uploads/a1.txt", "home/bob/uploads/b1.txt"} <= {i["fname"] for i in everyone["results"]}
    assert actors.client("anon").get("/api/v1/userfiles/").status_code == 401


@pytest.mark.django_db
def test_search_filters_as_cube(actors):
    client = actors.client("alice")
    for path in ("home/alice/uploads/s/a.dcm", "home/alice/uploads/s/b.dcm", "home/alice/uploads/s/t/c.txt",
                 "home/alice/uploads/s/u/d.txt", "home/alice/uploads/s/u/e.txt", "home/alice/uploads/S.TXT"):
        assert upload(client, path, b"x").status_code == 201

    def search(query: str) -> set[str]:
        r = client.get(f"/api/v1/userfiles/search/?limit=100&{query}", HTTP_ACCEPT="application/json")
        assert r.status_code == 200, r.content
        return {i["fname"].rsplit("/", 1)[-1] for i in json_of(r)["results"]}

    assert search("fname=home/alice/uploads/s/") == {"a.dcm", "b.dcm", "c.txt", "d.txt", "e.txt"}
    assert search("fname_exact=home/alice/uploads/s/a.dcm") == {"a.dcm"}
    assert search("fname_icontains=S.tx") == {"S.TXT"}
    assert search("fname_icontains_multiple=uploads%20.DCM") == {"a.dcm", "b.dcm"}
    assert search("fname_icontains=/s/&fname_nslashes=4") == {"a.dcm", "b.dcm"}
    assert search("fname=home/alice/uploads/s/&fname_nslashes=5") == {"c.txt", "d.txt", "e.txt"}
    one_per_folder = search("fname=home/alice/uploads/s/&fname_nslashes=5u")
    assert len(one_per_folder) == 2 and "c.txt" in one_per_folder
    assert search("owner_username=bob") == set()
    assert "welcome.txt" in search("owner_username=alice")
    assert search("fname_nslashes=nonsense") == set()
    assert search("max_creation_date=2000-01-01T00:00:00Z") == set()
    assert len(search("min_creation_date=2000-01-01T00:00:00Z")) == 7
    first = json_of(client.get("/api/v1/userfiles/search/?fname_exact=home/alice/uploads/S.TXT",
                               HTTP_ACCEPT="application/json"))["results"][0]
    assert search(f"id={first['id']}") == {"S.TXT"}
    r = client.get("/api/v1/userfiles/", HTTP_ACCEPT=CJ)
    query = json_of(r)["collection"]["queries"][0]
    assert query["href"].endswith("/api/v1/userfiles/search/")
    assert {d["name"] for d in query["data"]} >= {"fname", "fname_exact", "fname_icontains", "fname_nslashes",
                                                 "fname_icontains_multiple", "owner_username", "id"}


@pytest.mark.django_db
def test_put_moves_and_publishes_and_delete_removes_bytes_and_row(actors):
    from uploads.models import ChrisFile, ChrisLinkFile

    client = actors.client("alice")
    item = json_of(upload(client, "home/alice/uploads/m/old.txt", b"moving"))
    url = f"/api/v1/userfiles/{item['id']}/"
    r = client.put(url, {"upload_path": "home/alice/uploads/other/new.txt"}, format="json",
                   HTTP_ACCEPT="application/json")
    assert r.status_code == 200, r.content
    assert json_of(r)["fname"] == "home/alice/uploads/other/new.txt"
    assert stored_bytes("home/alice/uploads/other/new.txt") == b"moving"
    assert "home/alice/uploads/m/old.txt" not in stored_keys()
    assert ChrisFile.objects.get(pk=item["id"]).parent_folder.path == "home/alice/uploads/other"
    r = client.put(url, {"upload_path": "home/bob/uploads/stolen.txt"}, format="json")
    assert r.status_code == 400
    r = client.put(url, {"public": True}, format="json", HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and json_of(r)["public"] is True
    link = ChrisLinkFile.objects.get(fname="PUBLIC/home_alice_uploads_other_new.txt.chrislink")
    assert link.path == "home/alice/uploads/other/new.txt" and link.public
    assert actors.client("anon").get(item["file_resource"].replace("old.txt", "x")).status_code == 200
    assert client.put(url, {}, format="json").status_code == 400
    r = client.delete(url)
    assert r.status_code == 204
    assert not ChrisFile.objects.filter(pk=item["id"]).exists()
    assert "home/alice/uploads/other/new.txt" not in stored_keys()
    assert not ChrisLinkFile.objects.filter(path="home/alice/uploads/other/new.txt").exists()
    assert not [k for k in stored_keys("PUBLIC") if "new.txt" in k]


@pytest.mark.django_db
def test_classic_uploadedfiles_are_the_same_files_with_classic_paths(actors):
    from uploads.models import ChrisFile

    client = actors.client("alice")
    r = upload(client, "alice/uploads/classic/c.txt", b"classic", url="/api/v1/uploadedfiles/", accept=CJ)
    assert r.status_code == 201, r.content
    item = cj_items(r)[0]
    assert item["fname"] == "alice/uploads/classic/c.txt"
    assert item["href"].endswith(f"/api/v1/uploadedfiles/{item['id']}/")
    assert item["links"]["file_resource"].endswith(f"/api/v1/uploadedfiles/{item['id']}/c.txt")
    assert ChrisFile.objects.get(pk=item["id"]).fname == "home/alice/uploads/classic/c.txt"
    r = upload(client, "home/alice/uploads/classic/d.txt", b"new form", url="/api/v1/uploadedfiles/")
    assert r.status_code == 201 and json_of(r)["fname"] == "alice/uploads/classic/d.txt"
    for bad in ("bob/uploads/x.txt", "../alice/uploads/x.txt", "alice/uploads/a,b"):
        assert upload(client, bad, b"x", url="/api/v1/uploadedfiles/").status_code == 400, bad

    def search(query: str) -> set[str]:
        r = client.get(f"/api/v1/uploadedfiles/search/?{query}", HTTP_ACCEPT="application/json")
        return {i["fname"] for i in json_of(r)["results"]}

    both = {"alice/uploads/classic/c.txt", "alice/uploads/classic/d.txt"}
    assert search("fname=alice/uploads/classic/") == both
    assert search("fname=home/alice/uploads/classic/") == both
    assert search("fname_exact=alice/uploads/classic/c.txt") == {"alice/uploads/classic/c.txt"}
    assert search("fname=alice/uploads/&fname_nslashes=3") == both
    r = client.get(f"/api/v1/uploadedfiles/{item['id']}/c.txt")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"classic"
    r = client.put(f"/api/v1/uploadedfiles/{item['id']}/", {"upload_path": "alice/uploads/renamed.txt"},
                   format="json", HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and json_of(r)["fname"] == "alice/uploads/renamed.txt"
    assert ChrisFile.objects.get(pk=item["id"]).fname == "home/alice/uploads/renamed.txt"
    assert actors.client("bob").get(f"/api/v1/uploadedfiles/{item['id']}/").status_code == 404


@pytest.mark.django_db
def test_user_file_endpoints_serve_only_files_under_home(actors):
    from uploads.services import file_store

    pacs = file_store(owner=actors.admin, path="SERVICES/PACS/orthanc/1.dcm", chunks=[b"dicom"])
    admin = actors.client("admin")
    assert admin.get(f"/api/v1/userfiles/{pacs.id}/").status_code == 404
    assert admin.get(f"/api/v1/userfiles/{pacs.id}/1.dcm").status_code == 404
    assert admin.get(f"/api/v1/filebrowser/files/{pacs.id}/").status_code == 200


@pytest.mark.django_db
def test_an_upload_costs_a_fixed_handful_of_queries(actors, django_assert_max_num_queries):
    """Permission check and folder lookup in one query, the file-exists check, the insert (+ savepoint)."""
    client = actors.client("alice")
    assert upload(client, "home/alice/uploads/q/warm.bin", b"w").status_code == 201
    for size in (10, 3_000_000):
        with django_assert_max_num_queries(5):
            r = upload(client, f"home/alice/uploads/q/{size}.bin", b"x" * size)
        assert r.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "/api/v1/userfiles/{}/", "/api/v1/userfiles/{}/x.txt", "/api/v1/uploadedfiles/{}/",
    "/api/v1/filebrowser/{}/", "/api/v1/filebrowser/{}/files/", "/api/v1/filebrowser/{}/download/",
    "/api/v1/filebrowser/files/{}/", "/api/v1/filebrowser/files/{}/x.txt", "/api/v1/filebrowser/linkfiles/{}/",
    "/api/v1/downloadtokens/{}/",
])
def test_ids_past_64_bits_are_404_not_500(actors, url):
    # An id in a URL is any run of digits; SQLite's driver raises on integers past 64 bits.
    for who in ("alice", "admin"):
        response = actors.client(who).get(url.format(10**25), HTTP_ACCEPT="application/json")
        assert response.status_code == 404, (who, url, response.content)
        assert json_of(response) == {"detail": "Not found."}
