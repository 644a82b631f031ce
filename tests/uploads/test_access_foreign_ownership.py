"""What one creates in another user's home with a 'w' grant is not one's own to keep.

Finding of the access audit: a folder or a file made by a grantee inside someone else's home was owned by
the grantee, and ownership gave full rights over it and below it. So a grantee could make it public or
share it (the folder's owner had granted write, not the right to publish or re-share), move the owner's
files into it and publish those, and kept every right over it (and over whatever the owner put in it
later) after the grant was revoked. Now, inside home/<user>/, rights come from <user>'s ownership and
from grants only; the creator's name stays on the rows (uploads are still listed as theirs)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.uploads.conftest import upload

JSON = "application/json"


@pytest.mark.django_db
def test_a_grantee_does_not_own_what_they_create_in_anothers_home(actors: Any) -> None:
    from uploads.services import file_store, folder_get_or_create
    from uploads.sharing import grant_create, grant_delete

    shared = folder_get_or_create(path="home/alice/uploads/lab", owner=actors.alice)
    grant = grant_create(obj=shared, permission="w", group=actors.lab)
    carol = actors.client("carol")
    r = carol.post("/api/v1/filebrowser/", {"path": "home/alice/uploads/lab/mine"}, format="json",
                   HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
    mine = r.json()["id"]
    r = upload(carol, "home/alice/uploads/lab/mine/up.txt", b"u")
    assert r.status_code == 201, r.content
    up = r.json()["id"]
    alices = file_store(owner=actors.alice, path="home/alice/uploads/lab/data.txt", chunks=[b"a"])
    # While granted: carol writes there (creates, moves alice's file in), but publishing and sharing are
    # for alice (and the superuser).
    r = carol.put(f"/api/v1/filebrowser/files/{alices.id}/",
                  {"new_file_path": "home/alice/uploads/lab/mine/data.txt"}, format="json")
    assert r.status_code == 200, r.content
    assert carol.put(f"/api/v1/filebrowser/{mine}/", {"public": True}, format="json").status_code == 403
    assert carol.put(f"/api/v1/filebrowser/files/{up}/", {"public": True}, format="json").status_code == 403
    r = carol.post(f"/api/v1/filebrowser/{mine}/userpermissions/", {"username": "bob", "permission": "r"},
                   format="json")
    assert r.status_code == 403
    assert actors.client("bob").get(f"/api/v1/filebrowser/files/{alices.id}/").status_code == 404
    # Revoked: nothing is left to carol, not even what she made.
    grant_delete(grant=grant)
    for url in (f"/api/v1/filebrowser/{mine}/", f"/api/v1/filebrowser/files/{up}/",
                f"/api/v1/filebrowser/files/{up}/up.txt", f"/api/v1/filebrowser/files/{alices.id}/"):
        assert carol.get(url).status_code == 404, url
    assert carol.post("/api/v1/filebrowser/", {"path": "home/alice/uploads/lab/mine/more"},
                      format="json").status_code == 400
    # alice has every right over all of it, carol's name stays on what she made.
    alice = actors.client("alice")
    r = alice.get(f"/api/v1/filebrowser/files/{up}/", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and r.json()["owner_username"] == "carol"
    assert alice.put(f"/api/v1/filebrowser/{mine}/", {"public": True}, format="json").status_code == 200
    assert actors.client("anon").get(f"/api/v1/filebrowser/files/{up}/").status_code == 200


@pytest.mark.django_db
def test_userfiles_lists_only_what_its_caller_may_open(actors: Any) -> None:
    """/userfiles/ (and /uploadedfiles/) listed every file one had created, including those in another
    user's home after the grant was revoked: names and sizes of files whose detail is a 404."""
    from uploads.services import folder_get_or_create
    from uploads.sharing import grant_create, grant_delete

    shared = folder_get_or_create(path="home/alice/uploads/lab", owner=actors.alice)
    grant = grant_create(obj=shared, permission="w", group=actors.lab)
    carol = actors.client("carol")
    assert upload(carol, "home/alice/uploads/lab/theirs.txt", b"t").status_code == 201
    assert upload(carol, "home/carol/uploads/mine.txt", b"m").status_code == 201
    grant_delete(grant=grant)
    for url in ("/api/v1/userfiles/", "/api/v1/uploadedfiles/"):
        body = carol.get(url, HTTP_ACCEPT=JSON).json()
        names = [row["fname"].rsplit("/", 1)[-1] for row in body["results"]]
        assert "theirs.txt" not in names and "mine.txt" in names, (url, names)
        for row in body["results"]:
            assert carol.get(row["url"]).status_code == 200, row
