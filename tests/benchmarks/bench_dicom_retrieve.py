"""Benchmark: C-MOVE from a real Orthanc into our storage SCP, with DCMTK's storescp as the reference.

    .venv/bin/python tests/benchmarks/bench_dicom_retrieve.py [--runs 3] [--small 500]

Loads ``SAG-anon`` (192 MR instances; ``$CUBE_SHARED_DIR/data/SAG-anon`` or ``<repo>/../shared/
data/SAG-anon``) and, with ``--small N``, N synthetic 39 KB instances into Orthanc, then moves each
series into (a) ``python -m pacs.dicom listen`` (our SCP with FileSink, in its own process as in
production) and (b) ``storescp``, alternating, and prints instances/s, MB/s and our/storescp ratio.
Receiver CPU per instance is printed too: on a shared, loaded machine it is steadier than rates.
Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pydicom import dcmread  # noqa: E402

from pacs.dicom import PacsNode, move  # noqa: E402
from tests.benchmarks.common import sag_dir, sag_files  # noqa: E402
from tests.support.orthanc import Orthanc, die_with_parent, free_port  # noqa: E402
from tests.support.processes import cpu_seconds, stop_child  # noqa: E402

OUR_AET = "CUBEBENCH"




def synthetic_series(count: int, size: int = 140) -> list[bytes]:
    """`count` MR instances of one new series, ~39 KB each (size x size 16-bit pixels)."""
    sys.path.insert(0, str(REPO / "tests" / "pacs" / "dicom"))
    from synth import PatientSpec, SeriesSpec, StudySpec, make_instance

    series = SeriesSpec("MR", "BENCH SMALL", count)
    study = StudySpec("20250101", "BENCH", "BENCH1", [series])
    patient = PatientSpec("BENCH-SMALL", "BENCH^SMALL", "20000101", "O", [study])
    return [make_instance(patient, study, series, n, size) for n in range(1, count + 1)]


class Receiver:
    """A receiving process started by us and stopped by its PID."""

    def __init__(self, name: str, aet: str, argv: Callable[[int, Path], list[str]], root: Path) -> None:
        self.name, self.aet, self.root = name, aet, root
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TCP_NODELAY="1", PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(  # noqa: S603 - our own command lines
            argv(self.port, root),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.proc.stdout.read().decode() if self.proc.stdout else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not listen on {self.port}")

    def clear(self) -> None:
        for child in self.root.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def files(self) -> int:
        return sum(1 for p in self.root.rglob("*") if p.is_file())

    def stop(self) -> None:
        stop_child(self.proc, grace=15)


def ours(max_pdu: int) -> Callable[[int, Path], list[str]]:
    def argv(port: int, root: Path) -> list[str]:
        return [sys.executable, "-m", "pacs.dicom", "listen", "--aet", "OURSCP", "--port", str(port),
                "--root", str(root), "--max-pdu", str(max_pdu)]
    return argv


def storescp(max_pdu: int) -> Callable[[int, Path], list[str]]:
    def argv(port: int, root: Path) -> list[str]:
        # +B writes the data exactly as received, like our SCP; +xa accepts every transfer syntax.
        return ["storescp", "-aet", "STORESCP", "-od", str(root), "+xa", "+B", "-pdu", str(max_pdu), str(port)]
    return argv


def run_move(node: PacsNode, receiver: Receiver, series_uid: str, expected: int) -> tuple[float, float]:
    """(wall seconds, receiver CPU seconds) of one C-MOVE of the series into `receiver`."""
    receiver.clear()
    cpu = receiver.cpu_seconds()
    start = time.perf_counter()
    result = move(node, receiver.aet, {"SeriesInstanceUID": series_uid})
    elapsed = time.perf_counter() - start
    cpu = receiver.cpu_seconds() - cpu
    if not result.ok or result.completed != expected:
        raise RuntimeError(f"{receiver.name}: {result}")
    got = receiver.files()
    if got != expected:
        raise RuntimeError(f"{receiver.name}: {got} files for {expected} instances")
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=500, help="synthetic 39 KB instances (0: none)")
    args = parser.parse_args()
    if shutil.which("storescp") is None:
        print("storescp not found: run .ci/setup-pacs.sh", file=sys.stderr)
        return 2
    sag = sag_files()
    if not sag:
        print(f"no SAG-anon data at {sag_dir()}", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="cube-bench-dicom-"))
    receivers: list[Receiver] = []
    try:
        with Orthanc(work / "orthanc", modalities={"bench": (OUR_AET, "127.0.0.1", 9)}) as pacs:
            datasets: list[tuple[str, str, int, int]] = []  # (label, series uid, count, bytes)
            t0 = time.perf_counter()
            for path in sag:
                pacs.upload(path)
            sag_uid = str(dcmread(sag[0], stop_before_pixels=True).SeriesInstanceUID)
            sag_bytes = sum(p.stat().st_size for p in sag)
            datasets.append(("SAG-anon", sag_uid, len(sag), sag_bytes))
            if args.small:
                blobs = synthetic_series(args.small)
                for blob in blobs:
                    pacs.upload(blob)
                small_uid = str(dcmread(io.BytesIO(blobs[0]), stop_before_pixels=True).SeriesInstanceUID)
                datasets.append((f"synthetic x{args.small}", small_uid, len(blobs), sum(map(len, blobs))))
            print(f"loaded Orthanc over HTTP in {time.perf_counter() - t0:.1f} s")

            node = PacsNode(pacs.aet, pacs.host, pacs.dicom_port, calling_aet=OUR_AET)
            candidates = [
                ("ours (1 MiB PDU)", "OURSCP", ours(1 << 20)),
                ("ours (16 KiB PDU)", "OURSCP", ours(16384)),
                ("storescp (16 KiB PDU)", "STORESCP", storescp(16384)),
                ("storescp (128 KiB PDU)", "STORESCP", storescp(131072)),
            ]
            for label, series_uid, count, size in datasets:
                print(f"\n== {label}: {count} instances, {size / 1e6:.1f} MB; best and median of {args.runs} runs")
                times: dict[str, list[float]] = {name: [] for name, _, _ in candidates}
                cpus: dict[str, list[float]] = {name: [] for name, _, _ in candidates}
                for _run in range(args.runs):
                    for name, aet, argv in candidates:
                        receiver = Receiver(name, aet, argv, work / "recv" / name.split()[0])
                        receivers.append(receiver)
                        pacs.add_modality(aet.lower(), aet, "127.0.0.1", receiver.port)
                        try:
                            wall, cpu = run_move(node, receiver, series_uid, count)
                            times[name].append(wall)
                            cpus[name].append(cpu)
                        finally:
                            receiver.stop()
                best = {name: min(ts) for name, ts in times.items()}
                for name, ts in times.items():
                    med = statistics.median(ts)
                    cpu_ms = statistics.median(cpus[name]) * 1000 / count
                    print(f"  {name:24s} {count / best[name]:7.1f} inst/s {size / 1e6 / best[name]:7.1f} MB/s"
                          f"   (median {count / med:7.1f} inst/s)   receiver CPU {cpu_ms:5.2f} ms/instance")
                medians = {name: statistics.median(ts) for name, ts in times.items()}
                for label_, pick in (("best", best), ("median", medians)):
                    ref = max(count / pick[n] for n in pick if n.startswith("storescp"))
                    mine = max(count / pick[n] for n in pick if n.startswith("ours"))
                    print(f"  ratio ours/storescp ({label_} of each): {mine / ref:.2f}")
    finally:
        for receiver in receivers:
            receiver.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
