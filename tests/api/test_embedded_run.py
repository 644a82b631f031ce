"""`make run` as a user starts it: the embedded system (gunicorn, a Celery worker with beat on the
embedded broker, the DICOM listener) on SQLite and the filesystem, serving chris/chris1234 and the
built-in plugins; a job runs to the end; SIGTERM stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.uploads.server import REPO, _children, free_port


def _tree(pid: int) -> list[int]:
    out = [pid]
    for child in _children(pid):
        out += _tree(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def embedded(tmp_path: Any) -> Any:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_BACKEND")}
    port, dicom_port = free_port(), free_port()
    env.update(CUBE_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="cube.settings",
               CUBE_DICOM_PORT=str(dicom_port), CUBE_DICOM_BIND="127.0.0.1")
    for args in (["migrate", "--noinput"], ["cube_setup"], ["register_plugins", "--builtins", "--compute-names", "host"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    log = open(tmp_path / "embedded.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "cube.embedded", "--port", str(port), "--host", "127.0.0.1"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "embedded.log").read_text()[-3000:]
            try:
                if requests.get(f"{base}/api/v1/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "make run did not serve within 90 s"
            time.sleep(0.3)
        yield proc, base, dicom_port
    finally:
        pids = _tree(proc.pid)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [p for p in pids if _alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        assert not left, f"processes left running after SIGTERM: {left}"


def test_make_run_serves_runs_a_job_answers_dicom_and_stops_cleanly(embedded: Any) -> None:
    proc, base, dicom_port = embedded
    s = requests.Session()
    s.auth = ("chris", "chris1234")
    s.headers["Accept"] = "application/json"
    assert s.get(f"{base}/api/v1/users/", timeout=30).status_code == 200
    plugins = {p["name"] for p in s.get(f"{base}/api/v1/plugins/?limit=50", timeout=30).json()["results"]}
    assert {"pl-dircopy", "pl-simpledsapp", "pl-topologicalcopy"} <= plugins
    r = s.post(f"{base}/api/v1/userfiles/", data={"upload_path": "home/chris/uploads/run/a.txt"},
               files={"fname": ("a.txt", b"hello")}, timeout=30)
    assert r.status_code == 201, r.text
    pid = s.get(f"{base}/api/v1/plugins/search/?name_exact=pl-dircopy", timeout=30).json()["results"][0]["id"]
    inst = s.post(f"{base}/api/v1/plugins/{pid}/instances/", json={"dir": "home/chris/uploads/run"}, timeout=30)
    assert inst.status_code == 201, inst.text
    deadline = time.monotonic() + 120
    while (status := s.get(inst.json()["url"], timeout=30).json()["status"]) not in (
            "finishedSuccessfully", "finishedWithError", "cancelled"):
        assert time.monotonic() < deadline, f"job still {status} after 120 s"
        time.sleep(0.2)
    assert status == "finishedSuccessfully"
    files = s.get(inst.json()["url"] + "files/", timeout=30).json()["results"]
    assert [f["fname"].rsplit("/", 1)[1] for f in files] == ["a.txt"]

    from pacs.dicom import PacsNode, echo

    result = echo(PacsNode(aet="CHRIS", host="127.0.0.1", port=dicom_port, calling_aet="EMBEDTEST"))
    assert result.ok and result.status == 0x0000, f"the DICOM listener of make run: {result.message}"
    assert proc.poll() is None
