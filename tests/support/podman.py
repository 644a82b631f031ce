"""A podman API service for tests: ``podman system service`` on a temporary unix socket.

The image store (graphroot) is persistent under the cache dir, configured by ``containers/podman-env.sh``
(the one place podman's settings live), so images built once survive between runs on the same machine;
the socket and the service's log live in a temporary directory. The service is started by this class
and stopped by its PID.

    with PodmanService() as podman:
        runner = DockerRunner(podman.docker_base_url)

``ensure_plugin_image(env)`` builds ``localhost/cube/plugins:latest`` (and the Debian base under it)
with ``containers/build-plugin-image.sh`` when missing or stale; cached, it takes about a second.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[2]
PODMAN_ENV_SCRIPT = REPO / "containers" / "podman-env.sh"
BUILD_SCRIPT = REPO / "containers" / "build-plugin-image.sh"
PLUGIN_IMAGE = "localhost/cube/plugins:latest"
BASE_IMAGE = "localhost/debian-py:bookworm"


class PodmanUnavailableError(RuntimeError):
    """podman (or runc) is not installed or its service does not come up; run .ci/setup-containers.sh."""


def podman_env() -> dict[str, str]:
    """The environment every podman command must run with (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF)."""
    if shutil.which("podman") is None:
        raise PodmanUnavailableError("podman is not installed (run .ci/setup-containers.sh)")
    out = subprocess.run(
        ["bash", "-c", '. "$1" && printf "%s\\n%s\\n" "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF"',
         "podman-env", str(PODMAN_ENV_SCRIPT)],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    return {**os.environ, "CONTAINERS_CONF": out[0], "CONTAINERS_STORAGE_CONF": out[1]}


def ensure_plugin_image(env: dict[str, str], engine: str = "podman") -> str:
    """Build (or refresh from the layer cache) the builtin-plugins image; returns its name."""
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT)], env={**env, "CUBE_CONTAINER_ENGINE": engine},
        capture_output=True, text=True, timeout=900,
    )
    if proc.returncode != 0:
        raise PodmanUnavailableError(f"building {PLUGIN_IMAGE} failed:\n{proc.stderr[-3000:]}")
    return PLUGIN_IMAGE


def _ping(sock_path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(sock_path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
            status_line = sock.recv(64).split(b"\r\n", 1)[0]
            return status_line.startswith(b"HTTP/1.") and status_line.split()[1:2] == [b"200"]
    except OSError:
        return False


class PodmanService:
    """``podman system service`` on a fresh unix socket; ``docker_base_url`` is what DockerRunner takes."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.env = env if env is not None else podman_env()
        self.root = Path(tempfile.mkdtemp(prefix="cube-podman-"))
        self.sock_path = str(self.root / "podman.sock")
        self.docker_base_url = f"unix://{self.sock_path}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> PodmanService:
        log = open(self.root / "service.log", "wb")  # noqa: SIM115 - the child keeps writing to it
        try:
            self.proc = subprocess.Popen(
                ["podman", "--log-level=warn", "system", "service", "--time=0", self.docker_base_url],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                # conmon drops marker files (e.g. "oom" when a container hits its memory limit) into
                # the service's working directory: keep them in ours, not in the caller's.
                cwd=str(self.root),
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if os.path.exists(self.sock_path) and _ping(self.sock_path):
                return self
            time.sleep(0.05)
        output = (self.root / "service.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise PodmanUnavailableError(f"podman system service did not come up:\n{output}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PodmanService:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
