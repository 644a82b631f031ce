"""Sharing a feed with a user or a group: the sharee reads and writes the feed (runs plugins in it, edits
its note, tags it) and its files, through one folder grant and a SHARED/ link; only the owner or the
superuser deletes the feed, publishes it or changes who it is shared with (CUBE lets a sharee delete
the feed). Revoking removes access, and the SHARED/ link once nobody holds a share."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CJ, cj_items, json_of
from tests.feeds.social import delete, get, make_feed, make_people, post, post_cj, put, results


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    users = make_people(system, make_user)
    users["dave"] = make_user("dave")  # a stranger to every feed here
    return users


def shared_link(feed: Any) -> Any:
    from uploads.models import ChrisLinkFile

    return ChrisLinkFile.objects.filter(fname__startswith="SHARED/", path=feed.folder.path).first()


@pytest.mark.django_db
def test_share_with_a_user_matrix(api: Any, people: Any) -> None:
    from plugins.models import Plugin
    from uploads.services import file_store

    alice, bobby, dave, chris = people["alice"], people["bobby"], people["dave"], people["chris"]
    feed = make_feed(alice, "scan")
    root = feed.plugin_instances.get()
    out = file_store(owner=alice, path=f"{root.output_folder.path}/result.txt", chunks=[b"r"])
    item = json_of(get(api, alice, f"/api/v1/{feed.id}/"))
    url = item["user_permissions"]
    assert url.endswith(f"/api/v1/{feed.id}/userpermissions/")
    # Before: bobby sees nothing of the feed.
    assert get(api, bobby, f"/api/v1/{feed.id}/").status_code == 404
    assert get(api, bobby, f"/api/v1/filebrowser/files/{out.id}/").status_code == 404
    # Only the owner (or the superuser) shares it.
    assert post(api, bobby, url, {"username": "bobby"}).status_code == 404
    r = post(api, alice, url, {"username": "bobby"})
    assert r.status_code == 201, r.content
    share = json_of(r)
    assert (share["feed_id"], share["user_username"], share["feed_name"]) == (feed.id, "bobby", "scan")
    # The sharee: the feed is on his home page, readable, writable.
    assert [f["id"] for f in results(get(api, bobby, "/api/v1/"))] == [feed.id]
    assert get(api, bobby, f"/api/v1/{feed.id}/").status_code == 200
    assert put(api, bobby, f"/api/v1/{feed.id}/", {"name": "renamed by bobby"}).status_code == 200
    assert put(api, bobby, item["note"], {"content": "bobby was here"}).status_code == 200
    assert post(api, bobby, item["comments"], {"title": "hi"}).status_code == 201
    tag = json_of(post(api, bobby, "/api/v1/tags/", {"name": "b", "color": "red"}))
    assert post(api, bobby, item["taggings"], {"tag_id": tag["id"]}).status_code == 201
    # ... runs a plugin in it (the output lives under the owner's home, as in CUBE) ...
    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    r = post(api, bobby, f"/api/v1/plugins/{ds.id}/instances/", {"previous_id": root.id})
    assert r.status_code == 201, r.content
    run = json_of(r)
    assert run["owner_username"] == "bobby" and run["output_path"].startswith(f"home/alice/feeds/feed_{feed.id}/")
    assert {i["id"] for i in results(get(api, bobby, f"/api/v1/{feed.id}/plugininstances/"))} == {root.id, run["id"]}
    # ... may cancel his own run, but not alice's ...
    assert put(api, bobby, run["url"], {"status": "cancelled"}).status_code == 200
    assert put(api, bobby, f"/api/v1/plugins/instances/{root.id}/", {"title": "x"}).status_code == 403
    # ... reads and writes its files through the folder grant, and sees it in SHARED/.
    assert get(api, bobby, f"/api/v1/filebrowser/files/{out.id}/").status_code == 200
    assert get(api, bobby, f"/api/v1/filebrowser/{feed.folder.id}/").status_code == 200
    link = shared_link(feed)
    assert link is not None and link.fname == f"SHARED/home_alice_feeds_feed_{feed.id}.chrislink"
    assert get(api, bobby, f"/api/v1/filebrowser/linkfiles/{link.id}/").status_code == 200
    assert get(api, dave, f"/api/v1/filebrowser/linkfiles/{link.id}/").status_code == 404
    # He may not delete the feed, publish it, or share it further (nor revoke shares).
    assert delete(api, bobby, f"/api/v1/{feed.id}/").status_code == 403
    assert put(api, bobby, f"/api/v1/{feed.id}/", {"public": True}).status_code == 403
    assert post(api, bobby, url, {"username": "dave"}).status_code == 403
    assert delete(api, bobby, share["url"]).status_code == 403
    # He sees who it is shared with; strangers and anonymous do not.
    assert [s["user_username"] for s in results(get(api, bobby, url))] == ["bobby"]
    assert get(api, bobby, share["url"]).status_code == 200
    assert get(api, dave, url).status_code == 404
    assert get(api, dave, share["url"]).status_code == 404
    api.force_authenticate(None)
    assert api.get(url).status_code == 401 and api.post(url, {"username": "dave"}, format="json").status_code == 401
    # Public readers do not see the shares either.
    assert put(api, alice, f"/api/v1/{feed.id}/", {"public": True}).status_code == 200
    assert get(api, dave, url).status_code == 403
    assert put(api, alice, f"/api/v1/{feed.id}/", {"public": False}).status_code == 200
    # Revoking: gone from his home page, the feed, its files, and the SHARED/ link goes too.
    assert delete(api, alice, share["url"]).status_code == 204
    assert results(get(api, bobby, "/api/v1/")) == []
    assert get(api, bobby, f"/api/v1/{feed.id}/").status_code == 404
    assert get(api, bobby, f"/api/v1/filebrowser/files/{out.id}/").status_code == 404
    assert shared_link(feed) is None
    # The superuser shares and revokes too.
    r = post(api, chris, url, {"username": "bobby"})
    assert r.status_code == 201
    assert delete(api, chris, json_of(r)["url"]).status_code == 204


@pytest.mark.django_db
def test_share_with_a_group(api: Any, people: Any) -> None:
    alice, bobby, carol, dave = people["alice"], people["bobby"], people["carol"], people["dave"]
    feed = make_feed(alice, "scan")
    url = json_of(get(api, alice, f"/api/v1/{feed.id}/"))["group_permissions"]
    assert url.endswith(f"/api/v1/{feed.id}/grouppermissions/")
    # Collection+JSON, as the ChRIS UI shares with a group (Feed.addGroupPermission).
    r = post_cj(api, alice, url, {"grp_name": "lab"})
    assert r.status_code == 201, r.content
    share = cj_items(r)[0]
    assert share["group_name"] == "lab"
    body = json_of(get(api, alice, url, accept=CJ))["collection"]
    assert [d["name"] for d in body["template"]["data"]] == ["grp_name"]
    assert body["queries"][0]["href"].endswith(f"/api/v1/{feed.id}/grouppermissions/search/")
    assert [s["group_name"] for s in results(get(api, alice, f"{url}search/?group_name=lab"))] == ["lab"]
    assert results(get(api, alice, f"{url}search/?group_name=other")) == []
    # A member of the group reads and writes it; others do not.
    assert [f["id"] for f in results(get(api, carol, "/api/v1/"))] == [feed.id]
    assert put(api, carol, f"/api/v1/{feed.id}/", {"name": "lab feed"}).status_code == 200
    assert delete(api, carol, f"/api/v1/{feed.id}/").status_code == 403
    assert get(api, dave, f"/api/v1/{feed.id}/").status_code == 404
    assert get(api, carol, f"/api/v1/filebrowser/{feed.folder.id}/").status_code == 200
    # A user share beside the group share: revoking one keeps the link for the other.
    bobby_share = json_of(post(api, alice, f"/api/v1/{feed.id}/userpermissions/", {"username": "bobby"}))
    assert delete(api, alice, share["href"]).status_code == 204
    assert get(api, carol, f"/api/v1/{feed.id}/").status_code == 404
    assert get(api, carol, f"/api/v1/filebrowser/{feed.folder.id}/").status_code == 404
    assert shared_link(feed) is not None
    assert get(api, bobby, f"/api/v1/{feed.id}/").status_code == 200
    assert delete(api, alice, bobby_share["url"]).status_code == 204
    assert shared_link(feed) is None


@pytest.mark.django_db
def test_share_bad_input_is_400(api: Any, people: Any) -> None:
    alice = people["alice"]
    feed = make_feed(alice)
    users, groups = f"/api/v1/{feed.id}/userpermissions/", f"/api/v1/{feed.id}/grouppermissions/"
    for url, body, field in ((users, {}, "username"), (users, {"username": "nobody"}, "username"),
                             (users, {"username": ["bobby"]}, "username"), (users, {"username": "alice"}, "username"),
                             (groups, {}, "grp_name"), (groups, {"grp_name": "no-such-group"}, "grp_name")):
        r = post(api, alice, url, body)
        assert r.status_code == 400 and field in json_of(r), (url, body, r.content)
    assert post(api, alice, users, {"username": "bobby"}).status_code == 201
    r = post(api, alice, users, {"username": "bobby"})
    assert r.status_code == 400 and "username" in json_of(r)
    assert post(api, alice, "/api/v1/999999/userpermissions/", {"username": "bobby"}).status_code == 404
    assert get(api, alice, "/api/v1/userpermissions/999999/").status_code == 404


@pytest.mark.django_db
def test_an_existing_folder_grant_becomes_write(api: Any, people: Any) -> None:
    """The owner shared the feed folder read-only through the file browser; sharing the feed makes it 'w';
    revoking the feed share gives the read-only grant back (tests/feeds/test_sharing_prior_grants.py)."""
    from uploads.models import FolderUserPermission

    alice, bobby = people["alice"], people["bobby"]
    feed = make_feed(alice)
    r = post(api, alice, f"/api/v1/filebrowser/{feed.folder.id}/userpermissions/",
             {"username": "bobby", "permission": "r"})
    assert r.status_code == 201, r.content
    share = json_of(post(api, alice, f"/api/v1/{feed.id}/userpermissions/", {"username": "bobby"}))
    assert FolderUserPermission.objects.get(folder=feed.folder, user=bobby).permission == "w"
    assert delete(api, alice, share["url"]).status_code == 204
    assert FolderUserPermission.objects.get(folder=feed.folder, user=bobby).permission == "r"


@pytest.mark.django_db
def test_share_lists_are_bounded_in_queries(api: Any, people: Any, make_user: Any,
                                            django_assert_max_num_queries: Any) -> None:
    alice = people["alice"]
    feed = make_feed(alice)
    for i in range(6):
        make_user(f"user{i}")
        post(api, alice, f"/api/v1/{feed.id}/userpermissions/", {"username": f"user{i}"})
    for limit in (1, 6):
        with django_assert_max_num_queries(8):
            r = get(api, alice, f"/api/v1/{feed.id}/userpermissions/?limit={limit}")
        assert len(json_of(r)["results"]) == limit
    # The home page of a sharee lists shared feeds in a bounded number of queries too.
    for _ in range(4):
        f = make_feed(alice)
        post(api, alice, f"/api/v1/{f.id}/userpermissions/", {"username": "user0"})
    user0 = type(alice).objects.get(username="user0")
    for limit in (1, 5):
        with django_assert_max_num_queries(8):
            r = get(api, user0, f"/api/v1/?limit={limit}")
        assert len(json_of(r)["results"]) == limit
