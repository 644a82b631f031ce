"""Tags and taggings: who sees a tag (its owner, and whoever reads a feed carrying it; not everyone, as
in CUBE), who may tag a feed (write access to the feed and ownership of the tag), both media types."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CJ, cj_items, cj_links, json_of
from tests.feeds.social import delete, get, make_feed, make_people, post, post_cj, put, results


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    return make_people(system, make_user)


@pytest.mark.django_db
def test_root_links_tags(api: Any, people: Any) -> None:
    r = get(api, people["alice"], "/api/v1/", accept=CJ)
    assert cj_links(r)["tags"].endswith("/api/v1/tags/")
    # chrisapi's TagList.getFeeds follows the tag list's 'feeds' link to the API home.
    assert cj_links(get(api, people["alice"], "/api/v1/tags/", accept=CJ))["feeds"].endswith("/api/v1/")


@pytest.mark.django_db
def test_tag_create_list_search_and_matrix(api: Any, people: Any) -> None:
    alice, bobby, chris = people["alice"], people["bobby"], people["chris"]
    r = post(api, alice, "/api/v1/tags/", {"name": "brain", "color": "#ff0000"})
    assert r.status_code == 201, r.content
    tag = json_of(r)
    assert tag["owner_username"] == "alice" and tag["name"] == "brain" and tag["color"] == "#ff0000"
    # The Collection+JSON template, as python-chrisclient posts it.
    r = post_cj(api, alice, "/api/v1/tags/", {"name": "knee", "color": "blue"})
    assert r.status_code == 201, r.content
    assert cj_items(r)[0]["name"] == "knee"
    post(api, bobby, "/api/v1/tags/", {"name": "bobby's", "color": "green"})
    # Lists: your own tags only; the superuser sees all; anonymous sees none.
    assert {t["name"] for t in results(get(api, alice, "/api/v1/tags/"))} == {"brain", "knee"}
    assert len(results(get(api, chris, "/api/v1/tags/"))) == 3
    api.force_authenticate(None)
    assert json_of(api.get("/api/v1/tags/", HTTP_ACCEPT="application/json"))["results"] == []
    # Collection+JSON list: template and search query advertised.
    body = json_of(get(api, alice, "/api/v1/tags/", accept=CJ))["collection"]
    assert {d["name"] for d in body["template"]["data"]} == {"name", "color"}
    assert body["queries"][0]["href"].endswith("/api/v1/tags/search/")
    assert {d["name"] for d in body["queries"][0]["data"]} >= {"id", "name", "color", "owner_username"}
    assert [t["name"] for t in results(get(api, alice, "/api/v1/tags/search/?name=BRA"))] == ["brain"]
    assert results(get(api, alice, "/api/v1/tags/search/?owner_username=bobby")) == []
    assert len(results(get(api, chris, "/api/v1/tags/search/?owner_username=bobby"))) == 1
    # Detail: owner and superuser read and write; others do not even learn it exists.
    url = f"/api/v1/tags/{tag['id']}/"
    assert get(api, alice, url).status_code == 200
    assert get(api, chris, url).status_code == 200
    assert get(api, bobby, url).status_code == 404
    api.force_authenticate(None)
    assert api.get(url).status_code in (401, 404)
    assert api.put(url, {"name": "x"}, format="json").status_code == 401
    assert put(api, bobby, url, {"name": "stolen"}).status_code == 404
    assert delete(api, bobby, url).status_code == 404
    r = put(api, alice, url, {"name": "cortex"})
    assert r.status_code == 200 and json_of(r)["name"] == "cortex" and json_of(r)["color"] == "#ff0000"
    assert put(api, chris, url, {"color": "red"}).status_code == 200
    assert delete(api, alice, url).status_code == 204
    assert get(api, alice, url).status_code == 404


@pytest.mark.django_db
def test_tag_bad_input_is_400(api: Any, people: Any) -> None:
    alice = people["alice"]
    for body in ({}, {"name": "x"}, {"color": "red"}, {"name": "", "color": "red"},
                 {"name": "x" * 101, "color": "red"}, {"name": ["x"], "color": "red"}):
        r = post(api, alice, "/api/v1/tags/", body)
        assert r.status_code == 400, (body, r.content)
    api.force_authenticate(None)
    assert api.post("/api/v1/tags/", {"name": "a", "color": "b"}, format="json").status_code == 401
    tag = json_of(post(api, alice, "/api/v1/tags/", {"name": "a", "color": "b"}))
    assert put(api, alice, f"/api/v1/tags/{tag['id']}/", {"name": ""}).status_code == 400


@pytest.mark.django_db
def test_taggings(api: Any, people: Any) -> None:
    alice, bobby, chris = people["alice"], people["bobby"], people["chris"]
    feed = make_feed(alice, "scan")
    other = make_feed(bobby, "bobby's scan")
    tag = json_of(post(api, alice, "/api/v1/tags/", {"name": "brain", "color": "red"}))
    btag = json_of(post(api, bobby, "/api/v1/tags/", {"name": "mine", "color": "red"}))
    feed_item = json_of(get(api, alice, f"/api/v1/{feed.id}/"))
    assert feed_item["tags"].endswith(f"/api/v1/{feed.id}/tags/")
    assert feed_item["taggings"].endswith(f"/api/v1/{feed.id}/taggings/")
    # From the feed side: POST {tag_id} with your own tag on a feed you may write to.
    r = post(api, alice, feed_item["taggings"], {"tag_id": tag["id"]})
    assert r.status_code == 201, r.content
    tagging = json_of(r)
    assert (tagging["tag_id"], tagging["feed_id"], tagging["owner_username"]) == (tag["id"], feed.id, "alice")
    assert post(api, alice, feed_item["taggings"], {"tag_id": tag["id"]}).status_code == 400  # already
    assert post(api, alice, feed_item["taggings"], {"tag_id": btag["id"]}).status_code == 400  # not hers
    assert post(api, alice, feed_item["taggings"], {"tag_id": "x"}).status_code == 400
    assert post(api, alice, feed_item["taggings"], {}).status_code == 400
    assert post(api, bobby, feed_item["taggings"], {"tag_id": btag["id"]}).status_code == 404  # not his feed
    # From the tag side: POST {feed_id}.
    url = f"/api/v1/tags/{tag['id']}/taggings/"
    assert post(api, alice, url, {"feed_id": other.id}).status_code == 404  # bobby's private feed
    assert post(api, bobby, url, {"feed_id": other.id}).status_code == 404  # alice's tag, invisible to him
    assert post(api, alice, url, {"feed_id": "nope"}).status_code == 400
    feed2 = make_feed(alice, "second")
    r = post_cj(api, alice, url, {"feed_id": feed2.id})
    assert r.status_code == 201, r.content
    assert {t["feed_id"] for t in results(get(api, alice, url))} == {feed.id, feed2.id}
    assert {f["id"] for f in results(get(api, alice, f"/api/v1/tags/{tag['id']}/feeds/"))} == {feed.id, feed2.id}
    assert [t["name"] for t in results(get(api, alice, f"/api/v1/{feed.id}/tags/"))] == ["brain"]
    # Collection+JSON: the feed's tagging list links back to the feed and names its template.
    body = json_of(get(api, alice, f"/api/v1/{feed.id}/taggings/", accept=CJ))["collection"]
    assert [d["name"] for d in body["template"]["data"]] == ["tag_id"]
    assert {link["rel"] for link in body["links"]} >= {"feed"}
    # Strangers see nothing of a private feed's tags; the superuser sees everything.
    assert get(api, bobby, f"/api/v1/{feed.id}/tags/").status_code == 404
    assert get(api, bobby, f"/api/v1/taggings/{tagging['id']}/").status_code == 404
    assert get(api, chris, f"/api/v1/taggings/{tagging['id']}/").status_code == 200
    # A public feed shows its tags to anyone, anonymous included (and the tag itself, read-only).
    assert put(api, alice, f"/api/v1/{feed.id}/", {"public": True}).status_code == 200
    api.force_authenticate(None)
    assert [t["id"] for t in json_of(api.get(f"/api/v1/{feed.id}/tags/", HTTP_ACCEPT="application/json"))[
        "results"]] == [tag["id"]]
    assert api.get(f"/api/v1/tags/{tag['id']}/", HTTP_ACCEPT="application/json").status_code == 200
    assert get(api, bobby, f"/api/v1/tags/{tag['id']}/").status_code == 200
    assert put(api, bobby, f"/api/v1/tags/{tag['id']}/", {"name": "x"}).status_code == 403
    assert [f["id"] for f in results(get(api, bobby, f"/api/v1/tags/{tag['id']}/feeds/"))] == [feed.id]
    assert [t["feed_id"] for t in results(get(api, bobby, url))] == [feed.id]  # feed2 stays private
    assert delete(api, bobby, f"/api/v1/taggings/{tagging['id']}/").status_code == 403
    # Untagging: the tag's owner (or the feed's owner, or the superuser).
    assert delete(api, alice, f"/api/v1/taggings/{tagging['id']}/").status_code == 204
    assert results(get(api, alice, f"/api/v1/{feed.id}/tags/")) == []
    tagging2 = results(get(api, alice, url))[0]
    assert delete(api, chris, f"/api/v1/taggings/{tagging2['id']}/").status_code == 204
    # Deleting a tag removes its taggings; the feeds stay.
    post(api, alice, url, {"feed_id": feed.id})
    assert delete(api, alice, f"/api/v1/tags/{tag['id']}/").status_code == 204
    from feeds.models import Feed, Tagging

    assert Tagging.objects.count() == 0 and Feed.objects.filter(id=feed.id).exists()


@pytest.mark.django_db
def test_tag_lists_are_bounded_in_queries(api: Any, people: Any, django_assert_max_num_queries: Any) -> None:
    alice = people["alice"]
    feed = make_feed(alice)
    for i in range(8):
        t = json_of(post(api, alice, "/api/v1/tags/", {"name": f"t{i}", "color": "red"}))
        post(api, alice, f"/api/v1/{feed.id}/taggings/", {"tag_id": t["id"]})
    for url in ("/api/v1/tags/", f"/api/v1/{feed.id}/tags/", f"/api/v1/{feed.id}/taggings/"):
        for limit in (1, 8):
            with django_assert_max_num_queries(8):
                r = get(api, alice, f"{url}?limit={limit}")
            assert len(json_of(r)["results"]) == limit


@pytest.mark.django_db
def test_malformed_bodies_are_4xx_never_500(api: Any, people: Any) -> None:
    """Every write endpoint of tags, notes, comments, shares and workflows, given a JSON array, a broken
    JSON document or a broken Collection+JSON one."""
    from feeds.models import PluginInstance, Status
    from tests.feeds.social import make_pipeline

    alice = people["alice"]
    feed = make_feed(alice)
    root = feed.plugin_instances.get()
    PluginInstance.objects.filter(id=root.id).update(status=Status.SUCCEEDED)
    tag = json_of(post(api, alice, "/api/v1/tags/", {"name": "t", "color": "c"}))
    comment = json_of(post(api, alice, f"/api/v1/{feed.id}/comments/", {"title": "c"}))
    pipeline = make_pipeline(alice)
    wf = json_of(post(api, alice, f"/api/v1/pipelines/{pipeline.id}/workflows/", {"previous_plugin_inst_id": root.id}))
    posts = ["/api/v1/tags/", f"/api/v1/tags/{tag['id']}/taggings/", f"/api/v1/{feed.id}/taggings/",
             f"/api/v1/{feed.id}/comments/", f"/api/v1/{feed.id}/userpermissions/",
             f"/api/v1/{feed.id}/grouppermissions/", f"/api/v1/pipelines/{pipeline.id}/workflows/",
             f"/api/v1/plugins/instances/{root.id}/splits/"]
    puts = [f"/api/v1/tags/{tag['id']}/", f"/api/v1/note{feed.note.id}/", comment["url"], wf["url"]]
    api.force_authenticate(alice)
    for url in posts + puts:
        send = api.post if url in posts else api.put
        for body, ctype in (("[1, 2]", "application/json"), ("{broken", "application/json"),
                            ('{"template": 5}', "application/vnd.collection+json"), ("\x00\xff", "text/plain")):
            r = send(url, body, content_type=ctype, HTTP_ACCEPT="application/json")
            assert 400 <= r.status_code < 500, (url, body, r.status_code, r.content)
