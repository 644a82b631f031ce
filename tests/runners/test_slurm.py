"""SlurmRunner specifics: what reaches sbatch, and answers from SLURM's record when the script wrote none."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cube.runners.base import JobState
from cube.runners.slurm import SlurmRunner

from .harness import Backend
from .test_contract import start_sleeper, wait_for


def _job_fields(runner: SlurmRunner, state_dir: Path, job_id: str) -> dict[str, str]:
    slurm_id = (state_dir / job_id / "slurm_id").read_text().strip()
    out = subprocess.run(["scontrol", "show", "job", "-o", slurm_id], check=True, capture_output=True, text=True,
                         env={**os.environ, "SLURM_CONF": str(runner.slurm_conf)}).stdout
    return dict(f.split("=", 1) for f in out.split() if "=" in f)


def test_sbatch_gets_name_limits_and_log(slurm_backend: Backend) -> None:
    runner = slurm_backend.runner()
    assert isinstance(runner, SlurmRunner)
    spec = slurm_backend.spec("print('in slurm')", memory_limit_mb=300, cpu_limit_millicores=1500,
                              timeout_seconds=90)
    runner.submit(spec)
    fields = _job_fields(runner, Path(runner.state_dir), spec.job_id)
    assert fields["JobName"] == spec.job_id
    assert fields["MinMemoryNode"] == "300M"
    assert fields["NumCPUs"] == "2"  # 1.5 cores round up
    assert fields["TimeLimit"] == "00:03:00"  # SLURM's backstop a minute past the script's own timeout
    assert fields["StdOut"] == str(Path(runner.state_dir) / spec.job_id / "log")
    assert runner.wait(spec.job_id, timeout=60).state == JobState.SUCCEEDED
    assert "in slurm" in runner.logs(spec.job_id)


def test_job_killed_by_slurm_is_answered_from_its_record(slurm_backend: Backend) -> None:
    runner, spec, out = start_sleeper(slurm_backend)
    assert isinstance(runner, SlurmRunner)
    # An administrator's scancel, not ours: no cancel marker, no exit record from the script.
    slurm_id = (Path(runner.state_dir) / spec.job_id / "slurm_id").read_text().strip()
    subprocess.run(["scancel", slurm_id], check=True, env={**os.environ, "SLURM_CONF": str(runner.slurm_conf)})
    st = runner.wait(spec.job_id, timeout=30)
    assert st.state == JobState.CANCELLED
    assert st.message == "cancelled in SLURM"
    assert not (Path(runner.state_dir) / spec.job_id / "exit").exists()
    wait_for(lambda: slurm_backend.job_gone(spec.job_id, out), timeout=15, what="the job's processes to go")
