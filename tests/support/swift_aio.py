"""A real OpenStack Swift all-in-one for tests: memcached, proxy, account, container and object servers.

Swift runs from its own venv (``.ci/setup-swift.sh`` puts it under the cache dir) because it pins eventlet and
friends that must not leak into the project's venv. Everything lives under one temporary directory; every
process is started by this class and stopped by its PID.

    with SwiftAIO() as swift:
        storage = SwiftStorage(swift.auth_url, swift.user, swift.key)
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import pytest

SERVERS = ("account", "container", "object")  # the proxy is handled apart: tests stop and restart it


class SwiftUnavailableError(RuntimeError):
    """Swift (or memcached) is not installed here; run .ci/setup-swift.sh."""


def cache_dir() -> Path:
    """The cache-dir rule shared with the .ci/setup-*.sh scripts."""
    return Path(os.environ.get("CUBE_CACHE") or Path.home() / ".cache" / "cube")


def swift_venv() -> Path:
    return cache_dir() / "swift-venv"


def memory_tmp() -> str | None:
    """A RAM-backed temp dir when the machine has one: on a busy disk the same test run is half as fast
    and removing Swift's thousands of small files takes seconds instead of a tenth of one."""
    shm = "/dev/shm"  # noqa: S108 - the standard Linux tmpfs, only used if present and writable
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_SWIFT_CONF = """\
[swift-hash]
swift_hash_path_suffix = cube-tests
swift_hash_path_prefix = cube-tests

[storage-policy:0]
name = Policy-0
default = yes
"""

_COMMON = """\
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
# workers = 0 serves from the started process itself, so its PID is the whole server.
workers = 0
swift_dir = {swift_dir}
devices = {devices}
mount_check = false
disable_fallocate = true
log_level = {log_level}
# A path that is not a socket: Swift then logs only to the console (-v), which goes to a file.
log_address = {root}/no-syslog
"""

_PROXY_PIPELINE = """\
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempauth copy dlo slo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_{account}_{username} = {key} .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{memcached_port}

[filter:bulk]
use = egg:swift#bulk
# Far below the default 10,000, so that tests cross a batch boundary with a thousand objects.
max_deletes_per_request = 500

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:dlo]
use = egg:swift#dlo

[filter:slo]
use = egg:swift#slo
"""

_BACKEND_PIPELINE = """\
[pipeline:main]
pipeline = {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}
"""

# One interpreter builds the three rings (what swift-ring-builder create/add/rebalance runs), instead of
# nine swift-ring-builder processes that each pay Swift's import time.
_RING_SCRIPT = """\
import sys
from swift.common.ring import RingBuilder
swift_dir = sys.argv[1]
for arg in sys.argv[2:]:
    kind, port = arg.split("=")
    builder = RingBuilder(10, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
                     "device": "d1", "weight": 100.0})
    builder.rebalance()
    builder.save(f"{swift_dir}/{kind}.builder")
    builder.get_ring().save(f"{swift_dir}/{kind}.ring.gz")
"""


