"""Feed runs through the SLURM runner, end to end: the built-ins installed by
``manage.py install_builtin_plugins`` into a directory the (single, local) node shares with cube, a compute
resource whose runner is ``slurm`` with that ``plugin_dir``, and the API, a Celery worker and a real
slurmctld/slurmd between ``POST .../instances/`` and the downloaded outputs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from cube.runners import RunnerError
from cube.runners.slurm import SlurmRunner
from tests.feeds.conftest import server, worker  # noqa: F401 - the live server and Celery worker fixtures
from tests.feeds.test_e2e_local import Client, plugin_id, sign_up, wait_status

DONE = {"finishedSuccessfully", "finishedWithError"}


def _install(dest: Path) -> list[str]:
    from plugins.builtin.install import install

    return install(str(dest))


def test_installed_builtins_run_standalone_and_print_their_descriptors(tmp_path: Path) -> None:
    from plugins.builtin import REGISTRY, descriptor

    dest = tmp_path / "plugins"
    paths = _install(dest)
    assert sorted(paths) == sorted(str(dest / p.selfexec) for p in REGISTRY.values())
    assert (dest / "_common.py").is_file()
    for name, plugin in REGISTRY.items():
        exe = dest / plugin.selfexec
        assert os.access(exe, os.X_OK), exe
        # As on a node: the system python3, an empty environment, nothing of the repository on sys.path.
        proc = subprocess.run(["env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "python3", str(exe), "--json"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == descriptor(name)
    # Installing again replaces the files whole (a job starting meanwhile never reads half of one).
    (dest / "dircopy").write_text("stale")
    assert _install(dest) == paths
    assert (dest / "dircopy").read_bytes() == (Path(__file__).parents[2] / "plugins/builtin/dircopy.py").read_bytes()
    assert not [p for p in os.listdir(dest) if p.startswith(".install-")]


def test_plugin_entrypoint_stays_in_plugin_dir(tmp_path: Path) -> None:
    dest = tmp_path / "plugins"
    _install(dest)
    runner = SlurmRunner(str(tmp_path / "state"), plugin_dir=str(dest))
    assert runner.plugin_entrypoint("python3", "/usr/local/bin", "dircopy") == ["python3", str(dest / "dircopy")]
    (tmp_path / "outside").write_text("#!/bin/sh\n")
    for selfexec in ("../outside", "sub/dircopy", "..", ".", "", ".hidden", "/bin/sh", "nothere"):
        with pytest.raises(RunnerError):
            runner.plugin_entrypoint("python3", "/usr/local/bin", selfexec)
    with pytest.raises(RunnerError, match="absolute"):
        SlurmRunner(str(tmp_path / "state"), plugin_dir="plugins").plugin_entrypoint("python3", "/x", "dircopy")
    # Without plugin_dir the descriptor's own path stands, for sites that install plugins there.
    assert SlurmRunner(str(tmp_path / "state")).plugin_entrypoint("python3", "/usr/local/bin", "dircopy") == [
        "python3", "/usr/local/bin/dircopy"]


def _download(c: Client, item: dict[str, Any]) -> bytes:
    r = requests.get(item["file_resource"], headers={**c.headers, "Accept": "application/octet-stream"}, timeout=30)
    assert r.status_code == 200, r.text
    return r.content


def _outputs(c: Client, run: dict[str, Any]) -> dict[str, bytes]:
    """The run's output files by path below its output folder, downloaded through the API."""
    items = c.get(run["files"]).json()["results"]
    # files/ names files the classic way, without the leading "home/" of output_path.
    prefix = run["output_path"].removeprefix("home/") + "/"
    assert all(i["fname"].startswith(prefix) for i in items), items
    return {i["fname"][len(prefix):]: _download(c, i) for i in items}


def _slurm_jobs(cluster: Any) -> dict[str, str]:
    """Job name (cube's job id) -> state of every job slurmctld still remembers (MinJobAge is 600 s)."""
    out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%j %T"], env=cluster.env, capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


