"""API-core and job-engine figures, on a real server started the way `make run` starts it.

Prints: Basic-auth requests/s on /api/v1/plugins/ with 8 concurrent clients (the real PBKDF2 hasher),
POST→finishedSuccessfully of pl-dircopy with the local runner, and the time to register 10,000 output
files. Uses SQLite and filesystem storage in a temporary directory (or DATABASE_URL if set).
Run: .venv/bin/python tests/benchmarks/bench_api.py
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)


def basic_auth_rate(base: str, clients: int = 8, seconds: float = 10.0) -> float:
    """Requests/s from `clients` keep-alive connections. http.client, not requests: the load generator
    shares the machine's two cores with the server, and requests costs several times more CPU per call."""
    import base64
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(base)
    headers = {"Authorization": "Basic " + base64.b64encode(b"chris:chris1234").decode()}
    count = [0] * clients
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
        while time.monotonic() < stop:
            conn.request("GET", "/api/v1/plugins/", headers=headers)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
            count[i] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(count) / seconds


def job_latency(base: str, runs: int = 5, compute_resource_name: str | None = None) -> list[float]:
    """Seconds from POSTing a pl-dircopy run to seeing it finishedSuccessfully, polling every 20 ms."""
    body = {"dir": "home/chris/uploads"}
    if compute_resource_name:
        body["compute_resource_name"] = compute_resource_name
    s = requests.Session()
    s.auth = ("chris", "chris1234")
    s.headers["Accept"] = "application/json"
    pid = s.get(f"{base}/api/v1/plugins/search/?name_exact=pl-dircopy").json()["results"][0]["id"]
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        inst = s.post(f"{base}/api/v1/plugins/{pid}/instances/", json=body).json()
        while True:
            status = s.get(inst["url"]).json()["status"]
            if status in ("finishedSuccessfully", "finishedWithError", "cancelled"):
                break
            time.sleep(0.02)
        assert status == "finishedSuccessfully", status
        times.append(time.monotonic() - t0)
    return times


def registration_time(env: dict[str, str], n: int = 10_000) -> float:
    code = f"""
import os, time, django
django.setup()
from django.contrib.auth.models import User
from plugins.models import Plugin
from feeds.models import Feed, PluginInstance
from feeds.services.jobs import job_dirs, register_outputs
from uploads.services import folder_get_or_create
u = User.objects.get(username='chris')
feed = Feed.objects.create(name='bench', owner=u)
feed.folder = folder_get_or_create(path=f'home/chris/feeds/feed_{{feed.id}}', owner=u); feed.save()
inst = PluginInstance.objects.create(plugin=Plugin.objects.get(meta__name='pl-dircopy'), feed=feed, owner=u,
                                     status='registeringFiles')
inst.output_folder = folder_get_or_create(path=f'{{feed.folder.path}}/pl-dircopy_{{inst.id}}/data', owner=u)
inst.save()
_, out = job_dirs(inst)
for i in range({n}):
    d = os.path.join(out, f'sub{{i % 100:03d}}')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f'f{{i:05d}}.txt'), 'w') as fh:
        fh.write('x' * 100)
t0 = time.monotonic(); register_outputs(inst); print(time.monotonic() - t0)
"""
    out = subprocess.run([PY, "-c", code], cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def start_embedded(env: dict[str, str], port: int, timeout: float = 90) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m cube.embedded` (what make run starts) in its own process group; returns once it serves."""
    server = subprocess.Popen([PY, "-m", "cube.embedded", "--port", str(port), "--host", "127.0.0.1"], cwd=REPO,
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{base}/api/v1/", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            os.killpg(server.pid, signal.SIGTERM)
            raise SystemExit("server did not start")
        time.sleep(0.2)
    time.sleep(2)  # let the Celery worker come up too
    return server, base


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="cube-bench-")
    port = free_port()
    env = {**os.environ, "CUBE_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "cube.settings", "PORT": str(port)}
    env.pop("CELERY_BROKER_URL", None)
    manage(env, "migrate", "--noinput")
    manage(env, "cube_setup")
    manage(env, "register_plugins", "--builtins", "--compute-names", "host")
    server, base = start_embedded(env, port)
    try:
        # Warm up: each server process verifies the password once (0.3 s of PBKDF2), then uses its cache.
        basic_auth_rate(base, seconds=5)
        rate = basic_auth_rate(base)
        print(f"basic-auth GET /api/v1/plugins/, 8 clients: {rate:.0f} req/s (goal >= 100; CUBE ~5)")
        lat = job_latency(base)
        print(f"pl-dircopy POST -> finishedSuccessfully, local runner: median {statistics.median(lat):.2f} s "
              f"(min {min(lat):.2f}, max {max(lat):.2f}; goal < 2 s; CUBE polls every 5 s)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    reg = registration_time(env)
    print(f"register 10,000 output files: {reg:.2f} s (goal < 2 s)")


if __name__ == "__main__":
    main()
