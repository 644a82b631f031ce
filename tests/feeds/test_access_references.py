"""Cross-object references in request bodies: an id, a name or a path that points at something the caller
may not use is a 400 that does not say whether it exists, and nothing is created. Checked for every
body field that names another object: previous_id, a ts run's plugininstances, compute_resource_name
(runs, splits, workflow nodes), path parameters, tag_id / feed_id of a tagging, a workflow's
previous_plugin_inst_id and a pipeline's plugin_inst_id. No finding: this holds the line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.feeds.social import finished_root, make_people, make_pipeline, post


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    return make_people(system, make_user)


@pytest.mark.django_db
def test_references_to_what_the_caller_may_not_use(api: Any, people: Any) -> None:
    from feeds.models import PluginInstance, Tagging, Workflow
    from feeds.services import social
    from plugins.models import ComputeResource, Pipeline, Plugin
    from uploads.services import file_store

    alice, bobby = people["alice"], people["bobby"]
    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    ts = Plugin.objects.get(meta__name="pl-topologicalcopy")
    dircopy = Plugin.objects.get(meta__name="pl-dircopy")
    ComputeResource.objects.create(name="elsewhere")  # a resource none of these plugins is registered on
    alices_root, bobbys_root = finished_root(alice), finished_root(bobby)
    file_store(owner=alice, path="home/alice/uploads/private.txt", chunks=[b"p"])
    alices_tag = social.tag_create(owner=alice, data={"name": "a", "color": "red"})
    bobbys_tag = social.tag_create(owner=bobby, data={"name": "b", "color": "red"})
    pipeline = make_pipeline(alice)
    runs_before = PluginInstance.objects.count()

    refused = {
        "previous_id of another's run": (f"/api/v1/plugins/{ds.id}/instances/", {"previous_id": alices_root.id}),
        "ts parents in another's feed": (f"/api/v1/plugins/{ts.id}/instances/", {
            "previous_id": bobbys_root.id, "plugininstances": f"{bobbys_root.id},{alices_root.id}"}),
        "an unregistered compute resource": (f"/api/v1/plugins/{ds.id}/instances/", {
            "previous_id": bobbys_root.id, "compute_resource_name": "elsewhere"}),
        "a path of another's file": (f"/api/v1/plugins/{dircopy.id}/instances/",
                                     {"dir": "home/alice/uploads/private.txt"}),
        "a path of another's folder": (f"/api/v1/plugins/{dircopy.id}/instances/", {"dir": "home/alice/uploads"}),
        "a path out of the tree": (f"/api/v1/plugins/{dircopy.id}/instances/", {"dir": "home/bobby/../alice"}),
        "an absolute path": (f"/api/v1/plugins/{dircopy.id}/instances/", {"dir": "/etc"}),
        "a whole home": (f"/api/v1/plugins/{dircopy.id}/instances/", {"dir": "home/bobby"}),
        "a split on an unregistered resource": (f"/api/v1/plugins/instances/{bobbys_root.id}/splits/",
                                                {"filter": "a", "compute_resource_name": "elsewhere"}),
        "another's tag": (f"/api/v1/{bobbys_root.feed_id}/taggings/", {"tag_id": alices_tag.id}),
        "a workflow under another's run": (f"/api/v1/pipelines/{pipeline.id}/workflows/",
                                           {"previous_plugin_inst_id": alices_root.id}),
        "a workflow node on an unregistered resource": (f"/api/v1/pipelines/{pipeline.id}/workflows/", {
            "previous_plugin_inst_id": bobbys_root.id, "nodes_info": json.dumps([
                {"piping_id": pipeline.plugin_pipings.get(title="root").id, "compute_resource_name": "elsewhere"}])}),
        "a pipeline from another's run": ("/api/v1/pipelines/", {"name": "stolen", "plugin_inst_id": alices_root.id}),
    }
    failures = []
    for name, (url, body) in refused.items():
        r = post(api, bobby, url, body)
        if r.status_code != 400:
            failures.append(f"{name}: {r.status_code} {r.content[:200]!r}")
    # Tagging another's feed with one's own tag: that feed is not bobby's to write.
    r = post(api, bobby, f"/api/v1/tags/{bobbys_tag.id}/taggings/", {"feed_id": alices_root.feed_id})
    if r.status_code != 404:
        failures.append(f"tag another's feed: {r.status_code}")
    assert failures == [], "\n".join(failures)
    assert PluginInstance.objects.count() == runs_before
    assert not Tagging.objects.exists() and not Workflow.objects.exists()
    assert not Pipeline.objects.filter(name="stolen").exists()
    # The messages do not tell another user's private path from one that does not exist.
    a = post(api, bobby, f"/api/v1/plugins/{dircopy.id}/instances/", {"dir": "home/alice/uploads/private.txt"})
    b = post(api, bobby, f"/api/v1/plugins/{dircopy.id}/instances/", {"dir": "home/alice/uploads/nothing.txt"})
    assert a.json()["dir"][0].replace("private", "X") == b.json()["dir"][0].replace("nothing", "X")
