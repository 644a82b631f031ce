"""A workflow run to the end over HTTP, with the local runner and a real Celery worker: upload →
pl-dircopy → a four-node pipeline (two ds branches joined by a ts node) → every run finishes and the
join holds both branches' outputs; then a second run is deleted while it works and only its unfinished
runs are cancelled."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.feeds.social import make_pipeline
from tests.feeds.test_e2e_local import plugin_id, sign_up, wait_status

DONE = {"finishedSuccessfully", "finishedWithError", "cancelled"}


def wait_workflow(c: Any, wf_url: str, timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = c.get(c.get(wf_url).json()["plugin_instances"]).json()["results"]
        if runs and all(r["status"] in DONE for r in runs):
            return runs
        time.sleep(0.2)
    raise AssertionError(f"workflow {wf_url} did not finish: {[(r['title'], r['status']) for r in runs]}")


@pytest.mark.django_db(transaction=True)
def test_workflow_runs_to_the_end(server: Any) -> None:
    from django.contrib.auth.models import User

    from uploads.models import ChrisFile
    from uploads.services import file_store

    base = server.url
    c = sign_up(base, "alice")
    alice = User.objects.get(username="alice")
    file_store(owner=alice, path="home/alice/uploads/scan/a.bin", chunks=[b"x" * 1000])
    r = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-dircopy')}/instances/", {"dir": "home/alice/uploads/scan"})
    assert r.status_code == 201, r.text
    fs = wait_status(c, r.json()["url"], {"finishedSuccessfully", "finishedWithError"})
    assert fs["status"] == "finishedSuccessfully", fs
    pipeline = make_pipeline(alice)
    # The pipeline is found the way a client finds it: the root's workflows link, then a POST.
    root = c.get("/api/v1/").json()
    assert root["collection_links"]["workflows"].endswith("/api/v1/pipelines/workflows/")
    r = c.post(f"/api/v1/pipelines/{pipeline.id}/workflows/", {"previous_plugin_inst_id": fs["id"],
                                                              "title": "diamond run"})
    assert r.status_code == 201, r.text
    wf = r.json()
    runs = {run["title"]: run for run in wait_workflow(c, wf["url"])}
    assert {t: run["status"] for t, run in runs.items()} == dict.fromkeys(
        ("root", "left", "right", "join"), "finishedSuccessfully")
    outputs = {t: set(ChrisFile.objects.filter(fname__startswith=run["output_path"] + "/")
                      .values_list("fname", flat=True)) for t, run in runs.items()}
    assert any(f.endswith("/a_a.bin") for f in outputs["root"])
    assert any(f.endswith("/b_a_a.bin") for f in outputs["left"])
    assert any(f.endswith("/c_a_a.bin") for f in outputs["right"])
    # The ts join read from both branches, by the ids of the runs this workflow created.
    assert any(f.endswith("b_a_a.bin") for f in outputs["join"]), outputs["join"]
    assert any(f.endswith("c_a_a.bin") for f in outputs["join"]), outputs["join"]
    assert runs["join"]["previous_id"] == runs["left"]["id"]
    finished = c.get(wf["url"]).json()
    assert finished["finished_jobs"] == 4 and finished["started_jobs"] == 0
    # A second run whose root sleeps: deleting the workflow cancels the runs that have not finished.
    r = c.post(f"/api/v1/pipelines/{pipeline.id}/workflows/", {
        "previous_plugin_inst_id": runs["right"]["id"], "nodes_info": (
            f'[{{"piping_id": {pipeline.plugin_pipings.get(title="root").id}, '
            '"plugin_parameter_defaults": [{"name": "sleepLength", "default": "30"}]}]')})
    assert r.status_code == 201, r.text
    second = r.json()
    second_runs = c.get(second["plugin_instances"]).json()["results"]
    sleeper = next(run for run in second_runs if run["title"] == "root")
    wait_status(c, sleeper["url"], {"started"})
    assert c.delete(second["url"]).status_code == 204
    for run in second_runs:
        assert c.get(run["url"]).json()["status"] == "cancelled"
    # The first workflow's finished runs were not touched.
    assert all(c.get(run["url"]).json()["status"] == "finishedSuccessfully" for run in runs.values())
