"""What a feed's sharee may not do by a side door: a sharee writes to the feed (runs plugins, edits the
note, tags) but does not delete it, and a share that is revoked leaves nothing behind to act with.

Each test is one finding of the access audit: it failed before its fix.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.feeds.social import delete, finished_root, get, make_people, make_pipeline, post, put


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    return make_people(system, make_user)


def _share(api: Any, people: Any, feed: Any) -> None:
    assert post(api, people["alice"], f"/api/v1/{feed.id}/userpermissions/", {"username": "bobby"}).status_code == 201
    assert post(api, people["alice"], f"/api/v1/{feed.id}/grouppermissions/", {"grp_name": "lab"}).status_code == 201


@pytest.mark.django_db
def test_sharee_cannot_delete_or_move_the_feed_folder_through_the_file_browser(
        api: Any, people: Any, django_capture_on_commit_callbacks: Any) -> None:
    """The share's 'w' grant on the feed's folder let a sharee DELETE /filebrowser/<feed folder>/ (the
    whole feed's data, which the feed API refuses them) or move it into their own home."""
    from uploads.models import ChrisFolder
    from uploads.services import file_store

    root = finished_root(people["alice"])
    feed = root.feed
    _share(api, people, feed)
    run_dir = root.output_folder.path.rsplit("/", 1)[0]  # home/alice/feeds/feed_<id>/pl-dircopy_<id>
    out = file_store(owner=people["alice"], path=f"{root.output_folder.path}/result.txt", chunks=[b"r"])
    folders = {"feed": feed.folder, "run": ChrisFolder.objects.get(path=run_dir), "data": root.output_folder}
    for who in ("bobby", "carol"):
        for name, folder in folders.items():
            url = f"/api/v1/filebrowser/{folder.id}/"
            with django_capture_on_commit_callbacks(execute=False):
                assert delete(api, people[who], url).status_code == 403, (who, name)
            moved = f"home/{who}/uploads/{name}-taken"
            assert put(api, people[who], url, {"path": moved}).status_code == 403, (who, name)
            assert not ChrisFolder.objects.filter(path=moved).exists()
    assert {f.path: f.deletion_status for f in ChrisFolder.objects.filter(
        pk__in=[f.pk for f in folders.values()])} == {f.path: "inactive" for f in folders.values()}
    # The sharee still writes to the feed: reads and deletes a single output file, as before.
    assert get(api, people["bobby"], f"/api/v1/filebrowser/{feed.folder.id}/").status_code == 200
    assert delete(api, people["bobby"], f"/api/v1/filebrowser/files/{out.id}/").status_code == 204
    # The owner keeps every right over her folders (here: renaming her run's data folder and back).
    url = f"/api/v1/filebrowser/{folders['data'].id}/"
    assert put(api, people["alice"], url, {"path": f"{run_dir}/renamed"}).status_code == 200
    assert put(api, people["alice"], url, {"path": f"{run_dir}/data"}).status_code == 200


@pytest.mark.django_db
def test_sharee_cannot_delete_the_owners_runs_by_deleting_their_own_run(
        api: Any, people: Any, django_capture_on_commit_callbacks: Any) -> None:
    """Deleting a run deletes everything below it. A sharee may delete their own run, but when the feed's
    owner has run plugins below it, that would delete the owner's work: refused (403), nothing marked."""
    from feeds.models import PluginInstance, Status
    from plugins.models import Plugin

    root = finished_root(people["alice"])
    _share(api, people, root.feed)
    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    bobby_run = post(api, people["bobby"], f"/api/v1/plugins/{ds.id}/instances/", {"previous_id": root.id}).json()
    PluginInstance.objects.filter(id=bobby_run["id"]).update(status=Status.SUCCEEDED)
    r = post(api, people["alice"], f"/api/v1/plugins/{ds.id}/instances/", {"previous_id": bobby_run["id"]})
    alice_run = r.json()
    with django_capture_on_commit_callbacks(execute=False):
        assert delete(api, people["bobby"], bobby_run["url"]).status_code == 403
    assert set(PluginInstance.objects.filter(id__in=[bobby_run["id"], alice_run["id"]]).values_list(
        "deletion_status", flat=True)) == {"inactive"}
    # A run whose subtree is all the sharee's own is still theirs to delete.
    mine = post(api, people["bobby"], f"/api/v1/plugins/{ds.id}/instances/", {"previous_id": root.id}).json()
    with django_capture_on_commit_callbacks(execute=False):
        assert delete(api, people["bobby"], mine["url"]).status_code == 202
    # The feed's owner deletes any subtree.
    with django_capture_on_commit_callbacks(execute=False):
        assert delete(api, people["alice"], bobby_run["url"]).status_code == 202


@pytest.mark.django_db
def test_revoked_sharee_cannot_change_or_delete_their_workflow(
        api: Any, people: Any, django_capture_on_commit_callbacks: Any) -> None:
    """A workflow's owner renamed or deleted it (deleting cancels its active runs, and theirs below them)
    even after the feed they ran it in was unshared from them: they no longer have any access to it."""
    from feeds.models import PluginInstance, Status

    root = finished_root(people["alice"])
    _share(api, people, root.feed)
    pipeline = make_pipeline(people["alice"])
    r = post(api, people["bobby"], f"/api/v1/pipelines/{pipeline.id}/workflows/", {"previous_plugin_inst_id": root.id})
    assert r.status_code == 201, r.content
    wf = r.json()
    share = get(api, people["alice"], f"/api/v1/{root.feed_id}/userpermissions/").json()["results"][0]
    assert delete(api, people["alice"], share["url"]).status_code == 204
    # It is gone from their view with the feed (its title and job counts describe runs they may not see).
    assert get(api, people["bobby"], wf["url"]).status_code == 404
    assert wf["id"] not in [w["id"] for w in get(api, people["bobby"], "/api/v1/pipelines/workflows/").json()["results"]]
    assert put(api, people["bobby"], wf["url"], {"title": "still mine?"}).status_code == 404
    with django_capture_on_commit_callbacks(execute=False):
        assert delete(api, people["bobby"], wf["url"]).status_code == 404
    # Published, the feed is readable again and so is the workflow, but reading is not writing.
    assert put(api, people["alice"], f"/api/v1/{root.feed_id}/", {"public": True}).status_code == 200
    assert get(api, people["bobby"], wf["url"]).status_code == 200
    assert put(api, people["bobby"], wf["url"], {"title": "still mine?"}).status_code == 403
    with django_capture_on_commit_callbacks(execute=False):
        assert delete(api, people["bobby"], wf["url"]).status_code == 403
    runs = PluginInstance.objects.filter(workflow_id=wf["id"])
    assert runs.count() == 4 and not runs.filter(status=Status.CANCELLED).exists()
    # The superuser still may.
    assert put(api, people["chris"], wf["url"], {"title": "by chris"}).status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        assert delete(api, people["chris"], wf["url"]).status_code == 204


@pytest.mark.django_db
def test_sharee_cannot_publish_or_keep_feed_data_through_a_folder_they_made(api: Any, people: Any) -> None:
    """A sharee made a folder in the feed, moved the owner's outputs into it and published it (a sharee may
    not publish the feed), and kept it after the share was revoked: they owned that folder."""
    from uploads.services import file_store

    root = finished_root(people["alice"])
    feed = root.feed
    _share(api, people, feed)
    out = file_store(owner=people["alice"], path=f"{root.output_folder.path}/scan.txt", chunks=[b"s"])
    r = post(api, people["bobby"], "/api/v1/filebrowser/", {"path": f"{feed.folder.path}/bobby"})
    assert r.status_code == 201, r.content
    mine = r.json()["id"]
    r = put(api, people["bobby"], f"/api/v1/filebrowser/files/{out.id}/", {"new_file_path": f"{feed.folder.path}/bobby/scan.txt"})
    assert r.status_code == 200, r.content
    assert put(api, people["bobby"], f"/api/v1/filebrowser/{mine}/", {"public": True}).status_code == 403
    api.force_authenticate(None)
    assert api.get(f"/api/v1/filebrowser/files/{out.id}/").status_code == 404
    share = get(api, people["alice"], f"/api/v1/{feed.id}/userpermissions/").json()["results"][0]
    assert delete(api, people["alice"], share["url"]).status_code == 204
    assert get(api, people["bobby"], f"/api/v1/filebrowser/{mine}/").status_code == 404
    assert get(api, people["bobby"], f"/api/v1/filebrowser/files/{out.id}/").status_code == 404


@pytest.mark.django_db
def test_a_runs_logs_do_not_hand_its_job_token_to_their_readers(api: Any, people: Any) -> None:
    """A job's token acts as the run's owner while the job runs, and a plugin that prints its environment
    (many do, when verbose) wrote it into the logs that every reader of the feed may fetch: a sharee, or
    anyone at all on a public feed, could then act as the feed's owner. The logs endpoint masks it."""
    from feeds.jobtokens import job_token
    from feeds.models import PluginInstance, Status
    from feeds.services.instances import feed_update

    root = finished_root(people["alice"])
    feed_update(feed=root.feed, public=True)
    token = job_token(root)
    PluginInstance.objects.filter(id=root.id).update(status=Status.SCHEDULED,
                                                     job_logs=f"starting\nCHRIS_USER_TOKEN={token}\ndone\n")
    # The token is worth stealing: it signs in as alice.
    api.force_authenticate(None)
    r = api.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json")
    assert [f["id"] for f in r.json()["results"]] == [root.feed_id]
    for user in (None, people["bobby"], people["alice"]):
        api.force_authenticate(user)
        r = api.get(f"/api/v1/plugins/instances/{root.id}/logs/", HTTP_ACCEPT="application/json")
        assert r.status_code == 200
        logs = r.json()["logs"]
        assert token not in logs and token.split(":")[-1] not in logs
        assert logs.startswith("starting\nCHRIS_USER_TOKEN=job.") and logs.endswith("\ndone\n")


@pytest.mark.django_db
def test_a_revoked_sharee_no_longer_edits_their_comments(api: Any, people: Any) -> None:
    """Commenting needs write access to the feed, but editing one's comment needed only authorship: after
    the share was revoked, a former sharee could still rewrite what the feed shows (on a public feed, to
    everyone). They may still delete their own words."""
    from feeds.services.instances import feed_update

    root = finished_root(people["alice"])
    feed = root.feed
    feed_update(feed=feed, public=True)
    _share(api, people, feed)
    r = post(api, people["bobby"], f"/api/v1/{feed.id}/comments/", {"title": "t", "content": "fine"})
    assert r.status_code == 201, r.content
    comment = r.json()["url"]
    assert put(api, people["bobby"], comment, {"content": "still fine"}).status_code == 200
    share = get(api, people["alice"], f"/api/v1/{feed.id}/userpermissions/").json()["results"][0]
    assert delete(api, people["alice"], share["url"]).status_code == 204
    assert put(api, people["bobby"], comment, {"content": "defaced"}).status_code == 403
    assert get(api, None, comment).json()["content"] == "still fine"
    assert delete(api, people["bobby"], comment).status_code == 204



@pytest.mark.django_db
def test_a_public_feeds_readers_do_not_learn_its_sharees_from_the_file_browser(
        api: Any, people: Any, make_user: Any) -> None:
    """The feed API hides who a feed is shared with from those who may only read it, but the grants the
    shares put on the feed's folder were listed by the file browser to every signed-in reader of a public
    feed. Inside a feed, grants are now shown to those who may write to the object."""
    from feeds.services.instances import feed_update

    dave = make_user("dave")  # a stranger: he reads the feed because it is public
    root = finished_root(people["alice"])
    feed = root.feed
    feed_update(feed=feed, public=True)
    _share(api, people, feed)
    folder = feed.folder.id
    grant = get(api, people["alice"], f"/api/v1/filebrowser/{folder}/userpermissions/").json()["results"][0]
    urls = [f"/api/v1/filebrowser/{folder}/userpermissions/", f"/api/v1/filebrowser/{folder}/grouppermissions/",
            f"/api/v1/filebrowser/{folder}/userpermissions/search/?username=bobby", grant["url"]]
    assert get(api, dave, f"/api/v1/{feed.id}/userpermissions/").status_code == 403  # the feed API's rule
    for url in urls:
        for who in (people["alice"], people["chris"], people["bobby"], people["carol"]):
            assert get(api, who, url).status_code == 200, (who, url)
        r = get(api, dave, url)
        assert r.status_code == 403 and b"bobby" not in r.content and b"lab" not in r.content, (url, r.content)
