"""File API figures on a real server (gunicorn serving cube.wsgi, as `make run` starts it).

Prints, for the 192 files of SAG-anon with 4 parallel clients (separate processes):
  * API upload and download MB/s on filesystem storage (issue goals: >= 45 and >= 65 MB/s);
  * on Swift (a real all-in-one), API upload time / python-swiftclient upload time of the same files
    (goal: <= 1.15);
  * the peak resident memory of the server worker that receives a 2 GiB upload streamed by the client
    (goal: < 200 MB);
  * the time to list the page at offset 99,900 of a folder holding 100,000 files (goal: < 50 ms).
Asserts nothing. Database: a fresh database on the server of DATABASE_URL if set, else SQLite in a
temporary directory. SAG-anon: $CUBE_SHARED_DIR/data/SAG-anon or <repo>/../shared/data/SAG-anon.
Run: .venv/bin/python tests/benchmarks/bench_files.py [--skip-swift] [--skip-2gb] [--big-gib 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.benchmarks.common import fresh_database, sag_files  # noqa: E402
from tests.uploads.server import GunicornServer  # noqa: E402

CLIENTS = 4
SWIFT_ROUNDS = 5  # Swift shares the two cores with the server and the clients: its times vary by round
PASSWORD = "bench-pass-1234"




# --- database and server ---




def prepare(env: dict[str, str]) -> None:
    """Migrate and bootstrap in this process (it later bulk-inserts rows into the same database)."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cube.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("cube_setup", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from cube.users.services import user_create

    user_create(username="bench", password=PASSWORD, email="bench@example.org")


def token(base: str) -> str:
    r = requests.post(f"{base}/api/v1/auth-token/", json={"username": "bench", "password": PASSWORD}, timeout=30)
    r.raise_for_status()
    return str(r.json()["token"])


# --- clients (module level: they run in worker processes) ---

_session: requests.Session | None = None


def _client(auth: str) -> requests.Session:
    global _session
    if _session is None:
        _session = requests.Session()
        _session.headers.update({"Authorization": f"Token {auth}", "Accept": "application/json"})
    return _session


def _upload(args: tuple[str, str, str, str]) -> tuple[int, str]:
    base, auth, path, upload_path = args
    data = Path(path).read_bytes()
    r = _client(auth).post(f"{base}/api/v1/userfiles/", data={"upload_path": upload_path},
                           files={"fname": ("fname", data)}, timeout=120)
    if r.status_code != 201:
        raise RuntimeError(f"upload {upload_path}: {r.status_code} {r.text[:200]}")
    return len(data), str(r.json()["file_resource"])


def _download(args: tuple[str, str]) -> int:
    auth, url = args
    r = _client(auth).get(url, headers={"Accept": "application/octet-stream"}, timeout=120)
    if r.status_code != 200:
        raise RuntimeError(f"download {url}: {r.status_code}")
    return len(r.content)


def upload_set(pool: ProcessPoolExecutor, base: str, auth: str, files: list[Path], prefix: str) -> tuple[float, int, list[str]]:
    jobs = [(base, auth, str(p), f"{prefix}/{p.name}") for p in files]
    started = time.perf_counter()
    results = list(pool.map(_upload, jobs, chunksize=4))
    elapsed = time.perf_counter() - started
    return elapsed, sum(n for n, _ in results), [url for _, url in results]