@pytest.mark.django_db(transaction=True)
def test_dircopy_then_simpledsapp_on_slurm(slurm_cluster: Any, server: Any, tmp_path: Path) -> None:  # noqa: F811
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from feeds.models import PluginInstance
    from feeds.services.jobs import job_dirs, job_id
    from plugins.models import Plugin
    from plugins.services import compute_resource_create
    from uploads.services import file_store

    plugin_dir = tmp_path / "node-plugins"
    call_command("install_builtin_plugins", str(plugin_dir), stdout=io.StringIO())
    state_dir = tmp_path / "slurm-state"
    cr = compute_resource_create(name="cluster", runner="slurm", description="the test SLURM cluster",
                                 runner_options={**slurm_cluster.runner_options(), "state_dir": str(state_dir),
                                                 "plugin_dir": str(plugin_dir)})
    for plugin in Plugin.objects.all():
        plugin.compute_resources.add(cr)
    c = sign_up(server.url, "alice")
    alice = User.objects.get(username="alice")
    scan, notes = os.urandom(200_000), b"second file, one folder down\n"
    file_store(owner=alice, path="home/alice/uploads/study/scan.dcm", chunks=[scan])
    file_store(owner=alice, path="home/alice/uploads/study/sub/notes.txt", chunks=[notes])

    r = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-dircopy')}/instances/",
               {"dir": "home/alice/uploads/study", "compute_resource_name": "cluster"})
    assert r.status_code == 201, r.text
    fs = wait_status(c, r.json()["url"], DONE, timeout=45)
    assert fs["status"] == "finishedSuccessfully", (fs, c.get(fs["logs"]).json())
    assert fs["compute_resource_name"] == "cluster"
    assert _outputs(c, fs) == {"home_alice_uploads_study/scan.dcm": scan,
                               "home_alice_uploads_study/sub/notes.txt": notes}
    assert "dircopy: requested paths: home/alice/uploads/study" in c.get(fs["logs"]).json()["logs"]

    ds_id = plugin_id(c, "pl-simpledsapp")
    r = c.post(f"/api/v1/plugins/{ds_id}/instances/",
               {"previous_id": fs["id"], "prefix": "s_", "compute_resource_name": "cluster"})
    assert r.status_code == 201, r.text
    ds = wait_status(c, r.json()["url"], DONE, timeout=45)
    assert ds["status"] == "finishedSuccessfully", (ds, c.get(ds["logs"]).json())
    assert _outputs(c, ds) == {"home_alice_uploads_study/s_scan.dcm": scan,
                               "home_alice_uploads_study/sub/s_notes.txt": notes}
    assert "simpledsapp: copied 2 files" in c.get(ds["logs"]).json()["logs"]

    # A plugin the site has not installed on its nodes is refused before anything is submitted.
    (plugin_dir / "unstack").unlink()
    r = c.post(f"/api/v1/plugins/{plugin_id(c, 'pl-unstack-folders')}/instances/",
               {"previous_id": fs["id"], "compute_resource_name": "cluster"})
    assert r.status_code == 201, r.text
    missing = wait_status(c, r.json()["url"], DONE, timeout=30)
    assert missing["status"] == "finishedWithError", missing
    assert missing["error_code"] == "CODE01", missing
    assert "'unstack' is not installed on this SLURM compute resource" in missing["status_message"]
    assert str(plugin_dir) not in missing["status_message"]
    # ...and the inputs copied for it do not stay behind in the jobs directory.
    assert not os.path.exists(os.path.dirname(job_dirs(PluginInstance.objects.get(id=missing["id"]))[0]))

    # A plugin that fails on the node: its run ends finishedWithError and says why in its log.
    r = c.post(f"/api/v1/plugins/{ds_id}/instances/",
               {"previous_id": ds["id"], "sleepLength": "soon", "compute_resource_name": "cluster"})
    assert r.status_code == 201, r.text
    bad = wait_status(c, r.json()["url"], DONE, timeout=45)
    assert bad["status"] == "finishedWithError", bad
    assert bad["error_code"] == "CODE02" and "exited with code 1" in bad["status_message"], bad
    assert "simpledsapp: invalid --sleepLength 'soon'" in c.get(bad["logs"]).json()["logs"]
    assert c.get(bad["files"]).json()["count"] == 0

    # Each run really went through SLURM, which saw the plugin's own exit status; the refused one never reached
    # it. The refused run is not the last one because its task ends a moment after its status does, and a test
    # ending then races the worker's last queries; the last run's SLURM state going away is the end of its task.
    deadline = time.monotonic() + 15
    while any(state_dir.iterdir()):
        assert time.monotonic() < deadline, f"job state left behind: {list(state_dir.iterdir())}"
        time.sleep(0.1)
    jobs = _slurm_jobs(slurm_cluster)
    runs = {i.id: job_id(i) for i in PluginInstance.objects.filter(
        id__in=[fs["id"], ds["id"], bad["id"], missing["id"]])}
    assert {jobs.get(runs[i]) for i in (fs["id"], ds["id"])} == {"COMPLETED"}, jobs
    assert jobs.get(runs[bad["id"]]) == "FAILED", jobs
    assert runs[missing["id"]] not in jobs, jobs
