"""Where plugin jobs run: each compute resource names a runner and its options."""

from __future__ import annotations

from .. import env

CUBE_JOBS_DIR = env.get("CUBE_JOBS_DIR", str(env.VAR_DIR / "jobs"))
CUBE_RUNNERS = {
    "local": {"BACKEND": "cube.runners.local.LocalRunner", "OPTIONS": {"state_dir": CUBE_JOBS_DIR + "/state"}},
    "docker": {
        "BACKEND": "cube.runners.docker.DockerRunner",
        "OPTIONS": {"base_url": env.get("DOCKER_HOST") or None},
    },
}
# The compute resource `make run` creates, and the runner it uses.
CUBE_DEFAULT_COMPUTE_RESOURCE = env.get("CUBE_DEFAULT_COMPUTE_RESOURCE", "host")
CUBE_DEFAULT_RUNNER = env.get("CUBE_DEFAULT_RUNNER", "local")
