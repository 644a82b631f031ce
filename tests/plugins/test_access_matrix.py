"""The permission matrix of pipelines (and everything below one: pipings, defaults, its workflows) and of
the plugin catalogue and the admin API: the owner (alice), another user (bob), anonymous and the
superuser, on a locked (draft) and an unlocked (published) pipeline, for every endpoint that takes an
object id, read and write; and what the pipeline listings show each of them.

A draft is its owner's and the superuser's: anyone else gets 404 (its existence is not disclosed). A
published pipeline is everyone's to read and its owner's (or the superuser's) to change: others get 403,
anonymous writes 401. A published pipeline's pipings and defaults are frozen (400, even for its owner).
The catalogue is readable by anyone; the admin API is for staff only.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api_clients import clients_for

WHO = ("alice", "bob", "anon", "chris")
VIS = ("locked", "unlocked")
JSON = "application/json"


def can_read(who: str, vis: str) -> bool:
    return who in ("alice", "chris") or vis == "unlocked"


def can_write(who: str, vis: str) -> bool:
    return who in ("alice", "chris")


def expected(who: str, vis: str, ok: int, rule: Callable[[str, str], bool] = can_write,
             frozen: bool = False) -> int:
    """``frozen``: the write changes a pipeline's tree, which only a draft allows."""
    if who == "anon":
        return 401
    if rule(who, vis):
        return 400 if frozen and vis == "unlocked" else ok
    return 403 if can_read(who, vis) else 404


@pytest.fixture
def cast(system: Any, make_user: Any) -> dict[str, Any]:
    from django.core.management import call_command

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    users = {"alice": make_user("alice"), "bob": make_user("bob"), "chris": system}
    clients = clients_for(users, WHO)
    return {"users": users, "clients": clients}


def make_pipeline(vis: str) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from plugins.models import DEFAULT_PIPING_MODELS
    from tests.feeds.social import make_pipeline as build

    alice = get_user_model().objects.get(username="alice")
    pipeline = build(alice, name=f"p-{vis}", locked=vis == "locked")
    root = pipeline.plugin_pipings.get(title="root")
    return {"pipeline": pipeline.id, "piping": root.id,
            "string": DEFAULT_PIPING_MODELS["string"].objects.get(plugin_piping=root).id,
            "integer": DEFAULT_PIPING_MODELS["integer"].objects.get(plugin_piping__pipeline=pipeline).id}


READS = [
    "/api/v1/pipelines/{pipeline}/",
    "/api/v1/pipelines/{pipeline}/json/",
    "/api/v1/pipelines/{pipeline}/plugins/",
    "/api/v1/pipelines/{pipeline}/pipings/",
    "/api/v1/pipelines/{pipeline}/parameters/",
    "/api/v1/pipelines/{pipeline}/workflows/",
    "/api/v1/pipelines/{pipeline}/instances/",
    "/api/v1/pipelines/pipings/{piping}/",
    "/api/v1/pipelines/string-parameter/{string}/",
    "/api/v1/pipelines/integer-parameter/{integer}/",
]


@pytest.mark.django_db
def test_reads_and_listings(cast: Any) -> None:
    trees = {vis: make_pipeline(vis) for vis in VIS}
    failures = []
    for template, vis, who in itertools.product(READS, VIS, WHO):
        url = template.format(**trees[vis])
        want = 200 if can_read(who, vis) else 404
        got = cast["clients"][who].get(url, HTTP_ACCEPT=JSON).status_code
        if got != want:
            failures.append(f"{who:5} {vis:8} GET {url}: {got}, expected {want}")
    for who in WHO:
        want = {t["pipeline"] for vis, t in trees.items() if can_read(who, vis)}
        for url in ("/api/v1/pipelines/", "/api/v1/pipelines/search/?name=p-",
                    "/api/v1/pipelines/search/?owner_username=alice"):
            body = cast["clients"][who].get(url, HTTP_ACCEPT=JSON).json()
            if {p["id"] for p in body["results"]} != want or body["count"] != len(want):
                failures.append(f"{who:5} {url}: {body['results']}, expected ids {want}")
    assert failures == [], "\n".join(failures)


def _own_root(cast: Any, who: str) -> int:
    from tests.feeds.social import finished_root

    return int(finished_root(cast["users"]["alice" if who == "anon" else who]).id)


