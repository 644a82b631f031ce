"""A real cube web server for tests and benchmarks: gunicorn serving cube.wsgi on a free port.

Started as its own session and stopped by its PID (never by name); ``stop`` waits until the master and
its workers are really gone. The caller chooses the database and storage through ``env``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from tests.support.processes import cpu_seconds

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class GunicornServer:
    def __init__(self, env: dict[str, str], log_dir: Path, *, workers: int = 2, threads: int = 4,
                 app: str = "cube.wsgi:application"):
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cube.settings", **env}
        self.app = app  # benchmarks also serve a bare reference app under the same gunicorn settings
        self.log_dir = log_dir
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""  # an API token the caller may keep here for its clients

    def manage(self, *args: str) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def start(self, timeout: float = 60) -> GunicornServer:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / "gunicorn.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", self.app, "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--threads", str(self.threads), "--worker-class", "gthread",
             "--timeout", "0", "--graceful-timeout", "5"],
            cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log_dir}/gunicorn.log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("gunicorn did not start listening") from None
                time.sleep(0.1)
        return self

    def worker_pids(self) -> list[int]:
        return _children(self.proc.pid) if self.proc is not None else []

    def peak_rss_kib(self) -> int:
        """The largest peak resident set of any worker (VmHWM): what one request could make a worker hold."""
        return max((_status_kib(pid, "VmHWM") for pid in self.worker_pids()), default=0)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the master and its workers have used so far."""
        return sum(cpu_seconds(pid) for pid in ([self.proc.pid] if self.proc else []) + self.worker_pids())

    def stop(self) -> None:
        if self.proc is None:
            return
        pids = [self.proc.pid, *self.worker_pids()]
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the session this object started, by its id
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() and _status_kib(pid, "VmRSS") for pid in pids):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.proc = None

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
