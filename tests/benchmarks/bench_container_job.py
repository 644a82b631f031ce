"""POST -> finishedSuccessfully of pl-dircopy with the container runner (podman's Docker API, the image
containers/ builds), on a server started as `make run` starts it. Needs .ci/setup-containers.sh.
Run: .venv/bin/python tests/benchmarks/bench_container_job.py"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

from bench_api import PY, REPO, free_port, manage  # noqa: E402

from tests.support import podman  # noqa: E402


def main() -> None:
    env_podman = podman.podman_env()
    podman.ensure_plugin_image(env_podman)
    service = podman.PodmanService(env_podman).start()
    tmp = tempfile.mkdtemp(prefix="cube-bench-containers-")
    port = free_port()
    env = {**os.environ, "CUBE_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "cube.settings"}
    env.pop("CELERY_BROKER_URL", None)
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "cube_setup")
        manage(env, "register_plugins", "--builtins", "--compute-names", "host")
        setup = ("from plugins.services import compute_resource_create; from plugins.models import Plugin; "
                 f"cr = compute_resource_create(name='containers', runner='docker', "
                 f"runner_options={{'base_url': {service.docker_base_url!r}}}); "
                 "[p.compute_resources.add(cr) for p in Plugin.objects.all()]")
        subprocess.run([PY, "manage.py", "shell", "-c", setup], cwd=REPO, env=env, check=True)
        server = subprocess.Popen([PY, "-m", "cube.embedded", "--port", str(port), "--host", "127.0.0.1"],
                                  cwd=REPO, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            s = requests.Session()
            s.auth = ("chris", "chris1234")
            s.headers["Accept"] = "application/json"
            deadline = time.monotonic() + 90
            while True:
                try:
                    if s.get(f"{base}/api/v1/", timeout=10).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start")
                time.sleep(0.3)
            time.sleep(3)
            pid = s.get(f"{base}/api/v1/plugins/search/?name_exact=pl-dircopy").json()["results"][0]["id"]
            times = []
            for _ in range(5):
                t0 = time.monotonic()
                inst = s.post(f"{base}/api/v1/plugins/{pid}/instances/",
                              json={"dir": "home/chris/uploads", "compute_resource_name": "containers"}).json()
                while (status := s.get(inst["url"]).json()["status"]) not in (
                        "finishedSuccessfully", "finishedWithError", "cancelled"):
                    time.sleep(0.02)
                assert status == "finishedSuccessfully", status
                times.append(time.monotonic() - t0)
            print(f"pl-dircopy POST -> finishedSuccessfully, container runner (podman): median "
                  f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}; goal < 3 s)")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        service.stop()


if __name__ == "__main__":
    main()
