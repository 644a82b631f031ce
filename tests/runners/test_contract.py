"""The runner contract (cube/runners/base.py), run against every runner available here with real
processes and containers. Each job is ``python3 -c CODE <args> <input_dir> <output_dir>``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cube.runners.base import JobSpec, JobState, Runner, RunnerError

from .harness import Backend

# Starting a job and seeing it finish takes well under a second everywhere; the margins below are for
# a loaded CI machine, not expectations.
FINISH = 60

WRITE_OUTPUT = """
import sys, pathlib
inp, out = pathlib.Path(sys.argv[-2]), pathlib.Path(sys.argv[-1])
(out / "result.txt").write_text(sys.argv[1] + ":" + (inp / "input.txt").read_text())
print("wrote result")
"""

# Writes its pid (and a background child's) into the output dir, then sleeps: for cancel and timeout.
SLEEPER = """
import os, subprocess, sys, time
out = sys.argv[-1]
bg = subprocess.Popen(["sleep", "300"])
open(os.path.join(out, "bg.pid"), "w").write(str(bg.pid))
open(os.path.join(out, "job.pid"), "w").write(str(os.getpid()))
print("sleeping", flush=True)
time.sleep(300)
"""


def wait_for(predicate, timeout: float = FINISH, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_sleeper(backend: Backend) -> tuple[Runner, JobSpec, Path]:
    """A new runner of the backend with a SLEEPER job submitted and seen running (its job.pid written)."""
    runner = backend.runner()
    spec = backend.spec(SLEEPER)
    runner.submit(spec)
    out = Path(spec.output_dir)
    wait_for(lambda: (out / "job.pid").exists(), what="the job to start")
    return runner, spec, out


def test_job_writes_output_and_succeeds(backend: Backend) -> None:
    runner = backend.runner()
    spec = backend.spec(WRITE_OUTPUT, args=["flag-value"])
    runner.submit(spec)
    st = runner.wait(spec.job_id, timeout=FINISH)
    assert st.state == JobState.SUCCEEDED, (st, runner.logs(spec.job_id))
    assert st.exit_code == 0
    assert (Path(spec.output_dir) / "result.txt").read_text() == "flag-value:input data\n"
    assert "wrote result" in runner.logs(spec.job_id)


def test_nonzero_exit_is_failed_with_its_code(backend: Backend) -> None:
    runner = backend.runner()
    spec = backend.spec("import sys; sys.exit(3)")
    runner.submit(spec)
    st = runner.wait(spec.job_id, timeout=FINISH)
    assert st.state == JobState.FAILED
    assert st.exit_code == 3
    assert "3" in st.message


def test_logs_hold_stdout_and_stderr_in_full(backend: Backend) -> None:
    runner = backend.runner()
    code = (
        "import sys\n"
        "print('to stdout', flush=True)\n"
        "print('to stderr', file=sys.stderr, flush=True)\n"
        "for i in range(2000): print(f'line {i:05d}')\n"
    )
    spec = backend.spec(code)
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=FINISH).state == JobState.SUCCEEDED
    logs = runner.logs(spec.job_id)
    assert "to stdout" in logs and "to stderr" in logs
    assert "line 00000" in logs and "line 01999" in logs  # nothing cut from either end


def test_env_reaches_the_job_and_parent_secrets_do_not(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUBE_TEST_PARENT_SECRET", "s3cr3t")
    runner = backend.runner()
    code = "import os, sys, json; open(sys.argv[-1] + '/env.json', 'w').write(json.dumps(dict(os.environ)))"
    spec = backend.spec(code, env={"CUBE_JOB_SETTING": "hello world", "OTHER": "x=y"})
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=FINISH).state == JobState.SUCCEEDED, runner.logs(spec.job_id)
    env = json.loads((Path(spec.output_dir) / "env.json").read_text())
    assert env["CUBE_JOB_SETTING"] == "hello world"
    assert env["OTHER"] == "x=y"
    assert "CUBE_TEST_PARENT_SECRET" not in env
    assert "s3cr3t" not in json.dumps(env)


def test_cancel_stops_the_job_and_everything_it_started(backend: Backend) -> None:
    runner = backend.runner()
    spec = backend.spec(SLEEPER)
    runner.submit(spec)
    out = Path(spec.output_dir)
    wait_for(lambda: (out / "job.pid").exists() and (out / "bg.pid").exists(), what="the job to start")
    assert runner.status(spec.job_id).state == JobState.RUNNING
    started = time.monotonic()
    runner.cancel(spec.job_id)
    st = runner.wait(spec.job_id, timeout=30)
    assert st.state == JobState.CANCELLED, (st, runner.logs(spec.job_id))
    assert time.monotonic() - started < 15
    wait_for(lambda: backend.job_gone(spec.job_id, out), timeout=15, what="the job's processes to go")
    runner.cancel(spec.job_id)  # cancelling a finished job is no error
    assert runner.status(spec.job_id).state == JobState.CANCELLED


def test_timeout_fails_the_job(backend: Backend) -> None:
    runner = backend.runner()
    spec = backend.spec(SLEEPER, timeout_seconds=2)
    runner.submit(spec)
    st = runner.wait(spec.job_id, timeout=FINISH)
    assert st.state == JobState.FAILED, (st, runner.logs(spec.job_id))
    assert "timed out" in st.message
    wait_for(lambda: backend.job_gone(spec.job_id, Path(spec.output_dir)), timeout=15, what="the job to go")


def test_a_new_runner_instance_sees_earlier_jobs(backend: Backend) -> None:
    first = backend.runner()
    done = backend.spec("print('finished before the restart')")
    running = backend.spec("import time; print('still going', flush=True); time.sleep(2)")
    first.submit(done)
    assert first.wait(done.job_id, timeout=FINISH).state == JobState.SUCCEEDED
    first.submit(running)
    del first  # the worker that submitted is gone; a new one asks
    second = backend.runner()
    assert second.status(done.job_id).state == JobState.SUCCEEDED
    assert "finished before the restart" in second.logs(done.job_id)
    assert second.status(running.job_id).state in (JobState.PENDING, JobState.RUNNING)
    assert second.wait(running.job_id, timeout=FINISH).state == JobState.SUCCEEDED
    assert "still going" in second.logs(running.job_id)


def test_duplicate_submit_is_refused(backend: Backend) -> None:
    runner = backend.runner()
    spec = backend.spec("print('once')")
    runner.submit(spec)
    with pytest.raises(RunnerError):
        runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=FINISH).state == JobState.SUCCEEDED
    with pytest.raises(RunnerError):  # finished jobs still hold their id until removed
        backend.runner().submit(spec)
    assert runner.logs(spec.job_id).count("once") == 1


def test_remove_forgets_the_job_but_not_its_output(backend: Backend) -> None:
    runner = backend.runner()
    spec = backend.spec(WRITE_OUTPUT, args=["kept"])
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=FINISH).state == JobState.SUCCEEDED
    runner.remove(spec.job_id)
    assert runner.status(spec.job_id).state == JobState.UNKNOWN
    assert (Path(spec.output_dir) / "result.txt").read_text() == "kept:input data\n"
    assert (Path(spec.input_dir) / "input.txt").exists()
    runner.remove(spec.job_id)  # removing twice (or an unknown job) is no error
    runner.cancel(spec.job_id)
    assert runner.status("never-submitted-job").state == JobState.UNKNOWN


def test_remove_stops_a_running_job(backend: Backend) -> None:
    runner, spec, out = start_sleeper(backend)
    runner.remove(spec.job_id)
    assert runner.status(spec.job_id).state == JobState.UNKNOWN
    wait_for(lambda: backend.job_gone(spec.job_id, out), timeout=15, what="the job's processes to go")


def test_exceeding_the_memory_limit_fails_the_job(backend: Backend) -> None:
    runner = backend.runner()
    # 400 MB of real pages against a 64 MB limit: an address-space limit refuses it, a cgroup kills it.
    code = "import time; data = b'x' * (400 << 20); time.sleep(1); print('survived', len(data))"
    spec = backend.spec(code, memory_limit_mb=64)
    runner.submit(spec)
    st = runner.wait(spec.job_id, timeout=FINISH)
    assert st.state == JobState.FAILED, (st, runner.logs(spec.job_id))
    assert "survived" not in runner.logs(spec.job_id)
    assert st.exit_code != 0


def test_invalid_job_ids_are_refused(backend: Backend) -> None:
    runner = backend.runner()
    for bad in ("../escape", "a/b", "..", "", "white space"):
        with pytest.raises(RunnerError):
            runner.submit(backend.spec("print(1)", job_id=bad))
        with pytest.raises(RunnerError):
            runner.status(bad)
    backend.submitted.clear()