WRITES: dict[str, tuple[Callable[[Any, dict[str, Any]], Any], int, dict[str, Any]]] = {
    "describe": (lambda c, t: c.put(f"/api/v1/pipelines/{t['pipeline']}/", {"description": "x"}, format="json"),
                 200, {}),
    "publish": (lambda c, t: c.put(f"/api/v1/pipelines/{t['pipeline']}/", {"locked": False}, format="json"),
                200, {}),
    "delete": (lambda c, t: c.delete(f"/api/v1/pipelines/{t['pipeline']}/"), 204, {}),
    "piping resources": (lambda c, t: c.put(f"/api/v1/pipelines/pipings/{t['piping']}/", {"cpu_limit": "2000m"},
                                            format="json"), 200, {"frozen": True}),
    "default value": (lambda c, t: c.put(f"/api/v1/pipelines/string-parameter/{t['string']}/", {"value": "z"},
                                         format="json"), 200, {"frozen": True}),
    # Running it under a run of one's own feed: allowed to whoever can read the pipeline.
    "run": (lambda c, t: c.post(f"/api/v1/pipelines/{t['pipeline']}/workflows/",
                                {"previous_plugin_inst_id": t["root"]}, format="json"), 201, {"rule": can_read}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("op", list(WRITES))
def test_writes(cast: Any, op: str, django_capture_on_commit_callbacks: Any) -> None:
    from django.db import transaction

    from plugins.models import Pipeline

    request, ok, options = WRITES[op]
    failures = []
    for vis in VIS:
        tree = make_pipeline(vis)
        for who in WHO:
            want = expected(who, vis, ok, **options)
            with transaction.atomic(), django_capture_on_commit_callbacks(execute=False):
                tree["root"] = _own_root(cast, who)
                response = request(cast["clients"][who], tree)
                if response.status_code >= 400:  # a refusal changed nothing
                    row = Pipeline.objects.get(pk=tree["pipeline"])
                    assert (row.locked, row.description) == (vis == "locked", ""), (who, vis, op)
                transaction.set_rollback(True)
            if response.status_code != want:
                failures.append(f"{who:5} {vis:8} {op}: {response.status_code}, expected {want}: "
                                f"{response.content[:120]!r}")
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
def test_catalogue_is_public_and_the_admin_api_is_staffs(cast: Any) -> None:
    from plugins.models import ComputeResource, Plugin

    plugin = Plugin.objects.select_related("meta").first()
    assert plugin is not None
    cr = ComputeResource.objects.get(name="host")
    param = plugin.parameters.first()
    public = [f"/api/v1/plugins/{plugin.id}/", f"/api/v1/plugins/{plugin.id}/parameters/",
              f"/api/v1/plugins/{plugin.id}/computeresources/", f"/api/v1/plugins/metas/{plugin.meta_id}/",
              f"/api/v1/plugins/metas/{plugin.meta_id}/plugins/", f"/api/v1/computeresources/{cr.id}/",
              f"/api/v1/plugins/parameters/{param.id}/" if param else "/api/v1/plugins/"]
    staff = ["/chris-admin/api/v1/", f"/chris-admin/api/v1/{plugin.id}/", "/chris-admin/api/v1/computeresources/",
             f"/chris-admin/api/v1/computeresources/{cr.id}/", "/chris-admin/api/v1/pacs/"]
    failures = []
    for who in WHO:
        client = cast["clients"][who]
        for url in public:
            if (got := client.get(url, HTTP_ACCEPT=JSON).status_code) != 200:
                failures.append(f"{who} GET {url}: {got}")
        for url in staff:
            want = 200 if who == "chris" else 401 if who == "anon" else 403
            if (got := client.get(url, HTTP_ACCEPT=JSON).status_code) != want:
                failures.append(f"{who} GET {url}: {got}, expected {want}")
        # Registering or removing plugins and compute resources: staff only, whatever the body.
        for method, url in (("post", "/chris-admin/api/v1/"), ("delete", f"/chris-admin/api/v1/{plugin.id}/"),
                            ("post", "/chris-admin/api/v1/computeresources/")):
            if who == "chris":
                continue
            want = 401 if who == "anon" else 403
            if (got := getattr(client, method)(url, HTTP_ACCEPT=JSON).status_code) != want:
                failures.append(f"{who} {method.upper()} {url}: {got}, expected {want}")
        # A compute resource's runner settings are the admin API's alone.
        body = client.get(f"/api/v1/computeresources/{cr.id}/", HTTP_ACCEPT=JSON).json()
        if "runner_options" in body or "runner" in body:
            failures.append(f"{who} sees the runner settings of {cr.name}")
    assert Plugin.objects.filter(pk=plugin.id).exists()
    assert failures == [], "\n".join(failures)
