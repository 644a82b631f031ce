"""python-chrisclient 2.15 drives a workflow as its users script it: create a pipeline, read its default
parameters, build nodes_info with compute_workflow_nodes_info (which adds previous_piping_id and gives
resources as plain millicore numbers), create the workflow, follow its plugin instances to the end; then
tag the feed and split the fs run. Skipped when the clients are not installed (.ci/setup-clients.sh)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import apiclients_venv, run_script

SCRIPT = r'''
import json, sys, time
from chrisclient import client

url, path = sys.argv[1], sys.argv[2]
cl = client.Client(url, "chris", "chris1234")
cl.upload_file("home/chris/uploads/wf/hello.txt", path)
dircopy = cl.get_plugins({"name_exact": "pl-dircopy"})["data"][0]
fs = cl.create_plugin_instance(dircopy["id"], {"dir": "home/chris/uploads/wf"})

def wait(ids):
    deadline = time.time() + 90
    while True:
        statuses = {i: cl.get_plugin_instance_by_id(i)["status"] for i in ids}
        if all(s in ("finishedSuccessfully", "finishedWithError", "cancelled") for s in statuses.values()):
            return statuses
        if time.time() > deadline:
            return statuses
        time.sleep(0.3)

wait([fs["id"]])
ds = {"plugin_name": "pl-simpledsapp", "plugin_version": "2.1.0"}
tree = [
    {"title": "root", "previous": None, **ds, "plugin_parameter_defaults": [{"name": "prefix", "default": "a_"}]},
    {"title": "left", "previous": "root", **ds, "plugin_parameter_defaults": [{"name": "prefix", "default": "b_"}]},
    {"title": "right", "previous": "root", **ds, "plugin_parameter_defaults": [{"name": "prefix", "default": "c_"}]},
    {"title": "join", "previous": "left", "plugin_name": "pl-topologicalcopy", "plugin_version": "1.0.0",
     "plugin_parameter_defaults": [{"name": "plugininstances", "default": "left,right"}]},
]
pipeline = cl.create_pipeline({"name": "pc-diamond", "plugin_tree": json.dumps(tree), "locked": False})
defaults = cl.get_pipeline_default_parameters(pipeline["id"], {"limit": 100})["data"]
nodes = cl.compute_workflow_nodes_info(defaults, include_all_defaults=True)
wf = cl.create_workflow(pipeline["id"], {"previous_plugin_inst_id": fs["id"], "title": "pc run",
                                         "nodes_info": json.dumps(nodes)})
runs = cl.get_workflow_plugin_instances(wf["id"], {"limit": 100})["data"]
statuses = wait([r["id"] for r in runs])
feed = cl.get_feed_by_id(fs["feed_id"])
tag = cl.create_tag({"name": "wf-tag", "color": "red"})
split = cl.create_plugin_instance_split(fs["id"], filter="txt$")
print(json.dumps({
    "nodes": nodes, "workflow": wf, "workflows": cl.get_workflows()["data"],
    "runs": {r["title"]: statuses[r["id"]] for r in runs},
    "tag": tag, "split": split, "feed": feed,
}))
'''


@pytest.mark.django_db(transaction=True)
def test_python_chrisclient_runs_a_workflow(server: Any, tmp_path: Path) -> None:
    clients = apiclients_venv()
    hello = tmp_path / "hello.txt"
    hello.write_bytes(b"hello\n")
    out = run_script(clients, SCRIPT, f"{server.url}/api/v1/", str(hello))
    assert all("previous_piping_id" in n for n in out["nodes"])  # extra keys are accepted
    assert out["workflow"]["title"] == "pc run" and out["workflow"]["pipeline_name"] == "pc-diamond"
    assert [w["id"] for w in out["workflows"]] == [out["workflow"]["id"]]
    assert out["runs"] == dict.fromkeys(("root", "left", "right", "join"), "finishedSuccessfully")
    assert out["tag"]["owner_username"] == "chris"
    assert len(out["split"]["created_plugin_inst_ids"].split(",")) == 1
    assert out["feed"]["id"]
