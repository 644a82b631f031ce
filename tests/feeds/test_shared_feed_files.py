"""The classic ``files/`` and ``files/search/`` list the outputs of the feeds one owns and of the feeds
shared with one or one's group (as CUBE), not other people's public feeds; the superuser gets every
non-public feed, as on the API home page. In JSON and in Collection+JSON, in a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import CJ, cj_items, json_of
from tests.feeds.social import delete, get, make_feed, make_people, post, put, results


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    users = make_people(system, make_user)
    users["dave"] = make_user("dave")  # nothing is ever shared with dave
    return users


def _with_output(owner: Any, title: str) -> tuple[Any, Any, Any]:
    """A feed of owner's with its run and one registered output file: (feed, run, file)."""
    from uploads.services import file_store

    feed = make_feed(owner, title)
    run = feed.plugin_instances.get()
    out = file_store(owner=owner, path=f"{run.output_folder.path}/sub/{title}.txt", chunks=[title.encode()])
    return feed, run, out


@pytest.fixture
def feeds(people: Any) -> dict[str, tuple[Any, Any, Any]]:
    """alice's 'shared' feed (shared below), her 'private' one and her 'public' one; bobby's own."""
    made = {name: _with_output(people["alice"], name) for name in ("shared", "private", "public")}
    made["bobs"] = _with_output(people["bobby"], "bobs")
    from feeds.models import Feed

    Feed.objects.filter(id=made["public"][0].id).update(public=True)
    return made


def _ids(api: Any, user: Any, url: str) -> set[int]:
    found = results(get(api, user, url))
    return {f["id"] for f in found}


def _search(api: Any, user: Any, run: Any) -> dict[str, set[int]]:
    """What the user finds of a run's outputs by each of the classic searches."""
    return {q: _ids(api, user, f"/api/v1/files/search/?{q}")
            for q in (f"feed_id={run.feed_id}", f"plugin_inst_id={run.id}", f"fname={run.output_folder.path}")}


def _share(api: Any, people: Any, feed: Any, kind: str) -> str:
    segment, body = ("userpermissions", {"username": "bobby"}) if kind == "user" else \
        ("grouppermissions", {"grp_name": "lab"})
    r = post(api, people["alice"], f"/api/v1/{feed.id}/{segment}/", body)
    assert r.status_code == 201, r.content
    return str(json_of(r)["url"])


@pytest.fixture(params=["named folders", "feed folder match"])
def listing_query(request: Any, monkeypatch: Any) -> str:
    """Both ways the listing finds shared feeds' files: naming their folders (few shared feeds) and matching
    each file's feed folder against them (many); 0 forces the second with the feeds of a test."""
    if request.param == "feed folder match":
        monkeypatch.setattr("feeds.selectors.MAX_NAMED_FOLDERS", 0)
    return str(request.param)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["user", "group"])
def test_a_sharee_lists_the_shared_feeds_outputs(api: Any, people: Any, feeds: Any, kind: str,
                                                 listing_query: str) -> None:
    sharee = people["bobby"] if kind == "user" else people["carol"]  # carol is in 'lab'
    shared, run, out = feeds["shared"]
    own = {feeds["bobs"][2].id} if kind == "user" else set()
    nothing = {q: set() for q in _search(api, sharee, run)}
    # Before the share: only one's own outputs.
    assert _ids(api, sharee, "/api/v1/files/") == own
    assert _search(api, sharee, run) == nothing
    url = _share(api, people, shared, kind)
    # Shared: listed, and found by feed, by run and by path.
    assert _ids(api, sharee, "/api/v1/files/") == own | {out.id}
    assert _search(api, sharee, run) == {q: {out.id} for q in nothing}
    item = next(f for f in results(get(api, sharee, "/api/v1/files/")) if f["id"] == out.id)
    assert (item["feed_id"], item["plugin_inst_id"]) == (shared.id, run.id)
    assert get(api, sharee, item["file_resource"]).status_code == 200
    # Collection+JSON (the classic clients' default) lists the same items.
    cj = get(api, sharee, "/api/v1/files/", accept=CJ)
    assert cj.status_code == 200
    assert {i["id"] for i in cj_items(cj)} == own | {out.id}
    cj = get(api, sharee, f"/api/v1/files/search/?plugin_inst_id={run.id}", accept=CJ)
    assert [i["id"] for i in cj_items(cj)] == [out.id]
    # Nor the owner's feeds that are not shared, nor her public feed, are listed.
    for other in ("private", "public"):
        assert list(_search(api, sharee, feeds[other][1]).values()) == [set()] * 3
    # A third user sees none of it, whatever he names.
    dave = people["dave"]
    assert _ids(api, dave, "/api/v1/files/") == set()
    assert _search(api, dave, run) == nothing
    # The owner still lists all of her feeds' outputs.
    assert _ids(api, people["alice"], "/api/v1/files/") == {feeds[n][2].id for n in ("shared", "private", "public")}
    # Revoked: gone again.
    assert delete(api, people["alice"], url).status_code == 204
    assert _ids(api, sharee, "/api/v1/files/") == own
    assert _search(api, sharee, run) == nothing


