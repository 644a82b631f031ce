"""A real Orthanc PACS for tests and benchmarks, run from Debian's binary on free ports.

Everything (config, database, storage, log) lives under one temporary directory; the process is
started by this class and stopped by its PID. The packaged system service is never used.

    with Orthanc(modalities={"cube": ("CUBE", "127.0.0.1", scp_port)}) as pacs:
        pacs.upload(dicom_bytes)
        pacs.add_modality("other", "OTHER", "127.0.0.1", 11113)
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any


class OrthancUnavailableError(RuntimeError):
    """Orthanc is not installed here; run .ci/setup-pacs.sh."""


def find_orthanc() -> str | None:
    """The Orthanc binary: on PATH, or where Debian puts it (/usr/sbin is not on every PATH)."""
    found = shutil.which("Orthanc")
    if found:
        return found
    candidate = Path("/usr/sbin/Orthanc")
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM if the test process dies without cleaning up (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def wait_pid_gone(pid: int, timeout: float = 10.0) -> bool:
    """True once no process has this PID (exited processes can linger here for seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        try:
            # A zombie child of ours: reap it so the PID really goes away.
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return not Path(f"/proc/{pid}").exists()


class Orthanc:
    """One Orthanc process. ``modalities`` maps a name to (AET, host, port) of DICOM peers it knows."""

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        aet: str = "ORTHANC",
        modalities: Mapping[str, tuple[str, str, int]] | None = None,
        config: Mapping[str, Any] | None = None,
        binary: str | None = None,
    ) -> None:
        self._own_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="cube-orthanc-"))
        self.aet = aet
        self.host = "127.0.0.1"
        self.dicom_port = 0
        self.http_port = 0
        self.modalities = dict(modalities or {})
        self.extra_config = dict(config or {})
        self.binary = binary or find_orthanc()
        self.proc: subprocess.Popen[bytes] | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def log_path(self) -> Path:
        return self.root / "orthanc.out"

    def _config(self) -> dict[str, Any]:
        storage = self.root / "db"
        config: dict[str, Any] = {
            "Name": "cube-test-orthanc",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "StorageCompression": False,
            "Plugins": [],
            "LuaScripts": [],
            "HttpServerEnabled": True,
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "OrthancExplorerEnabled": False,
            "WebDavEnabled": False,
            "HttpThreadsCount": 8,
            "DicomServerEnabled": True,
            "DicomAet": self.aet,
            "DicomPort": self.dicom_port,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomCheckModalityHost": False,
            "DicomModalities": {
                name: {"AET": aet, "Host": host, "Port": port} for name, (aet, host, port) in self.modalities.items()
            },
            "DicomModalitiesInDatabase": False,
            # Close outgoing (C-MOVE) associations at once: tests wait on association ends.
            "DicomAssociationCloseDelay": 0,
            "DicomScuTimeout": 10,
            "SaveJobs": False,
            # Test data is disposable: skip the fsync per stored file.
            "SyncStorageArea": False,
            "ConcurrentJobs": 2,
        }
        config.update(self.extra_config)
        return config

    def start(self, timeout: float = 30.0) -> Orthanc:
        if not self.binary:
            raise OrthancUnavailableError("Orthanc is not installed (run .ci/setup-pacs.sh: apt-get install orthanc)")
        self.root.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between choosing and binding it
            self.dicom_port, self.http_port = free_port(), free_port()
            config_path = self.root / "orthanc.json"
            config_path.write_text(json.dumps(self._config(), indent=2))
            logdir = self.root / "logs"
            logdir.mkdir(parents=True, exist_ok=True)
            env = dict(os.environ)
            # Orthanc's DICOM library leaves Nagle on unless told: ~40 ms per DIMSE exchange otherwise.
            env["TCP_NODELAY"] = "1"
            with open(self.log_path, "ab") as out:
                self.proc = subprocess.Popen(  # noqa: S603 - our own binary and arguments
                    [self.binary, f"--logdir={logdir}", str(config_path)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.root,
                    start_new_session=True,
                    # A killed pytest cannot run its teardown: never leave an Orthanc behind.
                    preexec_fn=die_with_parent,  # noqa: PLW1509
                )
            try:
                self._wait_ready(timeout)
                return self
            except RuntimeError as exc:
                last_error = str(exc)
                self.stop()
        raise RuntimeError(f"Orthanc did not start: {last_error}")

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.request("GET", "/system")
                if _port_open(self.dicom_port):
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"not ready within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        wait_pid_gone(proc.pid)

    def cleanup(self) -> None:
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Orthanc:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # --- REST API ----------------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> Any:
        """One REST call; returns the decoded JSON (or raw bytes when the answer is not JSON)."""
        req = urllib.request.Request(self.url + path, data=body, method=method)  # noqa: S310 - loopback
        if body is not None:
            req.add_header("Content-Type", content_type)
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - loopback
            data = resp.read()
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return data

    def upload(self, dicom: bytes | str | Path) -> dict[str, Any]:
        """POST /instances: one Part-10 file (bytes or a path). Returns Orthanc's answer (ID, Status)."""
        data = dicom if isinstance(dicom, bytes) else Path(dicom).read_bytes()
        result: dict[str, Any] = self.request("POST", "/instances", data, "application/dicom")
        return result

    def upload_many(self, items: Iterable[bytes | str | Path]) -> int:
        return sum(1 for item in items if self.upload(item))

    def add_modality(self, name: str, aet: str, host: str, port: int, **options: Any) -> None:
        """Register a DICOM peer at run time (PUT /modalities/<name>), e.g. a C-MOVE destination."""
        body = {"AET": aet, "Host": host, "Port": port, **options}
        self.request("PUT", f"/modalities/{name}", json.dumps(body).encode())
        self.modalities[name] = (aet, host, port)

    def remove_modality(self, name: str) -> None:
        self.request("DELETE", f"/modalities/{name}")
        self.modalities.pop(name, None)

    def statistics(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/statistics")
        return result

    def instance_ids(self) -> list[str]:
        result: list[str] = self.request("GET", "/instances")
        return result

    def delete_all(self) -> None:
        for patient in self.request("GET", "/patients") or []:
            self.request("DELETE", f"/patients/{patient}")
