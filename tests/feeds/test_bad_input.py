"""Text PostgreSQL cannot store (NUL) in the bodies of the feeds' endpoints: a 400 naming the field in the
client's media type, never a 500, and nothing stored or changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CJ, json_of
from tests.feeds.social import make_feed, make_people, post, post_cj, put

NUL = "a\x00b"


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    return make_people(system, make_user)


def assert_400_naming(response: Any, field: str) -> None:
    assert response.status_code == 400, response.content
    if response["Content-Type"].startswith(CJ):
        assert field in json_of(response)["collection"]["error"]["message"]
    else:
        assert field in json_of(response), response.content


@pytest.mark.django_db
def test_nul_in_tag_note_and_comment_text_is_a_400_and_stores_nothing(api: Any, people: Any) -> None:
    from feeds.models import Comment, Tag

    alice = people["alice"]
    feed = make_feed(alice, "scan")
    tags_before, comments_before = Tag.objects.count(), Comment.objects.count()
    for field in ("name", "color"):
        body = {"name": "t", "color": "red", field: NUL}
        assert_400_naming(post(api, alice, "/api/v1/tags/", body), field)
        assert_400_naming(post_cj(api, alice, "/api/v1/tags/", body), field)
    assert Tag.objects.count() == tags_before
    r = post(api, alice, "/api/v1/tags/", {"name": "kept", "color": "blue"})
    assert r.status_code == 201, r.content
    tag_url = json_of(r)["url"]
    for field in ("name", "color"):
        assert_400_naming(put(api, alice, tag_url, {field: NUL}), field)
    assert (Tag.objects.get(name="kept").color, Tag.objects.filter(name="kept").count()) == ("blue", 1)

    comments_url = f"/api/v1/{feed.id}/comments/"
    for field in ("title", "content"):
        assert_400_naming(post(api, alice, comments_url, {field: NUL}), field)
        assert_400_naming(post_cj(api, alice, comments_url, {field: NUL}), field)
    assert Comment.objects.count() == comments_before
    r = post(api, alice, comments_url, {"title": "first", "content": "fine"})
    assert r.status_code == 201, r.content
    for field in ("title", "content"):
        assert_400_naming(put(api, alice, json_of(r)["url"], {field: NUL}), field)
        assert_400_naming(put(api, alice, f"/api/v1/note{feed.note.id}/", {field: NUL}), field)
    comment = Comment.objects.get(feed=feed)
    feed.note.refresh_from_db()
    assert (comment.title, comment.content, feed.note.title, feed.note.content) == ("first", "fine", "", "")


@pytest.mark.django_db
def test_nul_in_feed_and_run_fields_is_a_400_and_changes_nothing(api: Any, people: Any) -> None:
    from feeds.models import Feed, PluginInstance

    alice = people["alice"]
    feed = make_feed(alice, "scan")
    run = feed.plugin_instances.get()
    assert_400_naming(put(api, alice, f"/api/v1/{feed.id}/", {"name": NUL}), "name")
    assert_400_naming(put(api, alice, f"/api/v1/plugins/instances/{run.id}/", {"title": NUL}), "title")
    feed.refresh_from_db()
    run.refresh_from_db()
    assert (feed.name, run.title) == ("scan", "scan")
    runs_before, feeds_before = PluginInstance.objects.count(), Feed.objects.count()
    dircopy = run.plugin_id
    for body, field in (({"dir": f"home/alice/uploads/{NUL}"}, "dir"),
                        ({"dir": "home/alice/uploads", "title": NUL}, "title")):
        assert_400_naming(post(api, alice, f"/api/v1/plugins/{dircopy}/instances/", body), field)
        assert_400_naming(post_cj(api, alice, f"/api/v1/plugins/{dircopy}/instances/", body), field)
    assert (PluginInstance.objects.count(), Feed.objects.count()) == (runs_before, feeds_before)


# Numbers Python cannot take as given: '²' passes str.isdigit() but not int(), int() refuses more than 4300
# digits, and float('9' * 400) or JSON's 1e400 is infinity, which int() refuses too.
UNNUMBERS = ("²", "9" * 5000, "9" * 400, 1e300)


@pytest.mark.django_db
def test_run_limits_and_workflow_ids_python_cannot_convert_are_400s(api: Any, people: Any) -> None:
    import json

    from feeds.models import PluginInstance
    from plugins.models import Plugin
    from tests.feeds.social import finished_root, make_pipeline

    alice = people["alice"]
    root = finished_root(alice)
    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    runs = PluginInstance.objects.count()
    for value in UNNUMBERS:
        for field in ("cpu_limit", "memory_limit"):
            body = {"previous_id": root.id, field: value}
            assert_400_naming(post(api, alice, f"/api/v1/plugins/{ds.id}/instances/", body), field)
            assert_400_naming(post_cj(api, alice, f"/api/v1/plugins/{ds.id}/instances/", body), field)
    assert PluginInstance.objects.count() == runs
    pipeline = make_pipeline(alice)
    url = f"/api/v1/pipelines/{pipeline.id}/workflows/"
    for value in ("²", "9" * 5000, "9" * 30, -1):
        nodes = json.dumps([{"piping_id": value, "compute_resource_name": "host"}])
        body = {"title": "w", "previous_plugin_inst_id": root.id, "nodes_info": nodes}
        assert_400_naming(post(api, alice, url, body), "nodes_info")
        assert_400_naming(post_cj(api, alice, url, body), "nodes_info")
    assert PluginInstance.objects.count() == runs
