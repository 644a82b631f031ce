"""chrs 0.3 (the Rust command-line client; plain JSON, strict serde structs), as its user types it:
log in, upload without a feed, find a plugin, run it into a new feed, list feeds, see the run's status,
list and download its outputs, then find a pipeline and run it from that run as a workflow."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def chrs(venv: Path, home: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "HOME": str(home), "NO_COLOR": "1", "COLORBT_SHOW_HIDDEN": "0"}
    out = subprocess.run([str(venv / "bin" / "chrs"), *args], capture_output=True, text=True, timeout=120, env=env)
    if check and out.returncode != 0:
        pytest.fail(f"chrs {' '.join(args)} exited {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}",
                    pytrace=False)
    return ANSI.sub("", out.stdout + out.stderr)  # it colours its output whatever NO_COLOR says


def wait_finished(instance_id: int) -> str:
    from feeds.models import PluginInstance

    deadline = time.monotonic() + 60
    while True:
        status = PluginInstance.objects.get(id=instance_id).status
        if status in ("finishedSuccessfully", "finishedWithError", "cancelled") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_chrs_session(server: Any, clients: Path, tmp_path: Path) -> None:
    from feeds.models import Feed, PluginInstance
    from uploads.models import ChrisFile

    home = tmp_path / "home"
    home.mkdir()
    hello = tmp_path / "hello.txt"
    hello.write_bytes(b"hello from chrs\n")
    chrs(clients, home, "--cube", f"{server.url}/api/v1/", "--username", "chris", "--password", "chris1234",
         "login", "--no-keyring")
    assert 'as user "chris"' in chrs(clients, home, "whoami")

    chrs(clients, home, "upload", "--no-feed", str(hello))
    uploaded = ChrisFile.objects.get(fname__endswith="/hello.txt")
    # chrs names its upload folder itself, under the classic uploads path.
    assert uploaded.fname.startswith("chris/uploads/") or uploaded.fname.startswith("home/chris/uploads/")

    assert "pl-dircopy" in chrs(clients, home, "search", "dircopy")
    assert "pl-dircopy" in chrs(clients, home, "describe", "pl-dircopy")

    chrs(clients, home, "run", "--title", "chrs feed", "pl-dircopy", "--", "--dir",
         uploaded.fname.rsplit("/", 1)[0])
    instance = PluginInstance.objects.get(plugin__meta__name="pl-dircopy")
    assert wait_finished(instance.id) == "finishedSuccessfully"
    assert Feed.objects.get(id=instance.feed_id).owner.username == "chris"

    listing = chrs(clients, home, "list")
    assert str(instance.feed_id) in listing
    status = chrs(clients, home, "status")
    assert f"chrs feed  (feed/{instance.feed_id})" in status and "finished: 1" in status
    assert chrs(clients, home, "ls").split() == ["data/"]  # the run's output folder
    assert "hello.txt" in chrs(clients, home, "ls", "--full", "-L", "3")
    dest = tmp_path / "out"
    assert "Downloaded: 16 B" in chrs(clients, home, "download", ".", str(dest))
    # One file downloads to the destination path itself, as cp would.
    assert dest.read_bytes() == b"hello from chrs\n"

    # A pipeline run from the same context: chrs finds it by search and runs it as a workflow.
    tree = [{"title": "ds1", "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.0", "previous": None},
            {"title": "ds2", "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.0", "previous": "ds1"}]
    created = requests.post(f"{server.url}/api/v1/pipelines/", auth=("chris", "chris1234"), timeout=30,
                            headers={"Accept": "application/json"},
                            json={"name": "two-ds", "locked": False, "plugin_tree": json.dumps(tree)})
    assert created.status_code == 201, created.text
    pipeline_id = created.json()["id"]
    assert f"pipeline/{pipeline_id}" in chrs(clients, home, "search", "two-ds")
    chrs(clients, home, "run", "--title", "via chrs", f"pipeline/{pipeline_id}")
    runs = PluginInstance.objects.filter(workflow__pipeline_id=pipeline_id)
    assert sorted(r.title for r in runs) == ["ds1", "ds2"]
    assert all(wait_finished(r.id) == "finishedSuccessfully" for r in runs)
    assert runs.get(title="ds1").previous_id == instance.id
