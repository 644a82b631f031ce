"""Where plugin jobs run: each compute resource names a runner and its options."""

from __future__ import annotations

import os

from .. import env

# What every pod gets from its service account: a worker running in the cluster needs no settings.
_SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"

CUBE_JOBS_DIR = env.get("CUBE_JOBS_DIR", str(env.VAR_DIR / "jobs"))
CUBE_RUNNERS = {
    "local": {"BACKEND": "cube.runners.local.LocalRunner", "OPTIONS": {"state_dir": CUBE_JOBS_DIR + "/state"}},
    "docker": {
        "BACKEND": "cube.runners.docker.DockerRunner",
        "OPTIONS": {"base_url": env.get("DOCKER_HOST") or None},
    },
    # The job dirs (CUBE_JOBS_DIR), state_dir and plugin_dir must be on a file system the submit host and
    # the compute nodes share at the same paths; plugin_dir holds `manage.py install_builtin_plugins`.
    "slurm": {
        "BACKEND": "cube.runners.slurm.SlurmRunner",
        "OPTIONS": {
            "state_dir": env.get("CUBE_SLURM_STATE_DIR") or CUBE_JOBS_DIR + "/slurm",
            "partition": env.get("CUBE_SLURM_PARTITION") or None,
            "plugin_dir": env.get("CUBE_SLURM_PLUGIN_DIR") or None,
        },
    },
    "kubernetes": {
        "BACKEND": "cube.runners.kubernetes.KubernetesRunner",
        "OPTIONS": {
            "api_url": env.get("CUBE_K8S_API_URL", "https://kubernetes.default.svc"),
            "token": env.get("CUBE_K8S_TOKEN") or None,
            "token_file": env.get("CUBE_K8S_TOKEN_FILE") or (
                None if env.get("CUBE_K8S_TOKEN") else f"{_SERVICE_ACCOUNT}/token"),
            "ca_bundle": env.get("CUBE_K8S_CA_BUNDLE") or (
                f"{_SERVICE_ACCOUNT}/ca.crt" if os.path.exists(f"{_SERVICE_ACCOUNT}/ca.crt") else None),
            "insecure": env.get_bool("CUBE_K8S_INSECURE"),
            "namespace": env.get("CUBE_K8S_NAMESPACE", "default"),
            "volume_mode": env.get("CUBE_K8S_VOLUME_MODE", "hostPath"),
            "pvc_name": env.get("CUBE_K8S_PVC_NAME") or None,
            "pvc_host_dir": env.get("CUBE_K8S_PVC_HOST_DIR") or CUBE_JOBS_DIR,
            "run_as": env.get("CUBE_K8S_RUN_AS", "1000:1000"),
        },
    },
}
# The compute resource `make run` creates, and the runner it uses.
CUBE_DEFAULT_COMPUTE_RESOURCE = env.get("CUBE_DEFAULT_COMPUTE_RESOURCE", "host")
CUBE_DEFAULT_RUNNER = env.get("CUBE_DEFAULT_RUNNER", "local")
