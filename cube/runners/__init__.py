"""Job runners: where and how a plugin instance's process or container actually runs.

``base`` holds the contract (JobSpec, JobStatus, Runner); ``local`` runs jobs as detached host
processes (the embedded default), ``docker`` runs them in containers through the Docker API (dockerd
or podman's compatible socket), ``slurm`` submits them to a SLURM cluster, ``kubernetes`` runs each as a
batch/v1 Job through the Kubernetes API. Settings name a runner by
short name or dotted class path; :func:`build_runner` turns that into an instance. Backends are imported
only when asked for, so using the local runner never imports the Docker SDK.

Nothing in this package imports Django.
"""

from __future__ import annotations

import importlib

from .base import JobSpec, JobState, JobStatus, Runner, RunnerError

__all__ = [
    "RUNNER_CLASSES",
    "JobSpec",
    "JobState",
    "JobStatus",
    "Runner",
    "RunnerError",
    "build_runner",
]

# Short names accepted wherever a dotted path is: what compute resources and settings usually say.
RUNNER_CLASSES: dict[str, str] = {
    "local": "cube.runners.local.LocalRunner",
    "docker": "cube.runners.docker.DockerRunner",
    "slurm": "cube.runners.slurm.SlurmRunner",
    "kubernetes": "cube.runners.kubernetes.KubernetesRunner",
}


def runner_class(backend: str) -> type[Runner]:
    """The Runner subclass named by a short name ("local") or a dotted path ("pkg.mod.Class")."""
    path = RUNNER_CLASSES.get(backend, backend)
    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise RunnerError(f"unknown runner backend {backend!r}: not a short name nor a dotted path")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RunnerError(f"runner backend {backend!r} cannot be imported: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Runner)):
        raise RunnerError(f"runner backend {backend!r} is not a Runner class")
    return cls


def build_runner(backend: str, options: dict[str, object] | None = None) -> Runner:
    """An instance of the runner named by ``backend``, configured with ``options`` (keyword args)."""
    cls = runner_class(backend)
    try:
        return cls(**(options or {}))
    except TypeError as exc:  # unexpected or missing option: a configuration error, say which
        raise RunnerError(f"bad options for runner {backend!r}: {exc}") from exc
