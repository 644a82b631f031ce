"""python-chrisclient 2.15 (Collection+JSON) drives the pipelines API as its users' scripts do: create a
pipeline, find it by id, read its defaults into a workflow's nodes_info, upload source files (it names
every upload 'fname'), and list them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import apiclients_venv, run_script
from tests.feeds.conftest import server, worker  # noqa: F401 - fixtures

SCRIPT = r'''
import json, sys
from chrisclient import client

url, tree, yaml_path = sys.argv[1], sys.argv[2], sys.argv[3]
cl = client.Client(url, "chris", "chris1234")
cl.set_urls()
created = cl.create_pipeline({"name": "pc pipeline", "plugin_tree": tree, "locked": False})
found = cl.get_pipeline_by_id(created["id"])
defaults = cl.get_pipeline_default_parameters(created["id"], {"limit": 100})["data"]
nodes = cl.compute_workflow_nodes_info(defaults, include_all_defaults=True)
first = cl.upload_pipeline_source_file("yaml", yaml_path)
second = cl.upload_pipeline_source_file("yaml", sys.argv[4])
files = cl.get_pipeline_source_files({"uploader_username": "chris"})["data"]
print(json.dumps({"created": created, "found": found, "nodes": nodes, "first": first, "second": second,
                  "files": sorted(f["fname"] for f in files)}))
'''

YAML = """name: {name}
plugin_tree:
  - title: only
    plugin: pl-simpledsapp v2.1.0
    previous: null
"""


@pytest.mark.django_db(transaction=True)
def test_python_chrisclient_pipelines(server: Any, tmp_path: Path) -> None:  # noqa: F811
    clients = apiclients_venv()
    tree = json.dumps([{"title": "a", "previous": None, "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.0",
                        "plugin_parameter_defaults": [{"name": "prefix", "default": "pc-"}]},
                       {"title": "b", "previous": "a", "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.0"}])
    first, second = tmp_path / "one.yml", tmp_path / "two.yml"
    first.write_text(YAML.format(name="pc yaml"))
    second.write_text(YAML.format(name="pc yaml 2"))
    out = run_script(clients, SCRIPT, f"{server.url}/api/v1/", tree, str(first), str(second))
    assert out["created"]["name"] == "pc pipeline" and out["created"]["locked"] is False
    assert out["found"]["id"] == out["created"]["id"]
    by_title = {n["title"]: n for n in out["nodes"]}
    assert set(by_title) == {"a", "b"} and by_title["b"]["previous_piping_id"] == by_title["a"]["piping_id"]
    assert {"name": "prefix", "default": "pc-"} in by_title["a"]["plugin_parameter_defaults"]
    assert isinstance(by_title["a"]["cpu_limit"], int)
    # both uploads are named 'fname' by the client: the second gets a suffix instead of failing
    assert out["first"]["pipeline_name"] == "pc yaml" and out["second"]["pipeline_name"] == "pc yaml 2"
    assert out["files"] == ["PIPELINES/chris/fname", "PIPELINES/chris/fname_1"]
