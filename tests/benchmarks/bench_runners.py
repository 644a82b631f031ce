"""Prints submit -> finished time of a trivial job (``python3 -c pass``) for each runner available:
median of 5 (plus min and max), with submit() alone shown apart, polling status() every 20 ms. Real services as in the tests:
podman's API service (or DOCKER_HOST), a single-node SLURM cluster.

    .venv/bin/python tests/benchmarks/bench_runners.py [local docker slurm]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cube.runners.base import JobSpec, JobState, Runner  # noqa: E402

RUNS = 5


@contextmanager
def runner_for(name: str, tmp: Path) -> Iterator[tuple[Runner, str | None]]:
    if name == "local":
        from cube.runners.local import LocalRunner

        yield LocalRunner(str(tmp / "state")), None
    elif name == "docker":
        import os

        from cube.runners.docker import DockerRunner
        from tests.support import podman

        if os.environ.get("DOCKER_HOST"):
            image = podman.ensure_plugin_image(dict(os.environ), engine="docker")
            yield DockerRunner(os.environ["DOCKER_HOST"]), image
        else:
            env = podman.podman_env()
            image = podman.ensure_plugin_image(env)
            with podman.PodmanService(env) as service:
                yield DockerRunner(service.docker_base_url), image
    elif name == "slurm":
        from cube.runners.slurm import SlurmRunner
        from tests.support.slurm import SlurmCluster

        with SlurmCluster() as cluster:
            yield SlurmRunner(str(tmp / "state"), **cluster.runner_options()), None
    else:
        raise SystemExit(f"unknown runner {name}")


def measure(runner: Runner, image: str | None, tmp: Path) -> tuple[list[float], list[float]]:
    totals, submits = [], []
    for _ in range(RUNS + 1):  # the first run warms caches (image layers, imports) and is dropped
        job = f"bench-{uuid.uuid4().hex[:10]}"
        (tmp / job / "in").mkdir(parents=True)
        (tmp / job / "out").mkdir()
        spec = JobSpec(job, ["python3", "-c", "pass"], [], str(tmp / job / "in"), str(tmp / job / "out"),
                       image=image, memory_limit_mb=256)
        t0 = time.perf_counter()
        runner.submit(spec)
        t1 = time.perf_counter()
        st = runner.status(job)
        while not st.state.finished and time.perf_counter() - t0 < 120:
            time.sleep(0.02)  # a fixed, fine poll: Runner.wait backs off, which would blur the figure
            st = runner.status(job)
        t2 = time.perf_counter()
        runner.remove(job)
        if st.state != JobState.SUCCEEDED:
            raise SystemExit(f"trivial job failed: {st}")
        submits.append(t1 - t0)
        totals.append(t2 - t0)
    return totals[1:], submits[1:]


def main(names: list[str]) -> None:
    print(f"submit -> finished of `python3 -c pass`, {RUNS} runs each (seconds)")
    print(f"{'runner':8} {'median':>8} {'min':>8} {'max':>8} {'submit median':>14}")
    for name in names:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cube-bench-")))
            try:
                runner, image = stack.enter_context(runner_for(name, tmp))
            except Exception as exc:  # noqa: BLE001 - a missing service is reported, the others still run
                print(f"{name:8} unavailable: {exc}".splitlines()[0])
                continue
            close: Callable[[], None] | None = getattr(runner, "close", None)
            if close is not None:
                stack.callback(close)
            totals, submits = measure(runner, image, tmp)
            print(f"{name:8} {statistics.median(totals):8.3f} {min(totals):8.3f} {max(totals):8.3f} "
                  f"{statistics.median(submits):14.3f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["local", "docker", "slurm"])
