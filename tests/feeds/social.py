"""Fixtures for the tests of tags, notes, comments, sharing and workflows: three users (alice owns the
feeds, bobby is a stranger, carol is in the group 'lab'), feeds made by the real run-creation service."""

from __future__ import annotations

from typing import Any

from tests.conftest import CJ, json_of

JSON = "application/json"


def make_people(system: Any, make_user: Any) -> dict[str, Any]:
    """Each test module's ``people`` fixture: ``return make_people(system, make_user)``."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    users = {name: make_user(name) for name in ("alice", "bobby", "carol")}
    lab = Group.objects.create(name="lab")
    users["carol"].groups.add(lab)
    users["chris"] = system
    users["lab"] = lab
    return users


def make_feed(owner: Any, title: str = "") -> Any:
    """A feed with its fs run (the run is never started: nothing commits in these tests)."""
    from feeds.services.instances import instance_create
    from plugins.models import Plugin

    dircopy = Plugin.objects.get(meta__name="pl-dircopy")
    inst = instance_create(user=owner, plugin=dircopy, data={"dir": f"home/{owner.username}/uploads",
                                                            "title": title})
    return inst.feed


def as_user(api: Any, user: Any) -> Any:
    api.force_authenticate(user)
    return api


def get(api: Any, user: Any, url: str, accept: str = JSON) -> Any:
    api.force_authenticate(user)
    return api.get(url, HTTP_ACCEPT=accept)


def post(api: Any, user: Any, url: str, body: dict[str, Any], accept: str = JSON) -> Any:
    api.force_authenticate(user)
    return api.post(url, body, format="json", HTTP_ACCEPT=accept)


def post_cj(api: Any, user: Any, url: str, body: dict[str, Any]) -> Any:
    """A POST as python-chrisclient and @fnndsc/chrisapi send it: a Collection+JSON template."""
    import json

    api.force_authenticate(user)
    doc = {"template": {"data": [{"name": k, "value": v} for k, v in body.items()]}}
    return api.post(url, json.dumps(doc), content_type=CJ, HTTP_ACCEPT=CJ)


def put(api: Any, user: Any, url: str, body: dict[str, Any]) -> Any:
    api.force_authenticate(user)
    return api.put(url, body, format="json", HTTP_ACCEPT=JSON)


def delete(api: Any, user: Any, url: str) -> Any:
    api.force_authenticate(user)
    return api.delete(url, HTTP_ACCEPT=JSON)


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return json_of(response)["results"]


def make_pipeline(owner: Any, name: str = "diamond", locked: bool = False) -> Any:
    """root(a_) → left(b_), right(c_); join (ts) under left reading left and right. Built from the
    models so that these tests depend only on what a workflow reads."""
    from plugins.models import (
        DEFAULT_PIPING_MODELS,
        Pipeline,
        Plugin,
        PluginPiping,
    )

    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    ts = Plugin.objects.get(meta__name="pl-topologicalcopy")
    pipeline = Pipeline.objects.create(name=name, owner=owner, locked=locked)
    root = PluginPiping.objects.create(title="root", plugin=ds, pipeline=pipeline)
    left = PluginPiping.objects.create(title="left", plugin=ds, pipeline=pipeline, previous=root)
    join = PluginPiping.objects.create(title="join", plugin=ts, pipeline=pipeline, previous=left)
    right = PluginPiping.objects.create(title="right", plugin=ds, pipeline=pipeline, previous=root)

    def default(piping: Any, name: str, value: Any) -> None:
        param = piping.plugin.parameters.get(name=name)
        DEFAULT_PIPING_MODELS[param.type].objects.create(plugin_piping=piping, plugin_param=param, value=value)

    default(root, "prefix", "a_")
    default(left, "prefix", "b_")
    default(right, "prefix", "c_")
    default(right, "dummyInt", 7)
    default(join, "plugininstances", f"{left.id},{right.id}")
    return pipeline


def finished_root(owner: Any) -> Any:
    from feeds.models import PluginInstance, Status

    feed = make_feed(owner, "scan")
    inst = feed.plugin_instances.get()
    PluginInstance.objects.filter(id=inst.id).update(status=Status.SUCCEEDED)
    return inst
