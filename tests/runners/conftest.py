"""Fixtures for the runner contract suite: one ``backend`` fixture per available runner, backed by real
processes, real containers (podman's API service, or a dockerd named by DOCKER_HOST), a real
single-node SLURM cluster, and Kubernetes Jobs on the fake API server of tests/support/fake_k8s.py, whose
pods run as real containers on the same engine. Under CI=true a backend that cannot be had fails the run; elsewhere its
tests are skipped with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cube.runners.base import Runner

from .harness import Backend, pid_running, unavailable

BACKENDS = ("local", "docker", "slurm", "kubernetes")
K8S_TOKEN = "contract-suite-token"


def _local_backend(tmp: Path) -> Backend:
    from cube.runners.local import LocalRunner

    state_dir = tmp / "state"

    def job_gone(job_id: str, out: Path) -> bool:
        pids = [int(p.read_text()) for p in out.glob("*.pid") if p.read_text().strip()]
        child = state_dir / job_id / "child"
        if child.exists():
            pids.append(int(child.read_text().split()[0]))
        return not any(pid_running(p) for p in pids)

    return Backend("local", lambda: LocalRunner(str(state_dir), kill_grace_seconds=2), None, tmp, job_gone)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Any]:
    from tests.support import slurm

    try:
        cluster = slurm.SlurmCluster().start()
    except slurm.SlurmUnavailableError as exc:
        unavailable(f"slurm: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


def _docker_backend(tmp: Path, base_url: str, image: str) -> Backend:
    from cube.runners.docker import DockerRunner

    made: list[DockerRunner] = []

    def make() -> Runner:
        runner = DockerRunner(base_url, stop_grace_seconds=1)
        made.append(runner)
        return runner

    def job_gone(job_id: str, out: Path) -> bool:
        runner = made[0] if made else DockerRunner(base_url)
        info = runner._inspect(job_id)
        return info is None or not (info.get("State") or {}).get("Running")

    return Backend("docker", make, image, tmp, job_gone, in_container=True)


@pytest.fixture(scope="session")
def fake_k8s(container_engine: tuple[str, str]) -> Iterator[Any]:
    """One fake Kubernetes API server per session, its kubelet on the session's container engine."""
    from tests.support.fake_k8s import FakeKubernetes

    fake = FakeKubernetes(container_engine[0], token=K8S_TOKEN).start()
    try:
        yield fake
    finally:
        fake.stop()


def _kubernetes_backend(tmp: Path, fake: Any, image: str) -> Backend:
    from cube.runners.kubernetes import KubernetesRunner

    def make() -> Runner:
        return KubernetesRunner(fake.url, token=K8S_TOKEN, stop_grace_seconds=1)

    def job_gone(job_id: str, out: Path) -> bool:
        return bool(fake.job_containers_gone(KubernetesRunner(fake.url).job_name(job_id)))

    return Backend("kubernetes", make, image, tmp, job_gone, in_container=True)


def _slurm_backend(tmp: Path, cluster: Any) -> Backend:
    from cube.runners.slurm import SlurmRunner

    state_dir = tmp / "state"

    def job_gone(job_id: str, out: Path) -> bool:
        pids = [int(p.read_text()) for p in out.glob("*.pid") if p.read_text().strip()]
        return not any(pid_running(p) for p in pids)

    return Backend(
        "slurm", lambda: SlurmRunner(str(state_dir), **cluster.runner_options()), None, tmp, job_gone,
    )


def make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if name == "local":
        return _local_backend(tmp_path)
    if name == "docker":
        base_url, image = request.getfixturevalue("container_engine")
        return _docker_backend(tmp_path, base_url, image)
    if name == "kubernetes":
        _, image = request.getfixturevalue("container_engine")
        return _kubernetes_backend(tmp_path, request.getfixturevalue("fake_k8s"), image)
    return _slurm_backend(tmp_path, request.getfixturevalue("slurm_cluster"))


def _cleanup(b: Backend) -> None:
    cleaner = b.runner()
    for job_id in b.submitted:
        cleaner.remove(job_id)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each runner in turn: the contract suite runs once per backend."""
    b = make_backend(request.param, request, tmp_path)
    yield b
    _cleanup(b)


@pytest.fixture
def docker_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = make_backend("docker", request, tmp_path)
    yield b
    _cleanup(b)


@pytest.fixture
def slurm_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = make_backend("slurm", request, tmp_path)
    yield b
    _cleanup(b)
