"""`manage.py dicom_listener` as production runs it: its own process, on the test database and storage;
instances stored into it are registered; garbage on the port does not bring it down; SIGTERM stops it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pacs.dicom import PacsNode, echo, store
from tests.pacs.dicom.synth import PatientSpec, SeriesSpec, StudySpec, build_all
from tests.support.orthanc import free_port, wait_pid_gone

REPO = Path(__file__).resolve().parents[2]


def database_url() -> str:
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conf['NAME']}"
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf.get("PASSWORD") else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_listener_process_registers_and_stops_on_sigterm(system: Any, storage_root: str, tmp_path: Path) -> None:
    import pydicom

    from pacs.models import PACSSeries
    from pacs.services.nodes import pacs_create
    from uploads.models import ChrisFile

    pacs_create(identifier="SCANNER", aet="MODALITY2", host="127.0.0.1", port=104)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "STORAGE_ROOT": storage_root,
           "CUBE_VAR_DIR": str(tmp_path / "var"), "CUBE_DICOM_AET": "LISTENER", "CUBE_DICOM_PORT": str(port),
           "CUBE_DICOM_BIND": "127.0.0.1", "DJANGO_SETTINGS_MODULE": "cube.settings"}
    log = open(tmp_path / "listener.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "manage.py", "dicom_listener"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        node = PacsNode(aet="LISTENER", host="127.0.0.1", port=port, calling_aet="MODALITY2")
        deadline = time.monotonic() + 30
        while not echo(node).ok:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "listener.log").read_text()
            time.sleep(0.1)

        # Garbage first: the listener logs it and keeps serving.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n" * 10)
            sock.settimeout(5)
            try:
                sock.recv(100)
            except OSError:
                pass
        spec = SeriesSpec("MR", "T1", 6)
        study = StudySpec("20240101", "BRAIN", "A1", [spec])
        blobs = build_all([PatientSpec("LP1", "LIS^TENER", "19900101", "O", [study])])
        assert store(node, blobs) == [0] * 6
        deadline = time.monotonic() + 30
        while not PACSSeries.objects.filter(SeriesInstanceUID=spec.uid, ndicom=6).exists():
            assert time.monotonic() < deadline, (tmp_path / "listener.log").read_text()
            time.sleep(0.1)
        files = ChrisFile.objects.filter(fname__startswith="SERVICES/PACS/SCANNER/LP1-LIS_TENER-19900101/")
        assert files.count() == 6
        first = files.first()
        assert first is not None
        assert pydicom.dcmread(Path(storage_root) / first.fname).SOPInstanceUID in spec.sop_uids
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        finally:
            log.close()
        wait_pid_gone(proc.pid)
    output = (tmp_path / "listener.log").read_text()
    assert proc.returncode == 0, output
    assert f"DICOM listener LISTENER on 127.0.0.1:{port}" in output and "DICOM listener stopped" in output
    # What it reported last, for an admin (or pacs_reconcile): nothing left waiting for the database.
    state = json.loads((tmp_path / "var" / "dicom-spool" / "listener-state.json").read_text())
    assert state["stored"] == state["registered"] == 6 and state["waiting_registration"] == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