def download_set(pool: ProcessPoolExecutor, auth: str, urls: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    sizes = list(pool.map(_download, [(auth, u) for u in urls], chunksize=4))
    return time.perf_counter() - started, sum(sizes)


def python_speed() -> float:
    """Microseconds for sum(range(1000)): how fast (or how shared) this machine's cores are right now."""
    import timeit

    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def mbps(nbytes: int, seconds: float) -> float:
    return nbytes / seconds / 1e6


# --- figures ---


def bench_filesystem(srv: GunicornServer, auth: str, files: list[Path]) -> None:
    base = srv.url
    with ProcessPoolExecutor(CLIENTS) as pool:
        list(pool.map(_warm, [(auth, f"{base}/api/v1/userfiles/")] * CLIENTS))  # start workers and sessions
        rounds = []
        for i in range(3):
            cpu0 = srv.cpu_seconds()
            up_t, nbytes, urls = upload_set(pool, base, auth, files, f"home/bench/uploads/sag{i}")
            cpu1 = srv.cpu_seconds()
            down_t, down_bytes = download_set(pool, auth, urls)
            cpu2 = srv.cpu_seconds()
            rounds.append((mbps(nbytes, up_t), mbps(down_bytes, down_t),
                           (cpu1 - cpu0) * 1000 / len(files), (cpu2 - cpu1) * 1000 / len(files)))
    best_up = max(r[0] for r in rounds)
    best_down = max(r[1] for r in rounds)
    up_cpu = min(r[2] for r in rounds)
    down_cpu = min(r[3] for r in rounds)
    print(f"SAG-anon ({len(files)} files, {nbytes / 1e6:.1f} MB), {CLIENTS} clients, filesystem storage:")
    print(f"  API upload   {best_up:6.1f} MB/s  (rounds: {', '.join(f'{r[0]:.1f}' for r in rounds)}; goal >= 45); "
          f"server CPU {up_cpu:.1f} ms per file")
    print(f"  API download {best_down:6.1f} MB/s  (rounds: {', '.join(f'{r[1]:.1f}' for r in rounds)}; goal >= 65); "
          f"server CPU {down_cpu:.1f} ms per file")


_swift_conn: Any = None


def _swift_put(args: tuple[dict[str, str], str, str, str]) -> int:
    from swiftclient.client import Connection

    global _swift_conn
    opts, container, path, name = args
    if _swift_conn is None:
        _swift_conn = Connection(authurl=opts["auth_url"], user=opts["user"], key=opts["key"])
    data = Path(path).read_bytes()
    _swift_conn.put_object(container, name, data)
    return len(data)


def _warm(args: tuple[str, str]) -> int:
    auth, url = args
    return _client(auth).get(url, timeout=60).status_code


def bench_swift(tmp: Path, db_env: dict[str, str], files: list[Path]) -> None:
    from tests.support.swift_aio import SwiftAIO, SwiftUnavailableError

    aio = SwiftAIO()
    try:
        aio.check_installed()
    except SwiftUnavailableError as exc:
        print(f"Swift: skipped ({exc})")
        return
    with aio:
        opts = aio.storage_options()
        env = {**db_env, "CUBE_VAR_DIR": str(tmp / "var-swift"), "STORAGE_BACKEND": "swift",
               "SWIFT_AUTH_URL": opts["auth_url"], "SWIFT_USERNAME": opts["user"], "SWIFT_KEY": opts["key"],
               "SWIFT_CONTAINER_NAME": "cube-bench"}
        # The floor: a bare WSGI app under the same gunicorn settings that only forwards the file to Swift
        # (passthrough_app.py). What it costs, any Python upload API pays.
        floor_app = "tests.benchmarks.passthrough_app:application"
        with GunicornServer(env, tmp / "logs-swift") as srv, \
                GunicornServer(env, tmp / "logs-floor", app=floor_app) as floor, \
                ProcessPoolExecutor(CLIENTS) as pool:
            auth = token(srv.url)
            from swiftclient.client import Connection

            Connection(authurl=opts["auth_url"], user=opts["user"], key=opts["key"]).put_container("direct")
            list(pool.map(_warm, [(auth, f"{srv.url}/api/v1/userfiles/")] * CLIENTS))
            list(pool.map(_warm, [(auth, f"{floor.url}/api/v1/userfiles/")] * CLIENTS))
            rounds = []
            for i in range(SWIFT_ROUNDS):
                direct_start = time.perf_counter()
                list(pool.map(_swift_put, [(opts, "direct", str(p), f"r{i}/{p.name}") for p in files], chunksize=4))
                direct = time.perf_counter() - direct_start
                cpu0 = srv.cpu_seconds()
                api = upload_set(pool, srv.url, auth, files, f"home/bench/uploads/swift{i}")[0]
                cpu1, floor_cpu0 = srv.cpu_seconds(), floor.cpu_seconds()
                bare = upload_set(pool, floor.url, auth, files, f"floor{i}")[0]
                floor_cpu1 = floor.cpu_seconds()
                rounds.append((api / direct, bare / direct, api, direct, (cpu1 - cpu0) * 1000 / len(files),
                               (floor_cpu1 - floor_cpu0) * 1000 / len(files)))
    best = min(rounds)
    median = statistics.median(r[0] for r in rounds)
    print(f"Swift all-in-one, {CLIENTS} clients, SAG-anon (each round: straight to Swift, through the API, "
          f"through a bare pass-through app):")
    print(f"  API upload {best[2]:.2f} s vs python-swiftclient {best[3]:.2f} s: best ratio {best[0]:.2f}, "
          f"median {median:.2f} (rounds: {', '.join(f'{r[0]:.2f}' for r in rounds)}; goal <= 1.15); "
          f"server CPU {statistics.median(r[4] for r in rounds):.1f} ms per file")
    print(f"  floor, a bare pass-through app (no Django, no auth, no database): best ratio "
          f"{min(r[1] for r in rounds):.2f}, median {statistics.median(r[1] for r in rounds):.2f} "
          f"(rounds: {', '.join(f'{r[1]:.2f}' for r in rounds)}); "
          f"server CPU {statistics.median(r[5] for r in rounds):.1f} ms per file")


class FileMultipart:
    """A multipart body around a file on disk, read in blocks as requests sends it (with Content-Length)."""

    def __init__(self, path: Path, upload_path: str, boundary: str = "bench-boundary-7f3a"):
        self.head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload_path\"\r\n\r\n{upload_path}\r\n"
                     f"--{boundary}\r\nContent-Disposition: form-data; name=\"fname\"; filename=\"big.bin\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n").encode()
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.size = path.stat().st_size
        self.fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self.stage = 0

    def __len__(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def read(self, n: int = -1) -> bytes:
        if self.stage == 0:
            self.stage = 1
            return self.head
        if self.stage == 1:
            data = self.fh.read(n if n and n > 0 else 1 << 20)
            if data:
                return data
            self.stage = 2
        if self.stage == 2:
            self.stage = 3
            return self.tail
        return b""


def bench_big_upload(base: str, auth: str, srv: GunicornServer, tmp: Path, gib: float) -> None:
    path = tmp / "big.bin"
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for _ in range(int(gib * 1024)):
            fh.write(block)
    before = srv.peak_rss_kib()
    body = FileMultipart(path, "home/bench/uploads/big/big.bin")
    started = time.perf_counter()
    r = requests.post(f"{base}/api/v1/userfiles/", data=body, timeout=3600,
                      headers={"Authorization": f"Token {auth}", "Accept": "application/json",
                               "Content-Type": body.content_type})
    elapsed = time.perf_counter() - started
    body.fh.close()
    path.unlink()
    after = srv.peak_rss_kib()
    status = "ok" if r.status_code == 201 else f"FAILED {r.status_code} {r.text[:200]}"
    print(f"{gib:g} GiB upload streamed from the client: {status}, {mbps(body.size, elapsed):.0f} MB/s; "
          f"peak worker RSS {after / 1024:.0f} MB (before it: {before / 1024:.0f} MB; goal < 200 MB)")


def bench_listing(base: str, auth: str) -> None:
    from django.contrib.auth import get_user_model

    from uploads.models import ChrisFolder
    from uploads.services import files_register

    owner = get_user_model().objects.get(username="bench")
    started = time.perf_counter()
    files_register(owner=owner, objects=[(f"home/bench/uploads/many/f{i:06}.dcm", 1024, "")
                                         for i in range(100_000)])
    setup = time.perf_counter() - started
    from django.db import connection

    with connection.cursor() as cursor:
        # PostgreSQL's autovacuum vacuums and analyzes a table after a burst of inserts, within a minute;
        # until then its planner believes the folder holds a few dozen rows, and counting cannot use the
        # index alone. Do now what it would do, rather than wait (the steady state is what users see).
        cursor.execute("VACUUM ANALYZE uploads_chrisfile" if connection.vendor == "postgresql"
                       else "ANALYZE uploads_chrisfile")
    folder = ChrisFolder.objects.get(path="home/bench/uploads/many")
    session = requests.Session()
    session.headers["Authorization"] = f"Token {auth}"
    print(f"Folder of 100,000 files (rows inserted in {setup:.1f} s):")
    for accept, label in (("application/vnd.collection+json", "C+J"), ("application/json", "JSON")):
        for offset in (0, 99_900):
            url = f"{base}/api/v1/filebrowser/{folder.id}/files/?limit=100&offset={offset}"
            times = []
            for _ in range(30):
                t = time.perf_counter()
                r = session.get(url, headers={"Accept": accept}, timeout=60)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200
            times.sort()
            print(f"  {label:4} page of 100 at offset {offset:>6}: median {statistics.median(times):5.1f} ms, "
                  f"p90 {times[int(len(times) * 0.9)]:5.1f} ms (goal < 50 ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-swift", action="store_true")
    parser.add_argument("--skip-2gb", action="store_true")
    parser.add_argument("--big-gib", type=float, default=2.0)
    args = parser.parse_args()
    files = sag_files()
    if len(files) < 192:
        print("SAG-anon not found (set CUBE_SHARED_DIR); nothing to measure", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="cube-bench-files-") as tmp_name:
        tmp = Path(tmp_name)
        db_env, drop = fresh_database(tmp)
        try:
            env = {**db_env, "CUBE_VAR_DIR": str(tmp / "var"), "STORAGE_BACKEND": "filesystem",
                   "STORAGE_ROOT": str(tmp / "storage")}
            prepare(env)
            from django.db import connections

            print(f"database: {connections['default'].vendor}; server: gunicorn, 2 workers x 4 threads; "
                  f"this machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
                  f"python sum(range(1000)) in {python_speed():.1f} us (an idle modern core: about 10)")
            connections.close_all()
            with GunicornServer(env, tmp / "logs") as srv:
                auth = token(srv.url)
                bench_filesystem(srv, auth, files)
                bench_listing(srv.url, auth)
                if not args.skip_2gb:
                    bench_big_upload(srv.url, auth, srv, tmp, args.big_gib)
            connections.close_all()
            if not args.skip_swift:
                bench_swift(tmp, db_env, files)
        finally:
            from django.db import connections

            connections.close_all()
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
