"""The file browser: folders, listings (bounded queries), moves, public and shared links, grants, and the
asynchronous deletion of a tree (nothing left in storage or the registry)."""

from __future__ import annotations

import pytest

from tests.conftest import CJ, cj_items, cj_links, json_of
from tests.uploads.conftest import upload
from tests.uploads.test_userfiles import stored_bytes, stored_keys

JSON = "application/json"


def folder_of(client, path: str) -> dict:
    r = client.get(f"/api/v1/filebrowser/search/?path={path}", HTTP_ACCEPT=JSON)
    results = json_of(r)["results"]
    assert len(results) == 1, (path, r.content)
    return results[0]


def names(client, url: str, key: str) -> set[str]:
    r = client.get(url + "?limit=1000", HTTP_ACCEPT=JSON)
    assert r.status_code == 200, (url, r.content)
    return {row[key] for row in json_of(r)["results"]}


@pytest.mark.django_db
def test_root_search_and_folder_creation(actors):
    anon, alice = actors.client("anon"), actors.client("alice")
    r = anon.get("/api/v1/filebrowser/", HTTP_ACCEPT=CJ)
    assert r.status_code == 200
    [root] = cj_items(r)
    assert root["path"] == "" and root["owner_username"] == "chris"
    assert {"children", "files", "link_files", "group_permissions", "user_permissions"} <= set(root["links"])
    body = json_of(r)["collection"]
    assert body["template"]["data"] == [{"name": "path", "value": ""}]
    assert {d["name"] for d in body["queries"][0]["data"]} == {"id", "path"}

    cj_body = {"template": {"data": [{"name": "path", "value": "home/alice/uploads/made/here"}]}}
    import json

    r = alice.post("/api/v1/filebrowser/", json.dumps(cj_body), content_type=CJ, HTTP_ACCEPT=CJ)
    assert r.status_code == 201, r.content
    made = cj_items(r)[0]
    assert made["path"] == "home/alice/uploads/made/here" and made["owner_username"] == "alice"
    assert made["links"]["parent"] == folder_of(alice, "home/alice/uploads/made")["url"]
    r = alice.post("/api/v1/filebrowser/", {"path": "home/alice/uploads/made/here"}, format="json")
    assert r.status_code == 400
    for bad in ("home/bob/x", "SHARED/x", "home/alice/a,b", "/etc", "../x"):
        r = alice.post("/api/v1/filebrowser/", {"path": bad}, format="json", HTTP_ACCEPT=CJ)
        assert r.status_code == 400, bad
        assert "path" in json_of(r)["collection"]["error"]["message"]
    assert anon.post("/api/v1/filebrowser/", {"path": "home/x"}, format="json").status_code == 401

    # Search: at most one folder, and only one the user may read; by id too.
    assert folder_of(alice, "/home/alice/uploads/made/")["path"] == "home/alice/uploads/made"
    r = actors.client("bob").get("/api/v1/filebrowser/search/?path=home/alice/uploads", HTTP_ACCEPT=JSON)
    assert json_of(r)["results"] == []
    r = alice.get(f"/api/v1/filebrowser/search/?id={made['id']}", HTTP_ACCEPT=JSON)
    assert [f["path"] for f in json_of(r)["results"]] == ["home/alice/uploads/made/here"]
    assert json_of(anon.get("/api/v1/filebrowser/search/?path=home", HTTP_ACCEPT=JSON))["results"] == []
    assert len(json_of(anon.get("/api/v1/filebrowser/search/?path=PUBLIC", HTTP_ACCEPT=JSON))["results"]) == 1