class SwiftAIO:
    """One Swift all-in-one; ``start()`` returns once an authenticated request through the proxy works."""

    account = "test"
    username = "tester"
    key = "testing"

    def __init__(self, root: str | None = None, *, log_level: str = "WARNING", venv: Path | None = None):
        self.venv = venv or swift_venv()
        self._given_root = root
        self.root = Path(root) if root else Path()
        self.log_level = log_level
        self.ports: dict[str, int] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    @property
    def user(self) -> str:
        return f"{self.account}:{self.username}"

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy']}/auth/v1.0"

    @property
    def storage_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['proxy']}/v1/AUTH_{self.account}"

    def storage_options(self, **extra: Any) -> dict[str, Any]:
        """Options for cube.storage.swift.SwiftStorage (and build_storage) pointing at this Swift."""
        return {"auth_url": self.auth_url, "user": self.user, "key": self.key, **extra}

    def check_installed(self) -> None:
        missing = [
            str(self.venv / "bin" / f"swift-{kind}-server")
            for kind in ("proxy", *SERVERS)
            if not (self.venv / "bin" / f"swift-{kind}-server").exists()
        ]
        if shutil.which("memcached") is None:
            missing.append("memcached")
        if missing:
            raise SwiftUnavailableError(f"not installed: {', '.join(missing)} (run .ci/setup-swift.sh)")

    # --- lifecycle ---

    def start(self, timeout: float = 60.0) -> SwiftAIO:
        self.check_installed()
        if not self._given_root:
            self.root = Path(tempfile.mkdtemp(prefix="cube-swift-", dir=memory_tmp()))
        try:
            self._write_config()
            self._build_rings()
            memcached = ["memcached", "-l", "127.0.0.1", "-p", str(self.ports["memcached"]), "-U", "0", "-m", "64"]
            # memcached refuses to run as root unless told to.
            self._spawn("memcached", memcached + (["-u", "root"] if os.geteuid() == 0 else []))
            for kind in SERVERS:
                self._spawn_server(kind)
            self.start_proxy(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in list(self.procs):
            self._terminate(name)
        if not self._given_root and self.root != Path() and self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)

    def stop_proxy(self) -> None:
        """Stop only the proxy (its port refuses connections until start_proxy)."""
        self._terminate("proxy")

    def start_proxy(self, timeout: float = 60.0) -> None:
        """(Re)start the proxy on its port and wait until it authenticates a user."""
        self._spawn_server("proxy")
        self._wait_ready(timeout)

    def __enter__(self) -> SwiftAIO:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- internals ---

    def _write_config(self) -> None:
        for name in ("proxy", *SERVERS, "memcached"):
            self.ports.setdefault(name, free_port())
        (self.root / "etc").mkdir(parents=True, exist_ok=True)
        (self.root / "srv" / "d1").mkdir(parents=True, exist_ok=True)
        (self.root / "log").mkdir(exist_ok=True)
        (self.root / "etc" / "swift.conf").write_text(_SWIFT_CONF)
        for kind in ("proxy", *SERVERS):
            common = _COMMON.format(
                port=self.ports[kind],
                swift_dir=self.root / "etc",
                devices=self.root / "srv",
                log_level=self.log_level,
                root=self.root,
            )
            if kind == "proxy":
                body = _PROXY_PIPELINE.format(
                    account=self.account,
                    username=self.username,
                    key=self.key,
                    memcached_port=self.ports["memcached"],
                )
            else:
                body = _BACKEND_PIPELINE.format(kind=kind)
            (self.root / "etc" / f"{kind}-server.conf").write_text(common + "\n" + body)

    def _build_rings(self) -> None:
        args = [f"{kind}={self.ports[kind]}" for kind in SERVERS]
        subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", _RING_SCRIPT, str(self.root / "etc"), *args],
            check=True,
            capture_output=True,
        )

    def _spawn_server(self, kind: str) -> None:
        conf = self.root / "etc" / f"{kind}-server.conf"
        self._spawn(kind, [str(self.venv / "bin" / f"swift-{kind}-server"), str(conf), "-v"])

    def _spawn(self, name: str, argv: list[str]) -> None:
        with self._lock:  # tests restart the proxy from a second thread
            self._spawn_locked(name, argv)

    def _spawn_locked(self, name: str, argv: list[str]) -> None:
        if name in self.procs and self.procs[name].poll() is None:
            return
        # Same process group as the test run: a run killed as a group (Ctrl-C, a CI timeout) takes its
        # servers with it instead of leaving them to hold ports.
        with open(self.root / "log" / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def _terminate(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                # Test data needs no graceful shutdown; a server still draining idle clients is killed.
                proc.kill()
                proc.wait(timeout=10)
        # Reaped: the PID and its listening socket are gone (workers = 0, so no child holds the port).

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "not started"
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"Swift {name} exited with {proc.returncode}: {self.log_tail(name)}")
            try:
                token = self._request("GET", "/auth/v1.0", {"X-Auth-User": self.user, "X-Auth-Key": self.key})
                # HEAD of the account goes proxy -> account server: the whole chain answers.
                self._request("HEAD", f"/v1/AUTH_{self.account}", {"X-Auth-Token": token})
                return
            except (OSError, http.client.HTTPException) as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise RuntimeError(f"Swift not ready after {timeout}s ({last_error}): {self.log_tail('proxy')}")

    def _request(self, method: str, path: str, headers: dict[str, str]) -> str:
        """One request to the proxy; returns the X-Auth-Token header (if any), raises on a non-2xx."""
        conn = http.client.HTTPConnection("127.0.0.1", self.ports["proxy"], timeout=5)
        try:
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if not 200 <= resp.status < 300:
                raise http.client.HTTPException(f"{method} {path}: {resp.status} {resp.reason}")
            return resp.getheader("X-Auth-Token") or ""
        finally:
            conn.close()

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.root / "log" / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])



def require_service(reason: str) -> NoReturn:
    """A missing service fails the run under CI=true (where it must exist) and skips it elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def swift_aio() -> Iterator[SwiftAIO]:
    """One Swift all-in-one per test session (import this fixture into a conftest to use it)."""
    aio = SwiftAIO()
    try:
        aio.check_installed()
    except SwiftUnavailableError as exc:
        require_service(str(exc))
    aio.start()
    try:
        yield aio
    finally:
        aio.stop()

if __name__ == "__main__":
    # Manual use: start one, print how to reach it, stop on Ctrl-C.
    started = time.monotonic()
    with SwiftAIO(log_level="INFO") as aio:
        print(f"Swift ready in {time.monotonic() - started:.1f}s: {aio.auth_url} {aio.user} {aio.key}")
        print(f"logs and data under {aio.root}", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
