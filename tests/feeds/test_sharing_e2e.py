"""A shared feed over HTTP with the real worker: the sharee runs a plugin in the owner's feed to the end;
both read its outputs, a stranger does not; deleting the feed (owner only) removes its SHARED/ link."""

from __future__ import annotations

from typing import Any

import pytest

from tests.feeds.test_e2e_local import plugin_id, sign_up, wait_status

DONE = {"finishedSuccessfully", "finishedWithError"}


@pytest.mark.django_db(transaction=True)
def test_sharee_runs_a_plugin_in_a_shared_feed(server: Any) -> None:
    import time

    from django.contrib.auth.models import User

    from uploads.models import ChrisFile, ChrisLinkFile
    from uploads.services import file_store

    base = server.url
    alice, bobby, dave = sign_up(base, "alice"), sign_up(base, "bobby"), sign_up(base, "dave")
    file_store(owner=User.objects.get(username="alice"), path="home/alice/uploads/scan/a.bin", chunks=[b"1" * 10])
    r = alice.post(f"/api/v1/plugins/{plugin_id(alice, 'pl-dircopy')}/instances/", {"dir": "home/alice/uploads/scan"})
    fs = wait_status(alice, r.json()["url"], DONE)
    assert fs["status"] == "finishedSuccessfully", fs
    feed = alice.get(fs["feed"]).json()
    r = alice.post(feed["user_permissions"], {"username": "bobby"})
    assert r.status_code == 201, r.text
    # bobby finds the feed on his home page and runs a plugin in it.
    assert [f["id"] for f in bobby.get("/api/v1/").json()["results"]] == [feed["id"]]
    r = bobby.post(f"/api/v1/plugins/{plugin_id(bobby, 'pl-simpledsapp')}/instances/",
                   {"previous_id": fs["id"], "prefix": "b_"})
    assert r.status_code == 201, r.text
    run = wait_status(bobby, r.json()["url"], DONE)
    assert run["status"] == "finishedSuccessfully", run
    out = ChrisFile.objects.get(fname__startswith=run["output_path"] + "/", fname__endswith="b_a.bin")
    for client in (alice, bobby):
        assert client.get(f"/api/v1/filebrowser/files/{out.id}/").status_code == 200
        assert client.get(run["url"]).json()["owner_username"] == "bobby"
    assert dave.get(f"/api/v1/filebrowser/files/{out.id}/").status_code == 404
    assert dave.get(run["url"]).status_code == 404
    # bobby may not delete alice's feed; alice may, and the SHARED/ entry point goes with it.
    assert bobby.delete(feed["url"]).status_code == 403
    assert ChrisLinkFile.objects.filter(fname__startswith="SHARED/", path=feed["folder_path"]).exists()
    assert alice.delete(feed["url"]).status_code == 202
    deadline = time.monotonic() + 30
    while alice.get(feed["url"]).status_code != 404:
        assert time.monotonic() < deadline, "feed not deleted"
        time.sleep(0.1)
    assert not ChrisLinkFile.objects.filter(fname__startswith="SHARED/", path=feed["folder_path"]).exists()
    assert bobby.get("/api/v1/").json()["results"] == []
