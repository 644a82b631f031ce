"""The runner contract: how a plugin job is started, watched, read, stopped and cleaned up.

A runner knows nothing of Django, feeds or users. The job engine (feeds/) prepares a local input
directory and an empty output directory, builds a JobSpec and hands it to the runner chosen by the
compute resource. Every method is keyed by ``job_id`` alone and must work from any process on the
host (or cluster) that submitted the job: a worker that restarts asks ``status`` about jobs an earlier
process submitted, so runners keep no state in memory that status/logs/cancel/remove depend on.

Plugin command line, as ChRIS plugins expect it: ``entrypoint + args + [input_dir, output_dir]``, where
the runner substitutes the directories as the job sees them (host paths for the local runner,
``/share/incoming`` and ``/share/outgoing`` inside a container).
"""

from __future__ import annotations

import abc
import enum
import os
import re
import stat
from dataclasses import dataclass, field

_JOB_ID = re.compile(r"[A-Za-z0-9_.-]+")


class JobState(enum.StrEnum):
    PENDING = "pending"      # accepted, not running yet (queued in SLURM, container being created)
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # exited 0
    FAILED = "failed"        # exited non-zero, was killed, hit a limit, or was lost
    CANCELLED = "cancelled"  # stopped through cancel()
    UNKNOWN = "unknown"      # the runner has no record of this job id

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class JobSpec:
    job_id: str                        # unique, safe as a file or container name: [A-Za-z0-9_.-]+
    entrypoint: list[str]              # e.g. ["python3", "-m", "plugins.builtin.dircopy"]
    args: list[str]                    # plugin flags and values, already rendered
    input_dir: str                     # host path; read-only for the job
    output_dir: str                    # host path; the job writes its results here
    image: str | None = None           # container image (container runners); ignored by local
    env: dict[str, str] = field(default_factory=dict)
    cpu_limit_millicores: int = 1000
    memory_limit_mb: int = 1024
    gpu_limit: int = 0
    number_of_workers: int = 1
    timeout_seconds: int | None = None  # None: no limit
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobStatus:
    state: JobState
    exit_code: int | None = None
    message: str = ""                   # why it failed, in words a user can act on


class RunnerError(Exception):
    """The runner could not do what was asked (submit refused, backend unreachable, ...)."""


def check_job_id(job_id: str) -> str:
    """``job_id`` itself if it is safe as a file, container and SLURM job name; RunnerError if not.

    Runners build paths and names from the id, so "." / ".." and anything with a separator would let
    a job escape its state directory.
    """
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id) or job_id in (".", ".."):
        raise RunnerError(f"invalid job id {job_id!r}: use letters, digits, '_', '.' and '-'")
    if len(job_id) > 200:
        raise RunnerError("invalid job id: longer than 200 characters")
    return job_id


def check_container_spec(spec: JobSpec) -> None:
    """What every container runner needs of a JobSpec: an image and an entrypoint."""
    if not spec.image:
        raise RunnerError(f"job {spec.job_id} names no container image")
    if not spec.entrypoint:
        raise RunnerError(f"job {spec.job_id} has no entrypoint")


def make_output_writable(output_dir: str, uid: int, gid: int) -> None:
    """Let a container running as uid:gid write the job's output dir (this host's view of it)."""
    st = os.stat(output_dir)
    if st.st_uid == uid:
        return
    if os.geteuid() == 0:
        os.chown(output_dir, uid, gid)
    else:
        # Not root, so no chown: the only way left for another uid to write there. The dir is the
        # job's own fresh output dir, so this widens nothing else.
        os.chmod(output_dir, stat.S_IMODE(st.st_mode) | 0o777)  # noqa: S103


class Runner(abc.ABC):
    """One way of running jobs. Options come from the compute resource (see settings.CUBE_RUNNERS)."""

    def __init__(self, **options: object) -> None:
        self.options = options

    @abc.abstractmethod
    def submit(self, spec: JobSpec) -> None:
        """Start the job and return without waiting for it. RunnerError if it cannot be started.

        Submitting a job_id that already exists raises RunnerError (a retried task must not start a
        second copy of the same job).
        """

    @abc.abstractmethod
    def status(self, job_id: str) -> JobStatus:
        """The job's state now. A job whose process/container vanished without an exit code is FAILED
        with a message saying so; an id never submitted (or already removed) is UNKNOWN."""

    @abc.abstractmethod
    def logs(self, job_id: str) -> str:
        """Everything the job printed so far (stdout and stderr interleaved), in full."""

    @abc.abstractmethod
    def cancel(self, job_id: str) -> None:
        """Stop the job (and every process it started). No error if it already finished."""

    @abc.abstractmethod
    def remove(self, job_id: str) -> None:
        """Forget the job and free what it holds (container, state files). No error if unknown.
        Never touches spec.output_dir or spec.input_dir."""

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 0.05) -> JobStatus:
        """Block until the job finishes (or timeout seconds pass; then return the current status)."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        delay = poll
        while True:
            st = self.status(job_id)
            if st.state.finished or st.state == JobState.UNKNOWN:
                return st
            if deadline is not None and time.monotonic() >= deadline:
                return st
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
