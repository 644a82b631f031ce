"""The permission matrix of feeds and everything hung on them (runs, parameters, splits, files, the note,
comments, tags, taggings, shares, workflows): the owner (alice), another user (bobby), a sharee by user
(dave) and by group (carol, in 'lab'), anonymous, and the superuser, on a private, a shared and a public
feed, for every endpoint that takes an object id, read and write; and what every listing and search
shows each of them. The file endpoints have their own matrix (tests/uploads/test_permissions.py).

A feed gives each caller one level (feeds.selectors): ADMIN (owner, superuser), WRITE (sharee), READ
(anyone on a public feed), none. Expected statuses follow from it: allowed → the endpoint's success
status; anonymous and refused → 401 where the endpoint needs a sign-in; no level → 404 (a private feed's
existence is not disclosed); a level too low → 403. Every feed is also shared with erin, who is not an
actor, so that share rows exist on every feed without giving any actor access.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api_clients import clients_for

WHO = ("alice", "bobby", "dave", "carol", "anon", "chris")
VIS = ("private", "shared", "public")
NONE, READ, WRITE, ADMIN = 0, 1, 2, 3
JSON = "application/json"


def level(who: str, vis: str) -> int:
    if who in ("alice", "chris"):
        return ADMIN
    if who in ("dave", "carol") and vis == "shared":
        return WRITE
    return READ if vis == "public" else NONE


def expected(who: str, vis: str, needed: int, ok: int, *, auth: bool = False, refused: int | None = None,
             rule: Callable[[str, str], bool] | None = None, hide: int = READ) -> int:
    """``auth``: the endpoint needs a sign-in (anonymous → 401). ``refused``: the status of a refusal
    that does not depend on the level (a 400 that names no object). ``rule``: who is allowed, when that
    is not a level (an author, a tag's owner). ``hide``: below this level the object does not exist
    (shares are hidden from a public feed's readers)."""
    if who == "anon" and auth:
        return 401
    if rule(who, vis) if rule else level(who, vis) >= needed:
        return ok
    if refused is not None:
        return refused
    return 404 if level(who, vis) < hide else 403


@pytest.fixture
def cast(system: Any, make_user: Any) -> dict[str, Any]:
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    users = {name: make_user(name) for name in ("alice", "bobby", "dave", "carol", "erin")}
    lab = Group.objects.create(name="lab")
    users["carol"].groups.add(lab)
    users["chris"] = system
    clients = clients_for(users, WHO)
    from tests.feeds.social import make_pipeline

    return {"users": users, "lab": lab, "clients": clients, "pipeline": make_pipeline(users["alice"])}


def make_feed(cast: dict[str, Any], vis: str, workflow: bool = False, owner: str = "alice") -> dict[str, Any]:
    """One of alice's feeds, `vis`, with a finished fs run, a ds run below it, an output file, a split, a
    comment, a tagged tag of hers, a share with erin (and with dave and 'lab' if shared), and optionally
    a workflow run from it. Every id a URL below needs."""
    from feeds.models import PluginInstance, Status
    from feeds.services import social
    from feeds.services.instances import feed_update, instance_create
    from feeds.services.sharing import feed_share
    from feeds.services.splits import instance_split
    from feeds.services.workflows import workflow_create
    from plugins.models import Plugin
    from uploads.services import file_store

    users = cast["users"]
    alice = users[owner]
    dircopy = Plugin.objects.get(meta__name="pl-dircopy")
    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    root = instance_create(user=alice, plugin=dircopy, data={"dir": f"home/{owner}/uploads", "title": vis})
    PluginInstance.objects.filter(id=root.id).update(status=Status.SUCCEEDED)
    feed = root.feed
    child = instance_create(user=alice, plugin=ds, data={"previous_id": root.id})
    out = file_store(owner=alice, path=f"{root.output_folder.path}/out.txt", chunks=[b"o"])
    split = instance_split(user=alice, instance=root, data={"filter": ".*"})
    comment = social.comment_create(feed=feed, owner=alice, data={"title": "c"})
    tag = social.tag_create(owner=alice, data={"name": f"t-{vis}", "color": "red"})
    tagging = social.tagging_create(tag=tag, feed=feed)
    erin_share = feed_share(feed=feed, user=users["erin"])
    if vis == "shared":
        feed_share(feed=feed, user=users["dave"])
        feed_share(feed=feed, group=cast["lab"])
    if vis == "public":
        feed_update(feed=feed, public=True)
    ids = {"feed": feed.id, "note": feed.note.id, "root": root.id, "child": child.id, "file": out.id,
           "split": split.id, "comment": comment.id, "tag": tag.id, "tagging": tagging.id, "share": erin_share.id,
           "param": root.parameter_values.get().id, "pipeline": cast["pipeline"].id}
    if workflow:
        ids["workflow"] = workflow_create(user=alice, pipeline=cast["pipeline"],
                                          data={"previous_plugin_inst_id": root.id}).id
    return ids


# (url, needed level, needs a sign-in[, the level below which it is a 404])
READS: list[tuple[Any, ...]] = [
    ("/api/v1/{feed}/", READ, False),
    ("/api/v1/{feed}/plugininstances/", READ, False),
    ("/api/v1/{feed}/files/", READ, False),
    ("/api/v1/note{note}/", READ, False),
    ("/api/v1/{feed}/comments/", READ, False),
    ("/api/v1/{feed}/comments/search/?id={comment}", READ, False),
    ("/api/v1/comments/{comment}/", READ, False),
    ("/api/v1/{feed}/tags/", READ, False),
    ("/api/v1/{feed}/taggings/", READ, False),
    ("/api/v1/tags/{tag}/", READ, False),
    ("/api/v1/tags/{tag}/feeds/", READ, False),
    ("/api/v1/tags/{tag}/taggings/", READ, False),
    ("/api/v1/taggings/{tagging}/", READ, False),
    ("/api/v1/plugins/instances/{root}/", READ, False),
    ("/api/v1/plugins/instances/{child}/", READ, False),
    ("/api/v1/plugins/instances/{root}/descendants/", READ, False),
    ("/api/v1/plugins/instances/{root}/parameters/", READ, False),
    ("/api/v1/plugins/unextpath-parameter/{param}/", READ, False),
    ("/api/v1/plugins/instances/{root}/splits/", READ, False),
    ("/api/v1/plugins/instances/splits/{split}/", READ, False),
    ("/api/v1/plugins/instances/{root}/files/", READ, False),
    ("/api/v1/plugins/instances/{root}/logs/", READ, False),
    ("/api/v1/files/{file}/", READ, False),
    ("/api/v1/files/{file}/out.txt", READ, False),
    ("/api/v1/pipelines/workflows/{workflow}/", READ, False),
    ("/api/v1/pipelines/workflows/{workflow}/plugininstances/", READ, False),
    ("/api/v1/pipelines/instances/{workflow}/", READ, False),
    # Who a feed is shared with: those who may write to it.
    ("/api/v1/{feed}/userpermissions/", WRITE, True),
    ("/api/v1/{feed}/grouppermissions/search/", WRITE, True),
    ("/api/v1/userpermissions/{share}/", WRITE, True, WRITE),
]


@pytest.mark.django_db
def test_reads(cast: Any) -> None:
    feeds = {vis: make_feed(cast, vis, workflow=True) for vis in VIS}
    failures = []
    for (template, needed, auth, *hide), vis, who in itertools.product(READS, VIS, WHO):
        url = template.format(**feeds[vis])
        want = expected(who, vis, needed, 200, auth=auth, hide=hide[0] if hide else READ)
        got = cast["clients"][who].get(url, HTTP_ACCEPT=JSON).status_code
        if got != want:
            failures.append(f"{who:5} {vis:7} GET {url}: {got}, expected {want}")
    assert failures == [], "\n".join(failures)


def _other_tag(cast: Any, who: str) -> int:
    from feeds.services import social

    owner = cast["users"]["alice" if who == "anon" else who]
    return social.tag_create(owner=owner, data={"name": f"{who}'s", "color": "blue"}).id


def _is(*names: str) -> Callable[[str, str], bool]:
    return lambda who, vis: who in names


WRITES: dict[str, tuple[Callable[[Any, dict[str, Any], str], Any], int, dict[str, Any]]] = {
    # name: (request(client, ids, who), success status, expected() options)
    "rename feed": (lambda c, t, w: c.put(f"/api/v1/{t['feed']}/", {"name": "x"}, format="json"), 200,
                    {"needed": WRITE, "auth": True}),
    "publish feed": (lambda c, t, w: c.put(f"/api/v1/{t['feed']}/", {"public": t["vis"] != "public"},
                                           format="json"), 200, {"needed": ADMIN, "auth": True}),
    "delete feed": (lambda c, t, w: c.delete(f"/api/v1/{t['feed']}/"), 202, {"needed": ADMIN, "auth": True}),
    "edit note": (lambda c, t, w: c.put(f"/api/v1/note{t['note']}/", {"content": "x"}, format="json"), 200,
                  {"needed": WRITE, "auth": True}),
    "comment": (lambda c, t, w: c.post(f"/api/v1/{t['feed']}/comments/", {"title": "x"}, format="json"), 201,
                {"needed": WRITE, "auth": True}),
    "edit comment": (lambda c, t, w: c.put(f"/api/v1/comments/{t['comment']}/", {"title": "y"}, format="json"),
                     200, {"rule": _is("alice", "chris"), "auth": True}),
    "delete comment": (lambda c, t, w: c.delete(f"/api/v1/comments/{t['comment']}/"), 204,
                       {"rule": _is("alice", "chris"), "auth": True}),
    "tag feed": (lambda c, t, w: c.post(f"/api/v1/{t['feed']}/taggings/", {"tag_id": t["own_tag"]}, format="json"),
                 201, {"needed": WRITE, "auth": True}),
    "tag with tag": (lambda c, t, w: c.post(f"/api/v1/tags/{t['own_tag']}/taggings/", {"feed_id": t["feed"]},
                                            format="json"), 201, {"needed": WRITE, "auth": True}),
    "untag": (lambda c, t, w: c.delete(f"/api/v1/taggings/{t['tagging']}/"), 204,
              {"rule": _is("alice", "chris"), "auth": True}),
    "edit tag": (lambda c, t, w: c.put(f"/api/v1/tags/{t['tag']}/", {"name": "n"}, format="json"), 200,
                 {"rule": _is("alice", "chris"), "auth": True}),
    "share": (lambda c, t, w: c.post(f"/api/v1/{t['feed']}/userpermissions/", {"username": "bobby"},
                                     format="json"), 201, {"needed": ADMIN, "auth": True}),
    "unshare": (lambda c, t, w: c.delete(f"/api/v1/userpermissions/{t['share']}/"), 204,
                {"needed": ADMIN, "auth": True, "hide": WRITE}),
    "run below": (lambda c, t, w: c.post(f"/api/v1/plugins/{t['ds']}/instances/", {"previous_id": t["root"]},
                                         format="json"), 201, {"needed": WRITE, "auth": True, "refused": 400}),
    "rename run": (lambda c, t, w: c.put(f"/api/v1/plugins/instances/{t['child']}/", {"title": "x"},
                                         format="json"), 200, {"needed": ADMIN, "auth": True}),
    "delete run": (lambda c, t, w: c.delete(f"/api/v1/plugins/instances/{t['child']}/"), 202,
                   {"needed": ADMIN, "auth": True}),
    "split": (lambda c, t, w: c.post(f"/api/v1/plugins/instances/{t['root']}/splits/", {"filter": "a"},
                                     format="json"), 201, {"needed": WRITE, "auth": True}),
    "run workflow": (lambda c, t, w: c.post(f"/api/v1/pipelines/{t['pipeline']}/workflows/",
                                            {"previous_plugin_inst_id": t["root"]}, format="json"), 201,
                     {"needed": WRITE, "auth": True, "refused": 400}),
    "pipeline from run": (lambda c, t, w: c.post("/api/v1/pipelines/", {
        "name": f"from {t['child']} {w}", "plugin_inst_id": t["child"]}, format="json"), 201,
        {"needed": READ, "auth": True, "refused": 400}),
    "rename workflow": (lambda c, t, w: c.put(f"/api/v1/pipelines/workflows/{t['workflow']}/", {"title": "x"},
                                              format="json"), 200, {"needed": ADMIN, "auth": True}),
    "delete workflow": (lambda c, t, w: c.delete(f"/api/v1/pipelines/workflows/{t['workflow']}/"), 204,
                        {"needed": ADMIN, "auth": True}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("op", list(WRITES))
def test_writes(cast: Any, op: str, django_capture_on_commit_callbacks: Any) -> None:
    from django.db import transaction

    from feeds.models import Feed
    from plugins.models import Plugin

    request, ok, options = WRITES[op]
    ds = Plugin.objects.get(meta__name="pl-simpledsapp").id
    failures = []
    for vis in VIS:
        ids = {**make_feed(cast, vis, workflow="workflow" in op), "vis": vis, "ds": ds}
        for who in WHO:
            opts = dict(options)
            want = expected(who, vis, opts.pop("needed", ADMIN), ok, **opts)
            # Each caller meets the feed as it was made: whatever the request changed is rolled back.
            with transaction.atomic(), django_capture_on_commit_callbacks(execute=False):
                ids["own_tag"] = _other_tag(cast, who)
                response = request(cast["clients"][who], ids, who)
                if response.status_code >= 400:  # a refusal changed nothing
                    feed = Feed.objects.get(pk=ids["feed"])
                    assert (feed.deletion_status, feed.public) == ("inactive", vis == "public"), (who, vis, op)
                transaction.set_rollback(True)
            if response.status_code != want:
                failures.append(f"{who:5} {vis:7} {op}: {response.status_code}, expected {want}: "
                                f"{response.content[:120]!r}")
    assert failures == [], "\n".join(failures)


def _ids_of(client: Any, url: str, key: str) -> set[Any]:
    body = client.get(url, {"limit": 100}, HTTP_ACCEPT=JSON).json()
    assert body["count"] == len(body["results"]), url  # counts count only what is listed
    return {row[key] for row in body["results"]}


@pytest.mark.django_db
def test_listings_show_only_what_each_caller_may_read(cast: Any) -> None:
    from plugins.models import Plugin

    feeds = {vis: make_feed(cast, vis, workflow=True) for vis in VIS}
    feeds["bobby's"] = make_feed(cast, "private", workflow=True, owner="bobby")
    dircopy = Plugin.objects.get(meta__name="pl-dircopy").id
    f = {name: ids["feed"] for name, ids in feeds.items()}
    every = set(f.values())
    readable = {"alice": {f["private"], f["shared"], f["public"]}, "bobby": {f["public"], f["bobby's"]},
                "dave": {f["shared"], f["public"]}, "carol": {f["shared"], f["public"]}, "anon": {f["public"]},
                "chris": every}
    home = {"alice": readable["alice"], "bobby": {f["bobby's"]}, "dave": {f["shared"]}, "carol": {f["shared"]},
            "anon": set(), "chris": every - {f["public"]}}  # as CUBE: the superuser's home omits public feeds
    workflow_feed = {ids["workflow"]: ids["feed"] for ids in feeds.values()}
    tag_feed = {ids["tag"]: ids["feed"] for ids in feeds.values()}
    own = {"alice": readable["alice"], "bobby": {f["bobby's"]}}
    pipeline = cast["pipeline"].id
    failures = []
    for who in WHO:
        c = cast["clients"][who]
        seen = {
            "home": _ids_of(c, "/api/v1/", "id"),
            "home search": _ids_of(c, "/api/v1/search/?min_id=0", "id"),
            "public feeds": _ids_of(c, "/api/v1/publicfeeds/", "id"),
            "runs": _ids_of(c, "/api/v1/plugins/instances/", "feed_id"),
            "runs search": _ids_of(c, "/api/v1/plugins/instances/search/?plugin_name=pl-dircopy", "feed_id"),
            "own runs": _ids_of(c, f"/api/v1/plugins/{dircopy}/instances/", "feed_id"),
            "workflows": {workflow_feed[i] for i in _ids_of(c, "/api/v1/pipelines/workflows/", "id")},
            "workflows search": {workflow_feed[i] for i in _ids_of(
                c, "/api/v1/pipelines/workflows/search/?title=diamond", "id")},
            "pipeline instances": {workflow_feed[i] for i in _ids_of(c, "/api/v1/pipelines/instances/", "id")},
            "pipeline's workflows": {workflow_feed[i] for i in _ids_of(
                c, f"/api/v1/pipelines/{pipeline}/workflows/", "id")},
            "tags": {tag_feed[i] for i in _ids_of(c, "/api/v1/tags/", "id")},
            "tags search": {tag_feed[i] for i in _ids_of(c, "/api/v1/tags/search/?name=t-", "id")},
            "files": _ids_of(c, "/api/v1/files/", "feed_id"),
            "files search": _ids_of(c, "/api/v1/files/search/?fname_icontains=out", "feed_id"),
        }
        want = {
            "home": home[who], "home search": home[who], "public feeds": {f["public"]},
            "runs": readable[who], "runs search": readable[who], "own runs": own.get(who, set()),
            "workflows": readable[who], "workflows search": readable[who], "pipeline instances": readable[who],
            "pipeline's workflows": readable[who],
            # Tags are their owner's labels: only one's own (the superuser: all).
            "tags": every if who == "chris" else own.get(who, set()),
            "tags search": every if who == "chris" else own.get(who, set()),
            "files": home[who], "files search": home[who],
        }
        for name in seen:
            if seen[name] != want[name]:
                failures.append(f"{who:5} {name}: {sorted(seen[name])}, expected {sorted(want[name])}")
    assert failures == [], "\n".join(failures)
