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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

from bench_api import PY, REPO, free_port, job_latency, manage, start_embedded  # noqa: E402

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
        server, base = start_embedded(env, port)
        try:
            times = job_latency(base, compute_resource_name="containers")
            print(f"pl-dircopy POST -> finishedSuccessfully, container runner (podman): median "
                  f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}; goal < 3 s)")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        service.stop()


if __name__ == "__main__":
    main()
