"""What runners that keep each job's files under ``state_dir/<job_id>/`` share (local, SLURM): those files
(pid or scheduler id, exit code, log) are how any process, not only the submitter, answers for a job."""

from __future__ import annotations

import os

from .base import Runner, RunnerError, check_job_id


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


class StateDirRunner(Runner):
    def __init__(self, state_dir: str, **options: object) -> None:
        super().__init__(state_dir=state_dir, **options)
        if not state_dir:
            raise RunnerError(f"{type(self).__name__} needs a state_dir")
        self.state_dir = os.path.abspath(state_dir)

    def _dir(self, job_id: str) -> str:
        return os.path.join(self.state_dir, check_job_id(job_id))

    def logs(self, job_id: str) -> str:
        return read_text(os.path.join(self._dir(job_id), "log")) or ""