@pytest.mark.django_db
def test_listings_show_what_each_user_may_see(actors):
    alice, bob, admin = actors.client("alice"), actors.client("bob"), actors.client("admin")
    home = folder_of(alice, "home")
    assert names(alice, home["children"], "path") == {"home/alice"}
    assert names(admin, home["children"], "path") >= {"home/alice", "home/bob", "home/carol", "home/chris"}
    assert actors.client("anon").get(home["children"]).status_code == 404
    mine = folder_of(alice, "home/alice")
    assert names(alice, mine["children"], "path") == {"home/alice/uploads", "home/alice/feeds"}
    assert names(alice, mine["link_files"], "fname") == {"home/alice/public.chrislink",
                                                          "home/alice/shared.chrislink"}
    assert bob.get(mine["children"]).status_code == 404
    r = alice.get(mine["link_files"], HTTP_ACCEPT=JSON)
    links = {row["fname"]: row for row in json_of(r)["results"]}
    assert links["home/alice/public.chrislink"]["path"] == "PUBLIC"
    assert links["home/alice/public.chrislink"]["linked_folder"] == folder_of(alice, "PUBLIC")["url"]
    assert links["home/alice/public.chrislink"]["linked_file"] is None
    uploads = folder_of(alice, "home/alice/uploads")
    assert names(alice, uploads["files"], "fname") == {"home/alice/uploads/welcome.txt"}
    r = alice.get(uploads["files"], HTTP_ACCEPT=CJ)
    assert cj_links(r)["folder"] == uploads["url"]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ["files", "children", "link_files"])
def test_listing_a_folder_costs_the_same_queries_for_any_page_size(actors, django_assert_max_num_queries, endpoint):
    from uploads.models import ChrisFolder
    from uploads.services import files_register, folder_get_or_create, link_file_create
    from uploads.sharing import grant_create

    big = folder_get_or_create(path="home/alice/uploads/big", owner=actors.alice)
    files_register(owner=actors.alice, objects=[(f"home/alice/uploads/big/{i:03}.dcm", 10, "") for i in range(60)])
    for i in range(30):
        folder_get_or_create(path=f"home/alice/uploads/big/sub{i:02}", owner=actors.alice)
        link_file_create(owner=actors.alice, fname=f"home/alice/uploads/big/l{i:02}.chrislink",
                         target=f"home/alice/uploads/big/{i:03}.dcm" if i % 2 else f"home/alice/uploads/big/sub{i:02}")
    grant_create(obj=big, permission="r", group=actors.lab)  # carol reads it through a group grant
    url = folder_of(actors.client("alice"), "home/alice/uploads/big")[endpoint]
    assert ChrisFolder.objects.filter(parent=big).count() == 30
    for who in ("alice", "carol"):
        client = actors.client(who)
        client.get(url)  # warm up per-process caches (content types, URL resolvers)
        counts = []
        for limit in (5, 30):
            # Owner: folder, access, count, page (+2 for the page's link targets). A group member pays
            # three more for the grant lookups. Never a query per row.
            with django_assert_max_num_queries(9) as captured:
                r = client.get(f"{url}?limit={limit}", HTTP_ACCEPT=JSON)
            assert r.status_code == 200 and len(json_of(r)["results"]) == limit
            counts.append(len(captured))
        assert counts[0] == counts[1], (who, counts)


