"""The feed note (created with the feed, at CUBE's slash-less ``note<pk>/``) and comments: the permission
matrix (owner, stranger, a group the feed is shared with, anonymous, the superuser) and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CJ, cj_items, json_of
from tests.feeds.social import delete, get, make_feed, make_people, post, post_cj, put, results


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    return make_people(system, make_user)


def share_with_lab(feed: Any, lab: Any) -> None:
    from feeds.models import FeedGroupPermission

    FeedGroupPermission.objects.create(feed=feed, group=lab)


@pytest.mark.django_db
def test_note_created_with_the_feed_and_its_matrix(api: Any, people: Any) -> None:
    alice, bobby, carol, chris = people["alice"], people["bobby"], people["carol"], people["chris"]
    feed = make_feed(alice, "scan")
    item = json_of(get(api, alice, f"/api/v1/{feed.id}/"))
    note_url = item["note"]
    assert note_url.endswith(f"/api/v1/note{feed.note.id}/")  # sic: no slash, as CUBE
    note = json_of(get(api, alice, note_url))
    assert (note["title"], note["content"]) == ("", "")
    assert note["feed"].endswith(f"/api/v1/{feed.id}/")
    # Collection+JSON: the note's template.
    body = json_of(get(api, alice, note_url, accept=CJ))["collection"]
    assert {d["name"] for d in body["template"]["data"]} == {"title", "content"}
    assert cj_items(get(api, alice, note_url, accept=CJ))[0]["title"] == ""
    r = put(api, alice, note_url, {"title": "Findings", "content": "left hemisphere"})
    assert r.status_code == 200 and json_of(r)["content"] == "left hemisphere"
    assert get(api, bobby, note_url).status_code == 404
    assert put(api, bobby, note_url, {"title": "x"}).status_code == 404
    api.force_authenticate(None)
    assert api.get(note_url).status_code == 404
    assert api.put(note_url, {"title": "x"}, format="json").status_code == 401
    assert put(api, chris, note_url, {"content": "reviewed"}).status_code == 200
    # A group the feed is shared with writes the note; a public feed's note is readable by all.
    assert get(api, carol, note_url).status_code == 404
    share_with_lab(feed, people["lab"])
    assert put(api, carol, note_url, {"title": "lab notes"}).status_code == 200
    assert put(api, alice, f"/api/v1/{feed.id}/", {"public": True}).status_code == 200
    api.force_authenticate(None)
    assert json_of(api.get(note_url, HTTP_ACCEPT="application/json"))["title"] == "lab notes"
    assert put(api, bobby, note_url, {"title": "x"}).status_code == 403
    # Bad input.
    assert put(api, alice, note_url, {"title": "x" * 101}).status_code == 400
    assert put(api, alice, note_url, {"content": 5}).status_code == 400
    assert get(api, alice, "/api/v1/note999999/").status_code == 404


@pytest.mark.django_db
def test_comments_matrix(api: Any, people: Any) -> None:
    alice, bobby, carol, chris = people["alice"], people["bobby"], people["carol"], people["chris"]
    feed = make_feed(alice, "scan")
    url = json_of(get(api, alice, f"/api/v1/{feed.id}/"))["comments"]
    assert url.endswith(f"/api/v1/{feed.id}/comments/")
    r = post(api, alice, url, {"title": "first", "content": "looks fine"})
    assert r.status_code == 201, r.content
    mine = json_of(r)
    assert mine["owner_username"] == "alice" and mine["feed_id"] == feed.id
    # Strangers and anonymous: neither read nor write a private feed's comments.
    assert get(api, bobby, url).status_code == 404
    assert post(api, bobby, url, {"title": "spam"}).status_code == 404
    assert get(api, bobby, mine["url"]).status_code == 404
    api.force_authenticate(None)
    assert api.get(url).status_code == 404
    assert api.post(url, {"title": "x"}, format="json").status_code == 401
    # The lab (shared) comments; a Collection+JSON template works too.
    share_with_lab(feed, people["lab"])
    r = post_cj(api, carol, url, {"title": "from the lab", "content": "agree"})
    assert r.status_code == 201, r.content
    theirs = cj_items(r)[0]
    assert [c["title"] for c in results(get(api, carol, url))] == ["first", "from the lab"]
    body = json_of(get(api, carol, url, accept=CJ))["collection"]
    assert body["queries"][0]["href"].endswith(f"/api/v1/{feed.id}/comments/search/")
    assert [c["id"] for c in results(get(api, alice, f"{url}search/?id={mine['id']}"))] == [mine["id"]]
    # Editing: only the author (or the superuser). Deleting: the author, the feed's owner, the superuser.
    assert put(api, alice, theirs["href"], {"content": "disagree"}).status_code == 403
    assert put(api, carol, theirs["href"], {"content": "strongly agree"}).status_code == 200
    assert put(api, chris, theirs["href"], {"title": "moderated"}).status_code == 200
    assert delete(api, carol, mine["url"]).status_code == 403
    assert put(api, carol, mine["url"], {"title": "x"}).status_code == 403
    assert delete(api, alice, theirs["href"]).status_code == 204
    assert put(api, alice, mine["url"], {"title": "x" * 101}).status_code == 400
    assert delete(api, chris, mine["url"]).status_code == 204
    assert results(get(api, alice, url)) == []
    # Public feed: everyone reads its comments; only those who may write to it comment.
    post(api, alice, url, {"title": "published"})
    put(api, alice, f"/api/v1/{feed.id}/", {"public": True})
    api.force_authenticate(None)
    assert len(json_of(api.get(url, HTTP_ACCEPT="application/json"))["results"]) == 1
    assert post(api, bobby, url, {"title": "drive-by"}).status_code == 403
    # Bad input.
    assert post(api, alice, url, {"title": "x" * 101}).status_code == 400
    assert post(api, alice, url, {"content": ["list"]}).status_code == 400
    assert post(api, alice, "/api/v1/999999/comments/", {"title": "x"}).status_code == 404
    # Comments go with their feed.
    from feeds.models import Comment, Note

    feed.delete()
    assert Comment.objects.count() == 0 and Note.objects.count() == 0


@pytest.mark.django_db
def test_feed_item_links(api: Any, people: Any) -> None:
    """The feed item carries the links @fnndsc/chrisapi's Feed navigates by."""
    feed = make_feed(people["alice"])
    item = cj_items(get(api, people["alice"], f"/api/v1/{feed.id}/", accept=CJ))[0]
    assert {"note", "tags", "taggings", "comments", "plugin_instances", "folder"} <= set(item["links"])
