"""chrs 0.3 (the Rust command-line client; plain JSON, strict serde structs), as its user types it:
log in, upload without a feed, find a plugin, run it into a new feed, list feeds, see the run's status,
list and download its outputs, then find a pipeline and run it from that run as a workflow; and upload
into a new feed and then into the current one, which makes chrs run copy plugins of its own choosing."""

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


def api_wait_finished(http: requests.Session, url: str, instance_id: int) -> dict[str, Any]:
    """Polls a plugin instance through the API until it stops running; returns its last detail."""
    deadline = time.monotonic() + 90
    while True:
        detail: dict[str, Any] = http.get(f"{url}/api/v1/plugins/instances/{instance_id}/", timeout=30).json()
        if detail["status"] in ("finishedSuccessfully", "finishedWithError", "cancelled") \
                or time.monotonic() > deadline:
            return detail
        time.sleep(0.3)


def instance_files(http: requests.Session, url: str, instance_id: int) -> dict[str, bytes]:
    """Path below the instance's data/ folder -> contents, for every output file, read through the API."""
    page = http.get(f"{url}/api/v1/plugins/instances/{instance_id}/files/?limit=100", timeout=30).json()
    assert page["next"] is None, "more output files than one page"
    files = {}
    for item in page["results"]:
        rel = item["fname"].split("/data/", 1)[1]
        download = http.get(item["file_resource"], timeout=30)
        assert download.status_code == 200, (item["fname"], download.status_code)
        files[rel] = download.content
    return files


@pytest.mark.django_db(transaction=True)
def test_chrs_upload_makes_a_feed(server: Any, clients: Path, tmp_path: Path) -> None:
    """`chrs upload` without --no-feed: it uploads, then looks up pl-dircopy 2.1.2 (pl-tsdircopy 1.2.1 when
    it adds to the current feed) and pl-unstack-folders 1.0.0 by exact name and version and runs them one
    after the other; the last run must hold the uploaded files at the top of its output, byte for byte."""
    from django.core.management import call_command

    # chrs 0.3 asks for pl-dircopy 2.1.2 exactly; cube registers that version on request only.
    call_command("register_plugins", "--builtins", "--compat-versions", "--compute-names", "host")
    home = tmp_path / "home"
    home.mkdir()
    data = tmp_path / "scans"
    (data / "sub").mkdir(parents=True)
    uploaded = {"a.txt": b"first uploaded file\n", "sub/b.dat": bytes(range(256)) * 3}
    for rel, content in uploaded.items():
        (data / rel).write_bytes(content)
    chrs(clients, home, "--cube", f"{server.url}/api/v1/", "--username", "chris", "--password", "chris1234",
         "login", "--no-keyring")

    out = chrs(clients, home, "upload", "--note", "scans uploaded by chrs", str(data))
    found = re.search(r"plugininstance/(\d+)", out)
    assert found, out
    http = requests.Session()
    http.auth = ("chris", "chris1234")
    http.headers["Accept"] = "application/json"

    unstack = api_wait_finished(http, server.url, int(found.group(1)))
    assert (unstack["plugin_name"], unstack["plugin_version"]) == ("pl-unstack-folders", "1.0.0")
    assert unstack["status"] == "finishedSuccessfully", unstack
    dircopy = api_wait_finished(http, server.url, unstack["previous_id"])
    assert (dircopy["plugin_name"], dircopy["plugin_version"], dircopy["status"]) == (
        "pl-dircopy", "2.1.2", "finishedSuccessfully")
    assert dircopy["previous_id"] is None and dircopy["feed_id"] == unstack["feed_id"]
    assert dircopy["title"] == "File upload from chrs"

    # pl-dircopy keeps the upload folder's long name; pl-unstack-folders lifts its contents to the top.
    copied = instance_files(http, server.url, dircopy["id"])
    assert sorted(rel.split("/", 1)[1] for rel in copied) == sorted(uploaded)
    assert instance_files(http, server.url, unstack["id"]) == uploaded

    feed = http.get(f"{server.url}/api/v1/{unstack['feed_id']}/", timeout=30).json()
    assert feed["creator_username"] == "chris"
    note = http.get(feed["note"], timeout=30).json()
    assert note["content"] == "scans uploaded by chrs"
    # chrs moved its context to the unstacking run: its listing is that run's output.
    assert chrs(clients, home, "ls").split() == ["data/"]
    listing = chrs(clients, home, "ls", "--full", "-L", "3")
    assert "a.txt" in listing and "b.dat" in listing and "chrs-upload-tmp" not in listing

    # A second upload goes into the current feed: below the run chrs is in, by pl-tsdircopy 1.2.1 (by exact
    # version too), then pl-unstack-folders again.
    more = tmp_path / "later.txt"
    more.write_bytes(b"uploaded into the same feed\n")
    out = chrs(clients, home, "upload", str(more))
    found = re.search(r"plugininstance/(\d+)", out)
    assert found, out
    unstack2 = api_wait_finished(http, server.url, int(found.group(1)))
    assert (unstack2["plugin_name"], unstack2["status"]) == ("pl-unstack-folders", "finishedSuccessfully")
    tsdircopy = api_wait_finished(http, server.url, unstack2["previous_id"])
    assert (tsdircopy["plugin_name"], tsdircopy["plugin_version"], tsdircopy["status"]) == (
        "pl-tsdircopy", "1.2.1", "finishedSuccessfully")
    assert tsdircopy["previous_id"] == unstack["id"]
    assert tsdircopy["feed_id"] == unstack2["feed_id"] == unstack["feed_id"]
    # Only the new upload is copied, not the previous run's output.
    assert [rel.split("/", 1)[1] for rel in instance_files(http, server.url, tsdircopy["id"])] == ["later.txt"]
    assert instance_files(http, server.url, unstack2["id"]) == {"later.txt": b"uploaded into the same feed\n"}