@pytest.mark.django_db
def test_moving_a_folder_moves_its_whole_tree(actors, django_capture_on_commit_callbacks):
    from uploads.models import ChrisFile, ChrisFolder, ChrisLinkFile

    alice = actors.client("alice")
    for path in ("home/alice/uploads/mv/a.txt", "home/alice/uploads/mv/s/b.txt"):
        upload(alice, path, path.encode())
    folder = folder_of(alice, "home/alice/uploads/mv")
    assert alice.put(folder["url"], {"public": True}, format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # link objects are rewritten once rows commit
        r = alice.put(folder["url"], {"path": "home/alice/archive/2024/mv2"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200, r.content
    assert json_of(r)["path"] == "home/alice/archive/2024/mv2"
    assert stored_keys("home/alice/archive") == ["home/alice/archive/2024/mv2/a.txt",
                                                 "home/alice/archive/2024/mv2/s/b.txt"]
    assert stored_keys("home/alice/uploads/mv") == []
    assert stored_bytes("home/alice/archive/2024/mv2/s/b.txt") == b"home/alice/uploads/mv/s/b.txt"
    assert set(ChrisFile.objects.filter(fname__contains="/mv").values_list("fname", flat=True)) == {
        "home/alice/archive/2024/mv2/a.txt", "home/alice/archive/2024/mv2/s/b.txt"}
    sub = ChrisFolder.objects.get(path="home/alice/archive/2024/mv2/s")
    assert sub.parent.path == "home/alice/archive/2024/mv2"
    assert ChrisFolder.objects.get(path="home/alice/archive/2024/mv2").parent.path == "home/alice/archive/2024"
    # The PUBLIC/ link follows its target, bytes included.
    link = ChrisLinkFile.objects.get(fname__startswith="PUBLIC/", path__contains="mv")
    assert link.path == "home/alice/archive/2024/mv2" and stored_bytes(link.fname) == link.path.encode()
    r = alice.put(folder["url"], {"path": "home/alice/archive/2024/mv2/s/inside"}, format="json")
    assert r.status_code == 400
    home = folder_of(alice, "home/alice")
    assert alice.put(home["url"], {"path": "home/alice2"}, format="json").status_code in (400, 403)
    # The folder is public: bob reads it, and may not write it.
    assert actors.client("bob").put(folder["url"], {"path": "home/bob/x"}, format="json").status_code == 403


@pytest.mark.django_db
def test_public_folders_are_readable_by_anyone_and_listed_in_public(actors, django_capture_on_commit_callbacks):
    from uploads.models import ChrisLinkFile

    alice, anon = actors.client("alice"), actors.client("anon")
    item = json_of(upload(alice, "home/alice/uploads/pub/p.txt", b"for everyone"))
    folder = folder_of(alice, "home/alice/uploads/pub")
    assert anon.get(folder["url"]).status_code == 404
    r = alice.put(folder["url"], {"public": "true"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["public"] is True
    assert anon.get(folder["url"]).status_code == 200
    assert names(anon, folder["files"], "fname") == {"home/alice/uploads/pub/p.txt"}
    r = anon.get(f"/api/v1/filebrowser/files/{item['id']}/p.txt")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"for everyone"
    public = folder_of(anon, "PUBLIC")
    assert names(anon, public["link_files"], "path") == {"home/alice/uploads/pub"}
    link = ChrisLinkFile.objects.get(fname="PUBLIC/home_alice_uploads_pub.chrislink")
    assert stored_bytes(link.fname) == b"home/alice/uploads/pub"
    # Public read is not write, and only the owner changes the flag.
    assert actors.client("bob").put(folder["url"], {"public": False}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.put(folder["url"], {"public": False}, format="json").status_code == 200
    assert anon.get(folder["url"]).status_code == 404
    assert names(anon, public["link_files"], "path") == set()
    assert not [k for k in stored_keys("PUBLIC") if "pub" in k]


@pytest.mark.django_db
@pytest.mark.parametrize("grantee", ["group", "user"])
def test_sharing_a_folder_grants_access_and_a_shared_link(actors, grantee, django_capture_on_commit_callbacks):
    from uploads.models import ChrisLinkFile

    alice, carol, bob = actors.client("alice"), actors.client("carol"), actors.client("bob")
    upload(alice, "home/alice/uploads/team/t.txt", b"team")
    folder = folder_of(alice, "home/alice/uploads/team")
    who = {"grp_name": "lab"} if grantee == "group" else {"username": "carol"}
    r = alice.post(folder[f"{grantee}_permissions"], {**who, "permission": "r"}, format="json", HTTP_ACCEPT=CJ)
    assert r.status_code == 201, r.content
    grant = cj_items(r)[0]
    assert grant["permission"] == "r" and grant["folder_id"] == folder["id"]
    assert (grant["group_name"] == "lab") if grantee == "group" else (grant["user_username"] == "carol")
    assert alice.post(folder[f"{grantee}_permissions"], {**who, "permission": "w"},
                      format="json").status_code == 400  # already granted: PUT changes it
    assert carol.get(folder["url"]).status_code == 200
    assert names(carol, folder["files"], "fname") == {"home/alice/uploads/team/t.txt"}
    assert bob.get(folder["url"]).status_code == 404
    shared = folder_of(carol, "SHARED")
    assert names(carol, shared["link_files"], "path") == {"home/alice/uploads/team"}
    assert names(bob, shared["link_files"], "path") == set()
    assert carol.put(folder["url"], {"public": True}, format="json").status_code == 403
    assert upload(carol, "home/alice/uploads/team/c.txt", b"c").status_code == 400
    key = "group_name=lab" if grantee == "group" else "username=carol"
    found = json_of(carol.get(f"{folder[f'{grantee}_permissions']}search/?{key}", HTTP_ACCEPT=JSON))
    assert [g["id"] for g in found["results"]] == [grant["id"]]
    assert carol.put(grant["href"], {"permission": "w"}, format="json").status_code == 403
    r = alice.put(grant["href"], {"permission": "w"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["permission"] == "w"
    assert upload(carol, "home/alice/uploads/team/c.txt", b"c").status_code == 201
    assert bob.get(grant["href"]).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.delete(grant["href"]).status_code == 204
    assert carol.get(folder["url"]).status_code == 404
    assert not ChrisLinkFile.objects.filter(fname__startswith="SHARED/").exists()
    assert stored_keys("SHARED") == []


@pytest.mark.django_db
def test_sharing_single_files_and_link_files(actors):
    alice, carol = actors.client("alice"), actors.client("carol")
    item = json_of(upload(alice, "home/alice/uploads/one.txt", b"one"))
    detail = json_of(alice.get(f"/api/v1/filebrowser/files/{item['id']}/", HTTP_ACCEPT=JSON))
    assert carol.get(detail["url"]).status_code == 404
    r = alice.post(detail["user_permissions"], {"username": "carol", "permission": "r"}, format="json",
                   HTTP_ACCEPT=JSON)
    assert r.status_code == 201 and json_of(r)["file_fname"] == "home/alice/uploads/one.txt"
    assert carol.get(detail["url"]).status_code == 200
    assert b"".join(carol.get(detail["file_resource"]).streaming_content) == b"one"
    assert carol.delete(detail["url"]).status_code == 403
    shared = folder_of(carol, "SHARED")
    assert names(carol, shared["link_files"], "path") == {"home/alice/uploads/one.txt"}
    links = json_of(carol.get(shared["link_files"], HTTP_ACCEPT=JSON))["results"]
    assert links[0]["linked_file"] == detail["url"]
    link = json_of(alice.get(folder_of(alice, "home/alice")["link_files"], HTTP_ACCEPT=JSON))["results"][0]
    r = alice.post(link["group_permissions"], {"grp_name": "lab"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 201 and json_of(r)["link_file_id"] == link["id"]
    assert carol.get(link["url"]).status_code == 200
    r = alice.post(link["group_permissions"], {"grp_name": "no-such-group"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "grp_name" in json_of(r)


@pytest.mark.django_db
def test_file_and_link_file_detail_moves_and_deletes(actors):
    from uploads.models import ChrisLinkFile

    alice = actors.client("alice")
    item = json_of(upload(alice, "home/alice/uploads/f.txt", b"f"))
    url = f"/api/v1/filebrowser/files/{item['id']}/"
    r = alice.put(url, {"new_file_path": "home/alice/uploads/g/f2.txt"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["fname"] == "home/alice/uploads/g/f2.txt"
    assert alice.put(url, {"new_file_path": "home/alice/uploads/x.chrislink"}, format="json").status_code == 400
    link = ChrisLinkFile.objects.get(fname="home/alice/public.chrislink")
    lurl = f"/api/v1/filebrowser/linkfiles/{link.id}/"
    r = alice.put(lurl, {"new_link_file_path": "home/alice/uploads/pub.chrislink"}, format="json",
                  HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["fname"] == "home/alice/uploads/pub.chrislink"
    assert stored_bytes("home/alice/uploads/pub.chrislink") == b"PUBLIC"
    for bad in ("home/alice/uploads/nolink", "home/alice/uploads/.chrislink", "home/bob/x.chrislink", "../x.chrislink"):
        assert alice.put(lurl, {"new_link_file_path": bad}, format="json").status_code == 400, bad
    r = alice.put(lurl, {"new_link_file_path": "/home/alice/uploads/pub.chrislink/"}, format="json")
    assert r.status_code == 400  # absolute
    alice.put(lurl, {"new_link_file_path": "home/alice/public.chrislink"}, format="json")
    assert alice.delete(lurl).status_code == 400  # a user's own public.chrislink stays
    assert alice.delete(url).status_code == 204
    assert "home/alice/uploads/g/f2.txt" not in stored_keys()


@pytest.mark.django_db
def test_deleting_a_folder_is_asynchronous_and_leaves_no_orphans(actors, eager_celery,
                                                                 django_capture_on_commit_callbacks):
    from uploads.models import ChrisFile, ChrisFolder, ChrisLinkFile
    from uploads.services import link_file_create

    alice = actors.client("alice")
    for i in range(12):
        upload(alice, f"home/alice/uploads/del/d{i % 3}/f{i}.bin", bytes([i]) * 100)
    link_file_create(owner=actors.alice, fname="home/alice/uploads/del/x.chrislink", target="home/alice/feeds")
    folder = folder_of(alice, "home/alice/uploads/del")
    alice.put(folder["url"], {"public": True}, format="json")
    alice.post(folder["group_permissions"], {"grp_name": "lab"}, format="json")
    outside_before = stored_keys("home/alice/uploads/welcome.txt")
    # Public, and shared with carol's group for reading: both may read, neither may delete.
    assert actors.client("bob").delete(folder["url"]).status_code == 403
    assert actors.client("carol").delete(folder["url"]).status_code == 403
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = alice.delete(folder["url"], HTTP_ACCEPT=JSON)
    assert r.status_code == 202, r.content
    assert json_of(r)["deletion_status"] == "pending"
    assert len(callbacks) >= 1
    # Storage: nothing under the folder, and no PUBLIC/ or SHARED/ link left pointing into it.
    assert stored_keys("home/alice/uploads/del") == []
    assert [k for k in stored_keys("PUBLIC") + stored_keys("SHARED") if "del" in k] == []
    assert stored_keys("home/alice/uploads/welcome.txt") == outside_before
    # Registry: no row under it, no dangling link.
    assert not ChrisFolder.objects.filter(path__startswith="home/alice/uploads/del").exists()
    assert not ChrisFile.objects.filter(fname__startswith="home/alice/uploads/del/").exists()
    assert not ChrisLinkFile.objects.filter(path__startswith="home/alice/uploads/del").exists()
    assert not ChrisLinkFile.objects.filter(fname__startswith="home/alice/uploads/del/").exists()
    assert alice.get(folder["url"]).status_code == 404
    home = folder_of(alice, "home/alice")
    assert alice.delete(home["url"]).status_code == 400
    assert alice.delete(folder_of(alice, "home/alice/feeds")["url"]).status_code == 400


@pytest.mark.django_db
def test_a_failed_deletion_is_marked_and_can_be_retried(actors, settings, monkeypatch):
    from uploads import deletion
    from uploads.models import ChrisFolder

    upload(actors.client("alice"), "home/alice/uploads/f/x.txt", b"x")
    folder = ChrisFolder.objects.get(path="home/alice/uploads/f")
    ChrisFolder.objects.filter(pk=folder.pk).update(deletion_status="pending")

    def broken(prefix: str) -> None:
        raise OSError("storage is down")

    from cube.storage import get_storage

    monkeypatch.setattr(get_storage(), "delete_prefix", broken)
    with pytest.raises(OSError):
        deletion.folder_delete(folder_id=folder.pk)
    folder.refresh_from_db()
    assert folder.deletion_status == "failed" and "storage is down" in folder.deletion_error
    monkeypatch.undo()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(deletion, "folder_delete", lambda **kw: None)  # the request only marks and enqueues
        deletion.folder_delete_request(folder=folder)
    folder.refresh_from_db()
    assert folder.deletion_status == "pending"
    deletion.folder_delete(folder_id=folder.pk)
    assert not ChrisFolder.objects.filter(pk=folder.pk).exists()
    assert stored_keys("home/alice/uploads/f") == []


@pytest.mark.django_db
def test_pages_from_either_end_of_a_listing_are_the_same_pages(actors):
    """Deep pages are read backwards from the end; every page must still be exactly the slice asked for."""
    from uploads.services import files_register, folder_get_or_create

    folder_get_or_create(path="home/alice/uploads/pages", owner=actors.alice)
    files_register(owner=actors.alice, objects=[(f"home/alice/uploads/pages/{i:03}", 1, "") for i in range(37)])
    url = folder_of(actors.client("alice"), "home/alice/uploads/pages")["files"]
    everything = [r["fname"] for r in json_of(actors.client("alice").get(f"{url}?limit=100",
                                                                          HTTP_ACCEPT=JSON))["results"]]
    assert len(everything) == 37 and everything == sorted(everything)
    for offset in (0, 5, 17, 18, 19, 30, 33, 36, 37, 50):
        for limit in (1, 4, 10):
            r = json_of(actors.client("alice").get(f"{url}?limit={limit}&offset={offset}", HTTP_ACCEPT=JSON))
            assert [row["fname"] for row in r["results"]] == everything[offset:offset + limit], (offset, limit)
            assert r["count"] == 37
