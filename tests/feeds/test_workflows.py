"""Workflows: a pipeline run as plugin instances under an existing one. The API matrix (owner, another
user, a sharee of the feed, anonymous, the superuser), the order and rewiring of the runs (a ts piping's
``plugininstances`` becomes the new runs' ids), bad input, and deletion that cancels only what has not
finished. The run to the end with real jobs is in test_workflows_e2e.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CJ, cj_items, cj_links, json_of
from tests.feeds.social import (
    delete,
    finished_root,
    get,
    make_people,
    make_pipeline,
    post,
    post_cj,
    put,
    results,
)


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    return make_people(system, make_user)


@pytest.mark.django_db
def test_root_links_workflows_and_pipeline_instances(api: Any, people: Any) -> None:
    links = cj_links(get(api, people["alice"], "/api/v1/", accept=CJ))
    assert links["workflows"].endswith("/api/v1/pipelines/workflows/")
    assert links["pipeline_instances"].endswith("/api/v1/pipelines/instances/")
    # chrisapi's AllWorkflowList / AllPipelineInstanceList.getPipelines follow their 'pipelines' link.
    for url in (links["workflows"], links["pipeline_instances"]):
        assert cj_links(get(api, people["alice"], url, accept=CJ))["pipelines"].endswith("/api/v1/pipelines/")


@pytest.mark.django_db
def test_workflow_create_makes_runs_in_order_and_rewires_ts(api: Any, people: Any) -> None:
    from feeds.models import PluginInstance

    alice = people["alice"]
    pipeline = make_pipeline(alice)
    root = finished_root(alice)
    pipings = {p.title: p for p in pipeline.plugin_pipings.all()}
    nodes = [{"piping_id": pipings["left"].id, "title": "left run", "plugin_parameter_defaults": [
        {"name": "prefix", "default": "L_"}]}, {"piping_id": pipings["right"].id, "cpu_limit": "2000m"}]
    import json

    r = post(api, alice, f"/api/v1/pipelines/{pipeline.id}/workflows/",
             {"previous_plugin_inst_id": root.id, "nodes_info": json.dumps(nodes)})
    assert r.status_code == 201, r.content
    wf = json_of(r)
    assert (wf["title"], wf["pipeline_id"], wf["pipeline_name"], wf["owner_username"]) == (
        "diamond", pipeline.id, "diamond", "alice")
    assert wf["created_jobs"] + wf["waiting_jobs"] + wf["scheduled_jobs"] == 4
    runs = {i.title: i for i in PluginInstance.objects.filter(workflow_id=wf["id"]).select_related("previous")}
    assert set(runs) == {"root", "left run", "right", "join"}
    # Parents first (BFS, ts after every parent it reads), grafted under the given instance.
    assert runs["root"].previous_id == root.id and runs["root"].feed_id == root.feed_id
    assert runs["left run"].previous_id == runs["root"].id == runs["right"].previous_id
    assert runs["join"].previous_id == runs["left run"].id
    assert runs["root"].id < runs["left run"].id < runs["right"].id < runs["join"].id
    values = {(pv.plugin_inst_id, pv.plugin_param.name): pv.value for pv in
              __import__("feeds.models", fromlist=["x"]).PluginInstanceParameter.objects.select_related(
                  "plugin_param").filter(plugin_inst__workflow_id=wf["id"])}
    assert values[(runs["root"].id, "prefix")] == "a_"
    assert values[(runs["left run"].id, "prefix")] == "L_"  # nodes_info overrides the pipeline
    assert values[(runs["right"].id, "dummyInt")] == 7
    assert values[(runs["join"].id, "plugininstances")] == f"{runs['left run'].id},{runs['right'].id}"
    assert runs["right"].cpu_limit == 2000
    # The root run starts (its previous finished); the others wait for their parents.
    assert runs["root"].status == "scheduled"
    assert {runs[t].status for t in ("left run", "right", "join")} == {"waiting"}
    # Runs say which workflow and pipeline made them; the workflow lists them.
    inst = json_of(get(api, alice, f"/api/v1/plugins/instances/{runs['join'].id}/"))
    assert (inst["workflow_id"], inst["pipeline_id"], inst["pipeline_name"]) == (wf["id"], pipeline.id, "diamond")
    listed = results(get(api, alice, wf["plugin_instances"]))
    assert [i["id"] for i in listed] == sorted(i.id for i in runs.values())
    found = results(get(api, alice, f"/api/v1/plugins/instances/search/?workflow_id={wf['id']}"))
    assert len(found) == 4


@pytest.mark.django_db
def test_workflow_matrix_and_lists(api: Any, people: Any) -> None:
    from feeds.models import FeedUserPermission

    alice, bobby, carol, chris = people["alice"], people["bobby"], people["carol"], people["chris"]
    pipeline = make_pipeline(alice)
    root = finished_root(alice)
    url = f"/api/v1/pipelines/{pipeline.id}/workflows/"
    # Collection+JSON POST as python-chrisclient sends it; the default title is the pipeline's name.
    r = post_cj(api, alice, url, {"previous_plugin_inst_id": root.id, "title": "first run"})
    assert r.status_code == 201, r.content
    wf = cj_items(r)[0]
    wf_url = wf["href"]
    # Another user cannot run it into alice's feed, and sees neither the workflow nor its runs.
    assert post(api, bobby, url, {"previous_plugin_inst_id": root.id}).status_code == 400
    assert get(api, bobby, wf_url).status_code == 404
    assert get(api, bobby, f"{wf_url}plugininstances/").status_code == 404
    assert results(get(api, bobby, "/api/v1/pipelines/workflows/")) == []
    assert results(get(api, bobby, "/api/v1/pipelines/instances/")) == []
    assert results(get(api, bobby, url)) == []
    api.force_authenticate(None)
    assert api.get(wf_url).status_code == 404
    assert api.post(url, {"previous_plugin_inst_id": root.id}, format="json").status_code == 401
    assert json_of(api.get("/api/v1/pipelines/workflows/", HTTP_ACCEPT="application/json"))["results"] == []
    # A user the feed is shared with sees the workflow and may run the pipeline into the feed, but
    # cannot rename or delete alice's workflow.
    FeedUserPermission.objects.create(feed=root.feed, user=carol)
    assert [w["id"] for w in results(get(api, carol, "/api/v1/pipelines/workflows/"))] == [wf["id"]]
    assert put(api, carol, wf_url, {"title": "mine"}).status_code == 403
    assert delete(api, carol, wf_url).status_code == 403
    r = post(api, carol, url, {"previous_plugin_inst_id": root.id})
    assert r.status_code == 201, r.content
    carols = json_of(r)
    assert carols["owner_username"] == "carol" and carols["title"] == "diamond"
    # Lists: the owner sees both (they run in her feed); the superuser sees all; both media types.
    assert {w["id"] for w in results(get(api, alice, "/api/v1/pipelines/workflows/"))} == {wf["id"], carols["id"]}
    assert len(results(get(api, chris, "/api/v1/pipelines/instances/"))) == 2
    body = json_of(get(api, alice, "/api/v1/pipelines/workflows/", accept=CJ))["collection"]
    assert body["queries"][0]["href"].endswith("/api/v1/pipelines/workflows/search/")
    assert {d["name"] for d in body["queries"][0]["data"]} >= {"id", "title", "pipeline_name", "owner_username"}
    body = json_of(get(api, alice, url, accept=CJ))["collection"]
    assert {d["name"] for d in body["template"]["data"]} == {"previous_plugin_inst_id", "title", "nodes_info"}
    assert [w["id"] for w in results(get(api, alice, "/api/v1/pipelines/workflows/search/?owner_username=carol"))] \
        == [carols["id"]]
    assert [w["id"] for w in results(get(api, alice, "/api/v1/pipelines/workflows/search/?title=FIRST"))] == [
        wf["id"]]
    assert len(results(get(api, alice, "/api/v1/pipelines/instances/search/?pipeline_name=diam"))) == 2
    # Rename: owner and superuser.
    r = put(api, alice, wf_url, {"title": "renamed"})
    assert r.status_code == 200 and json_of(r)["title"] == "renamed"
    assert put(api, chris, wf_url, {"title": "by chris"}).status_code == 200
    assert put(api, alice, wf_url, {"title": "x" * 101}).status_code == 400
    # A locked (draft) pipeline of alice's is invisible to others: 404, not a way to run it.
    draft = make_pipeline(alice, name="draft", locked=True)
    assert post(api, carol, f"/api/v1/pipelines/{draft.id}/workflows/",
                {"previous_plugin_inst_id": root.id}).status_code == 404
    assert post(api, alice, f"/api/v1/pipelines/{draft.id}/workflows/",
                {"previous_plugin_inst_id": root.id}).status_code == 201


@pytest.mark.django_db
def test_workflow_bad_input_is_400(api: Any, people: Any) -> None:
    from feeds.models import PluginInstance, Workflow

    alice = people["alice"]
    pipeline = make_pipeline(alice)
    root = finished_root(alice)
    url = f"/api/v1/pipelines/{pipeline.id}/workflows/"
    piping = pipeline.plugin_pipings.get(title="left")
    before = PluginInstance.objects.count()
    for body, field in (
        ({}, "previous_plugin_inst_id"),
        ({"previous_plugin_inst_id": "x"}, "previous_plugin_inst_id"),
        ({"previous_plugin_inst_id": 999999}, "previous_plugin_inst_id"),
        ({"previous_plugin_inst_id": root.id, "title": "x" * 101}, "title"),
        ({"previous_plugin_inst_id": root.id, "nodes_info": "not json"}, "nodes_info"),
        ({"previous_plugin_inst_id": root.id, "nodes_info": "{}"}, "nodes_info"),
        ({"previous_plugin_inst_id": root.id, "nodes_info": '[{"piping_id": 999999}]'}, "nodes_info"),
        ({"previous_plugin_inst_id": root.id, "nodes_info": '[{"piping_id": "a"}]'}, "nodes_info"),
        ({"previous_plugin_inst_id": root.id, "nodes_info": f'[{{"piping_id": {piping.id}, '
          '"plugin_parameter_defaults": [{"name": "nope", "default": 1}]}]'}, "nodes_info"),
        # A value the plugin refuses: the error names the piping and the parameter; nothing is created.
        ({"previous_plugin_inst_id": root.id, "nodes_info": f'[{{"piping_id": {piping.id}, '
          '"plugin_parameter_defaults": [{"name": "dummyInt", "default": "seven"}]}]'}, "nodes_info"),
        ({"previous_plugin_inst_id": root.id, "nodes_info": f'[{{"piping_id": {piping.id}, "cpu_limit": "1m"}}]'},
         "nodes_info"),
    ):
        r = post(api, alice, url, body)
        assert r.status_code == 400, (body, r.content)
        assert field in json_of(r), (body, r.content)
    msg = json_of(post(api, alice, url, {"previous_plugin_inst_id": root.id, "nodes_info": (
        f'[{{"piping_id": {piping.id}, "plugin_parameter_defaults": [{{"name": "dummyInt", "default": "seven"}}]}}]')}))
    assert "left" in msg["nodes_info"][0] and "dummyInt" in msg["nodes_info"][0]
    assert PluginInstance.objects.count() == before and Workflow.objects.count() == 0
    assert post(api, alice, "/api/v1/pipelines/999999/workflows/", {"previous_plugin_inst_id": root.id}
                ).status_code == 404


@pytest.mark.django_db
def test_workflow_delete_cancels_only_unfinished_runs(api: Any, people: Any) -> None:
    from feeds.models import PluginInstance, Status

    alice, bobby = people["alice"], people["bobby"]
    pipeline = make_pipeline(alice)
    root = finished_root(alice)
    wf = json_of(post(api, alice, f"/api/v1/pipelines/{pipeline.id}/workflows/",
                      {"previous_plugin_inst_id": root.id}))
    runs = {i.title: i for i in PluginInstance.objects.filter(workflow_id=wf["id"])}
    PluginInstance.objects.filter(id=runs["root"].id).update(status=Status.SUCCEEDED)
    PluginInstance.objects.filter(id=runs["right"].id).update(status=Status.FAILED)
    assert delete(api, bobby, wf["url"]).status_code == 404
    assert delete(api, alice, wf["url"]).status_code == 204
    after = {i.title: i for i in PluginInstance.objects.filter(id__in=[r.id for r in runs.values()])}
    assert after["root"].status == Status.SUCCEEDED  # finished runs keep their status (CUBE: cancelled)
    assert after["right"].status == Status.FAILED
    assert after["left"].status == after["join"].status == Status.CANCELLED
    assert all(i.workflow_id is None for i in after.values())  # the runs stay, without their workflow
    assert get(api, alice, wf["url"]).status_code == 404
    # The pipeline stays as long as a workflow remembers it.
    from plugins.models import Pipeline

    json_of(post(api, alice, f"/api/v1/pipelines/{pipeline.id}/workflows/", {"previous_plugin_inst_id": root.id}))
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Pipeline.objects.filter(id=pipeline.id).delete()


@pytest.mark.django_db
def test_workflow_lists_are_bounded_in_queries(api: Any, people: Any, django_assert_max_num_queries: Any) -> None:
    alice = people["alice"]
    pipeline = make_pipeline(alice)
    root = finished_root(alice)
    for _ in range(3):
        post(api, alice, f"/api/v1/pipelines/{pipeline.id}/workflows/", {"previous_plugin_inst_id": root.id})
    wf = results(get(api, alice, "/api/v1/pipelines/workflows/"))[0]
    for url, n in (("/api/v1/pipelines/workflows/", 3), (wf["plugin_instances"], 4)):
        for limit in (1, n):
            with django_assert_max_num_queries(8):
                r = get(api, alice, f"{url}?limit={limit}")
            assert len(json_of(r)["results"]) == limit


@pytest.mark.django_db
def test_workflow_runs_get_cube_workflow_environment(api: Any, people: Any, settings: Any, tmp_path: Any) -> None:
    from feeds.models import PluginInstance
    from feeds.services.jobs import build_spec, runner_for

    settings.CUBE_JOBS_DIR = str(tmp_path / "jobs")
    alice = people["alice"]
    pipeline = make_pipeline(alice)
    root = finished_root(alice)
    wf = json_of(post(api, alice, f"/api/v1/pipelines/{pipeline.id}/workflows/", {"previous_plugin_inst_id": root.id}))
    runs = list(PluginInstance.objects.filter(workflow_id=wf["id"]).select_related(
        "plugin__meta", "feed", "owner", "compute_resource", "output_folder", "workflow").order_by("id"))
    env = build_spec(runs[1], runner_for(runs[1].compute_resource)).env
    assert env["CHRIS_WORKFLOW_ID"] == str(wf["id"]) and env["CHRIS_PIPELINE_ID"] == str(pipeline.id)
    assert env["CHRIS_WORKFLOW_PLG_INSTANCES"] == ",".join(str(r.id) for r in runs)
    assert "CHRIS_WORKFLOW_ID" not in build_spec(root, runner_for(root.compute_resource)).env


@pytest.mark.django_db
def test_classic_pipeline_instances_run_through_the_workflow_service(api: Any, people: Any) -> None:
    """chrisapi 1.14's createPipelineInstance: POST pipelines/<id>/instances/ with previous_plugin_inst_id,
    title, description and '<piping id>_<parameter>' values; the same workflow comes back under the classic
    names, and its runs link it both ways (workflow, pipeline_inst)."""
    from feeds.models import PluginInstance, PluginInstanceParameter

    alice, bobby = people["alice"], people["bobby"]
    pipeline = make_pipeline(alice)
    root = finished_root(alice)
    pipings = {p.title: p for p in pipeline.plugin_pipings.all()}
    pipe = json_of(get(api, alice, f"/api/v1/pipelines/{pipeline.id}/"))
    url = f"/api/v1/pipelines/{pipeline.id}/instances/"
    assert pipe["instances"].endswith(url)
    body = json_of(get(api, alice, url, accept=CJ))["collection"]
    assert {d["name"] for d in body["template"]["data"]} == {"previous_plugin_inst_id", "title", "description"}
    r = post_cj(api, alice, url, {"previous_plugin_inst_id": root.id, "title": "classic", "description": "d",
                                  f"{pipings['left'].id}_prefix": "CL_"})
    assert r.status_code == 201, r.content
    pi = cj_items(r)[0]
    assert (pi["title"], pi["pipeline_id"]) == ("classic", pipeline.id)
    assert set(pi["links"]) >= {"pipeline", "plugin_instances"}
    runs = {i.title: i for i in PluginInstance.objects.filter(workflow_id=pi["id"])}
    assert set(runs) == {"root", "left", "right", "join"}
    assert PluginInstanceParameter.objects.get(plugin_inst=runs["left"], plugin_param__name="prefix").value == "CL_"
    # Listed under the pipeline and at the classic root relation; the detail answers at its classic URL.
    assert [w["id"] for w in results(get(api, alice, url))] == [pi["id"]]
    detail = f"/api/v1/pipelines/instances/{pi['id']}/"
    assert json_of(get(api, alice, detail))["id"] == pi["id"]
    assert get(api, bobby, detail).status_code == 404
    # A run of the workflow links it: 'workflow' (CUBE 6) and 'pipeline_inst' (classic) in Collection+JSON;
    # in JSON pipeline_inst is the id, as aiochris reads it.
    item = cj_items(get(api, alice, f"/api/v1/plugins/instances/{runs['join'].id}/", accept=CJ))[0]
    assert item["links"]["workflow"].endswith(f"/api/v1/pipelines/workflows/{pi['id']}/")
    assert item["links"]["pipeline_inst"].endswith(detail)
    plain = json_of(get(api, alice, f"/api/v1/plugins/instances/{runs['join'].id}/"))
    assert plain["pipeline_inst"] == pi["id"] and plain["workflow"].endswith(f"/workflows/{pi['id']}/")
    solo = json_of(get(api, alice, f"/api/v1/plugins/instances/{root.id}/"))
    assert (solo["workflow"], solo["pipeline_inst"]) == (None, None)
    # Bad input is the workflow service's 400; someone else cannot run it into alice's feed.
    r = post(api, alice, url, {"previous_plugin_inst_id": root.id, "999999_prefix": "x"})
    assert r.status_code == 400 and b"999999" in r.content
    assert post(api, bobby, url, {"previous_plugin_inst_id": root.id}).status_code == 400
    # The classic detail renames and deletes as the workflow does.
    assert json_of(put(api, alice, detail, {"title": "renamed"}))["title"] == "renamed"
    assert delete(api, alice, detail).status_code == 204
    assert get(api, alice, detail).status_code == 404
