"""The harness the runner tests share: a Backend (how to build one runner and see what its jobs left
running), job specs running ``python3 -c CODE``, and the CI rule for missing services."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cube.runners.base import JobSpec, Runner


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """A missing service is a failure in CI and a skip elsewhere."""
    if in_ci():
        pytest.fail(f"required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def pid_running(pid: int) -> bool:
    """Whether ``pid`` is a live process (zombies count as gone: PID 1 here reaps slowly)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@dataclass
class Backend:
    """One runner under test: how to build it, and how to see what it left running."""

    name: str
    make: Callable[[], Runner]
    image: str | None
    root: Path
    # Whether nothing of the job is still running (processes, container); ``out`` is its output dir.
    job_gone: Callable[[str, Path], bool]
    submitted: list[str] = field(default_factory=list)
    # The in-job paths of the input and output dirs: host paths, or the container mount points.
    in_container: bool = False

    def runner(self) -> Runner:
        return self.make()

    def spec(self, code: str, *, args: list[str] | None = None, **kw: Any) -> JobSpec:
        """A job running ``python3 -c code``: argv[-2:] are the input and output dirs."""
        unique = uuid.uuid4().hex[:12]
        job_id = kw.pop("job_id", f"t{unique}")
        base = self.root / f"job-{unique}"  # never named from job_id: tests pass ids like "../x"
        (base / "in").mkdir(parents=True, exist_ok=True)
        (base / "out").mkdir(exist_ok=True)
        (base / "in" / "input.txt").write_text("input data\n")
        self.submitted.append(job_id)
        return JobSpec(
            job_id=job_id, entrypoint=["python3", "-c", code], args=args or [],
            input_dir=str(base / "in"), output_dir=str(base / "out"), image=self.image, **kw,
        )