@pytest.mark.django_db
def test_a_sharee_lists_outputs_of_runs_they_add(api: Any, people: Any, feeds: Any, listing_query: str) -> None:
    """The sharee's own run in the shared feed lives under the owner's home; it is listed for both."""
    from plugins.models import Plugin
    from uploads.services import file_store

    shared, root, out = feeds["shared"]
    _share(api, people, shared, "user")
    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    r = post(api, people["bobby"], f"/api/v1/plugins/{ds.id}/instances/", {"previous_id": root.id})
    assert r.status_code == 201, r.content
    run = json_of(r)
    mine = file_store(owner=people["bobby"], path=f"{run['output_path']}/b.txt", chunks=[b"b"])
    for user in (people["bobby"], people["alice"]):
        assert {mine.id, out.id} <= _ids(api, user, "/api/v1/files/")
        assert _ids(api, user, f"/api/v1/files/search/?plugin_inst_id={run['id']}") == {mine.id}


@pytest.mark.django_db
def test_the_superuser_lists_every_non_public_feed(api: Any, people: Any, feeds: Any) -> None:
    """As on the API home page (selectors.user_feeds): every feed that is not public, plus one's own."""
    chris = people["chris"]
    mine = _with_output(chris, "chris")
    expected = {feeds[n][2].id for n in ("shared", "private", "bobs")} | {mine[2].id}
    assert _ids(api, chris, "/api/v1/files/") == expected
    assert _ids(api, chris, f"/api/v1/files/search/?plugin_inst_id={feeds['bobs'][1].id}") == {feeds["bobs"][2].id}
    assert _ids(api, chris, f"/api/v1/files/search/?feed_id={feeds['public'][0].id}") == set()
    # His own public feed stays listed.
    assert put(api, chris, f"/api/v1/{mine[0].id}/", {"public": True}).status_code == 200
    assert _ids(api, chris, "/api/v1/files/") == expected


@pytest.mark.django_db
def test_bad_search_input_is_400(api: Any, people: Any, feeds: Any) -> None:
    for query in ("feed_id=abc", "plugin_inst_id=x", "plugin_inst_id=1e400"):
        r = get(api, people["bobby"], f"/api/v1/files/search/?{query}")
        assert r.status_code == 400, (query, r.content)
    assert _ids(api, people["bobby"], "/api/v1/files/search/?plugin_inst_id=99999999999999999999") == set()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["user", "group"])
def test_the_listing_costs_a_fixed_number_of_queries(api: Any, people: Any, kind: str, listing_query: str) -> None:
    """However many feeds are shared and however long the page."""
    from uploads.services import file_store

    sharee = people["bobby"] if kind == "user" else people["carol"]

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert get(api, sharee, url).status_code == 200
        return len(ctx.captured_queries)

    counts = []
    for _ in range(2):
        for _ in range(3):
            feed, run, _ = _with_output(people["alice"], "more")
            file_store(owner=people["alice"], path=f"{run.output_folder.path}/second.txt", chunks=[b"2"])
            _share(api, people, feed, kind)
        total = len(_ids(api, sharee, "/api/v1/files/?limit=100"))
        counts += [queries("/api/v1/files/?limit=1"), queries(f"/api/v1/files/?limit={total}"),
                   queries(f"/api/v1/files/search/?plugin_inst_id={run.id}&limit={total}")]
    assert total == 12
    assert len(set(counts[0::3] + counts[1::3])) == 1, counts  # 3 or 6 shared feeds, 1 or 12 files a page
    assert counts[2] == counts[5], counts
