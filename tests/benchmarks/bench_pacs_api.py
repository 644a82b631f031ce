"""Benchmark: retrieving SAG-anon through the API, beside DCMTK's storescp receiving the same series.

    .venv/bin/python tests/benchmarks/bench_pacs_api.py [--runs 3] [--broker redis://127.0.0.1:6379/15]
        [--storage filesystem|swift]

Loads SAG-anon (192 MR instances, 45 MB; $CUBE_SHARED_DIR/data/SAG-anon or <repo>/../shared/data/SAG-anon)
into a real Orthanc, then as production runs it: `manage.py dicom_listener` and a Celery worker in their
own processes, the API in this one (DRF's test client: no HTTP server in the way). Each run registers the
node's query once, then POSTs a retrieve and polls it until it is succeeded, i.e. until every instance
is written to storage and registered in the file registry and the series index. Prints, per run:
  * API:      POST retrieve → status succeeded (all 192 registered), instances/s; this includes the Celery
              broker's pickup of the task (up to one poll, 20 ms, with the embedded filesystem broker);
  * task:     the retrieve task's own start → end (without the broker's pickup latency);
  * storescp: a C-MOVE of the same series into DCMTK's storescp (writing files), instances/s;
  * CPU ms per instance of the listener, the worker and storescp (from /proc; steadier than rates);
and the ratio API/storescp (issue goal: at least 100 inst/s and at least half of storescp's rate).
With ``--storage swift`` the listener imports into a real Swift all-in-one (started here, as
bench_files.py does) instead of the embedded filesystem storage.
Between runs the series is deleted so that every run receives and registers it afresh.
Database: a fresh database on the server of DATABASE_URL if set, else SQLite in a temporary directory.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.common import fresh_database, sag_files  # noqa: E402
from tests.support.orthanc import Orthanc, die_with_parent, free_port  # noqa: E402
from tests.support.processes import cpu_seconds, stop_child  # noqa: E402

OUR_AET = "CUBEBENCH"
JSON = "application/json"


class Process:
    """A child process started by us and stopped by its PID."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent)  # noqa: PLW1509 - only sets PDEATHSIG

    def alive(self) -> bool:
        return self.proc.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far: steadier than rates on a busy machine."""
        return cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        stop_child(self.proc, grace=20)
        self._out.close()


def wait_port(port: int, proc: Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not listen on {port}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--broker", default="",
                        help="Celery broker URL, e.g. redis://127.0.0.1:6379/15 as production runs it (a database "
                             "no other worker reads); default: the embedded filesystem broker (polling every CUBE_BROKER_POLL_SECONDS)")
    parser.add_argument("--storage", choices=("filesystem", "swift"), default="filesystem",
                        help="where the listener stores instances: the embedded filesystem (hard links) or a Swift "
                             "all-in-one started for the run")
    args = parser.parse_args()
    sag = sag_files()
    if not sag:
        print("no SAG-anon data (set CUBE_SHARED_DIR)", file=sys.stderr)
        return 2
    if shutil.which("storescp") is None:
        print("storescp not found: run .ci/setup-pacs.sh", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="cube-bench-pacs-"))
    db_env, drop_db = fresh_database(work)
    listen_port = free_port()
    env = {**os.environ, **db_env, "CUBE_VAR_DIR": str(work / "var"), "STORAGE_ROOT": str(work / "storage"),
           "CUBE_DICOM_AET": OUR_AET, "CUBE_DICOM_PORT": str(listen_port), "CUBE_DICOM_BIND": "127.0.0.1",
           "DJANGO_SETTINGS_MODULE": "cube.settings", "CELERY_BROKER_URL": args.broker, "TCP_NODELAY": "1"}
    if not args.broker:
        env.pop("CELERY_BROKER_URL")  # kombu's filesystem broker under CUBE_VAR_DIR: nobody else's worker
    procs: list[Process] = []
    swift: Any = None
    try:
        if args.storage == "swift":
            from tests.support.swift_aio import SwiftAIO

            swift = SwiftAIO().start()  # SwiftUnavailableError says what to install
            opts = swift.storage_options()
            env.update({"STORAGE_BACKEND": "swift", "SWIFT_AUTH_URL": opts["auth_url"],
                        "SWIFT_USERNAME": opts["user"], "SWIFT_KEY": opts["key"], "SWIFT_CONTAINER_NAME": "cube-bench"})
        os.environ.update({k: v for k, v in env.items() if k != "TCP_NODELAY"})
        import warnings

        import django

        warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collected static here

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        from cube.core.services import system_setup

        admin_user = system_setup(admin_password="chris1234")
        with Orthanc(work / "orthanc", modalities={"cube": (OUR_AET, "127.0.0.1", listen_port)}) as pacs:
            t0 = time.perf_counter()
            for path in sag:
                pacs.upload(path)
            size = sum(p.stat().st_size for p in sag)
            print(f"SAG-anon: {len(sag)} instances, {size / 1e6:.1f} MB loaded into Orthanc in "
                  f"{time.perf_counter() - t0:.1f} s; database {'PostgreSQL' if 'postgres' in db_env['DATABASE_URL'] else 'SQLite'}"
                  f", broker {args.broker.split('://')[0] if args.broker else 'embedded (filesystem)'}"
                  f", storage {args.storage}")
            listener = Process("listener", [sys.executable, "manage.py", "dicom_listener"], env, work / "listener.log")
            procs.append(listener)
            worker = Process("worker", [sys.executable, "-m", "celery", "-A", "cube", "worker", "-Q", "main,jobs",
                                        "--pool", "threads", "--concurrency", "2", "--loglevel", "WARNING"],
                             env, work / "worker.log")
            procs.append(worker)
            wait_port(listen_port, listener)
            results = run(pacs, admin_user, len(sag), args.runs, work, procs)
        print_results(results, len(sag), size)
    finally:
        for proc in procs:
            proc.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - django may not have started
            pass
        drop_db()
        if swift is not None:
            swift.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run(pacs: Orthanc, admin_user: Any, count: int, runs: int, work: Path, procs: list[Process]) -> dict[str, list[float]]:
    from django.utils.dateparse import parse_datetime
    from rest_framework.test import APIClient

    from pacs.dicom import PacsNode, move
    from pacs.models import PACSSeries
    from pacs.services.series import series_delete_now
    from uploads.models import DeletionStatus

    client = APIClient()
    client.force_authenticate(admin_user)
    r = client.post("/chris-admin/api/v1/pacs/", {"identifier": "ORTHANC", "aet": pacs.aet, "host": pacs.host,
                                                  "port": pacs.dicom_port}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
    node = r.json()
    r = client.post(node["query_list"], {"title": "sag", "query": {"PatientID": "*"}}, format="json", HTTP_ACCEPT=JSON)
    query = poll(client, r.json()["url"])
    if query["status"] != "succeeded":
        raise RuntimeError(f"query failed: {query}")
    store_dir = work / "storescp"
    store_dir.mkdir()
    port = free_port()
    # TCP_NODELAY=1: DCMTK leaves Nagle on otherwise (40 ms per exchange), as Orthanc does.
    storescp = Process("storescp", ["storescp", "-aet", "STORESCP", "-od", str(store_dir), "+xa", "+B", "-pdu",
                                    "131072", str(port)],
                       {**os.environ, "TCP_NODELAY": "1"}, work / "storescp.log")
    procs.append(storescp)
    wait_port(port, storescp)
    pacs.add_modality("storescp", "STORESCP", "127.0.0.1", port)
    dicom_node = PacsNode(pacs.aet, pacs.host, pacs.dicom_port, calling_aet=OUR_AET)
    series_uid = query["result_json"][0]["series"][0]["SeriesInstanceUID"]
    listener, worker = procs[0], procs[1]
    times: dict[str, list[float]] = {"api": [], "task": [], "storescp": [],
                                     "cpu_listener": [], "cpu_worker": [], "cpu_storescp": []}
    for _ in range(runs):
        for series in PACSSeries.objects.all():  # receive and register afresh every run
            PACSSeries.objects.filter(pk=series.pk).update(deletion_status=DeletionStatus.PENDING)
            series_delete_now(series.pk)
        cpu_listener, cpu_worker = listener.cpu_seconds(), worker.cpu_seconds()
        posted = datetime.now(UTC)
        r = client.post(query["retrieve_list"], {}, format="json", HTTP_ACCEPT=JSON)
        # Polled slowly: the retrieve's own end_date says when it finished, and a busy poll would take
        # CPU from the listener and the worker on a small machine.
        done = poll(client, r.json()["url"], every=0.2)
        if done["status"] != "succeeded" or done["received"] != count:
            raise RuntimeError(f"retrieve failed: {done}")
        times["cpu_listener"].append(listener.cpu_seconds() - cpu_listener)
        times["cpu_worker"].append(worker.cpu_seconds() - cpu_worker)
        begin, end = parse_datetime(done["start_date"]), parse_datetime(done["end_date"])
        assert begin is not None and end is not None
        times["api"].append((end - posted).total_seconds())
        times["task"].append((end - begin).total_seconds())
        for child in store_dir.iterdir():
            child.unlink()
        cpu_storescp = storescp.cpu_seconds()
        start = time.perf_counter()
        result = move(dicom_node, "STORESCP", {"SeriesInstanceUID": series_uid})
        times["storescp"].append(time.perf_counter() - start)
        times["cpu_storescp"].append(storescp.cpu_seconds() - cpu_storescp)
        received = sum(1 for _ in store_dir.iterdir())
        if not result.ok or received != count:
            raise RuntimeError(f"storescp: {result}, {received} files")
    return times


def poll(client: Any, url: str, every: float = 0.05, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(url, HTTP_ACCEPT=JSON).json()
        if body["status"] in ("succeeded", "errored") or time.monotonic() > deadline:
            return body
        time.sleep(every)


def print_results(times: dict[str, list[float]], count: int, size: int) -> None:
    labels = {"api": "API: POST retrieve -> succeeded (C-MOVE + write + register)",
              "task": "retrieve task start -> end", "storescp": "DCMTK storescp, C-MOVE of the same series"}
    for key, label in labels.items():
        best, med = min(times[key]), statistics.median(times[key])
        print(f"  {label:60s} {count / best:7.1f} inst/s {size / 1e6 / best:6.1f} MB/s  "
              f"(median {count / med:6.1f} inst/s, {len(times[key])} runs)")
    print(f"  ratio API/storescp (best of each): {min(times['storescp']) / min(times['api']):.2f}")
    cpu = {key: statistics.median(times[f"cpu_{key}"]) * 1000 / count for key in ("listener", "worker", "storescp")}
    print(f"  CPU ms/instance (median): listener {cpu['listener']:.2f}, worker {cpu['worker']:.2f} "
          f"(retrieve task and its polling), storescp {cpu['storescp']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
