"""LocalRunner specifics: process groups, a lost supervisor, answers from another process, limits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cube.runners import build_runner
from cube.runners.base import JobState, RunnerError
from cube.runners.local import LocalRunner

from .harness import Backend, pid_running
from .test_contract import start_sleeper, wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def local(tmp_path: Path) -> Backend:
    state_dir = tmp_path / "state"

    def gone(job_id: str, out: Path) -> bool:
        return not any(pid_running(int(p.read_text())) for p in out.glob("*.pid"))

    return Backend("local", lambda: LocalRunner(str(state_dir), kill_grace_seconds=2), None, tmp_path, gone)


def test_job_runs_in_its_own_process_group_and_session(local: Backend) -> None:
    runner = local.runner()
    code = ("import os, sys, json; open(sys.argv[-1] + '/ids.json', 'w')"
            ".write(json.dumps([os.getpid(), os.getpgid(0), os.getsid(0)]))")
    spec = local.spec(code)
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=30).state == JobState.SUCCEEDED
    pid, pgid, sid = json.loads((Path(spec.output_dir) / "ids.json").read_text())
    assert pgid == pid  # its own group: cancel and timeout reach everything it starts
    assert pgid != os.getpgid(0)
    assert sid != os.getsid(0)  # not in the worker's session: the worker's terminal/group signals miss it


def test_a_killed_supervisor_gives_job_process_lost(local: Backend) -> None:
    runner, spec, out = start_sleeper(local)
    supervisor = int((local.root / "state" / spec.job_id / "pid").read_text().split()[0])
    os.kill(supervisor, signal.SIGKILL)
    st = runner.wait(spec.job_id, timeout=15)
    assert st.state == JobState.FAILED
    assert st.message == "job process lost"
    wait_for(lambda: local.job_gone(spec.job_id, out), timeout=10, what="the orphaned plugin to go")
    assert runner.status(spec.job_id) == st  # the verdict is stable


def test_status_from_another_process(local: Backend) -> None:
    runner = local.runner()
    spec = local.spec("print('from afar')")
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=30).state == JobState.SUCCEEDED
    code = ("import sys; from cube.runners.local import LocalRunner; r = LocalRunner(sys.argv[1]);"
            "st = r.status(sys.argv[2]); print(st.state.value, st.exit_code, r.logs(sys.argv[2]).strip())")
    out = subprocess.run([sys.executable, "-c", code, str(local.root / "state"), spec.job_id],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["succeeded", "0", "from", "afar"]


def test_job_survives_the_submitting_process(local: Backend) -> None:
    spec = local.spec("import time, sys; time.sleep(1); open(sys.argv[-1] + '/done', 'w').write('yes')")
    code = ("import sys, json; from cube.runners.local import LocalRunner; from cube.runners.base import JobSpec;"
            "LocalRunner(sys.argv[1]).submit(JobSpec(**json.loads(sys.argv[2])))")
    fields = {k: getattr(spec, k) for k in ("job_id", "entrypoint", "args", "input_dir", "output_dir")}
    subprocess.run([sys.executable, "-c", code, str(local.root / "state"), json.dumps(fields)],
                   cwd=REPO, check=True, timeout=30)  # the submitter exits at once
    st = local.runner().wait(spec.job_id, timeout=30)
    assert st.state == JobState.SUCCEEDED, local.runner().logs(spec.job_id)
    assert (Path(spec.output_dir) / "done").read_text() == "yes"


def test_environment_is_minimal_and_home_is_private(local: Backend) -> None:
    runner = local.runner()
    code = "import os, sys, json; open(sys.argv[-1] + '/env.json', 'w').write(json.dumps(dict(os.environ)))"
    spec = local.spec(code, env={"X": "1"})
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=30).state == JobState.SUCCEEDED
    env = json.loads((Path(spec.output_dir) / "env.json").read_text())
    assert set(env) - {"LC_CTYPE"} == {"PATH", "HOME", "LANG", "X"}  # python may add LC_CTYPE itself
    assert env["HOME"].startswith(str(local.root / "state" / spec.job_id))


def test_memory_failure_says_out_of_memory(local: Backend) -> None:
    runner = local.runner()
    spec = local.spec("data = b'x' * (400 << 20)", memory_limit_mb=64)
    runner.submit(spec)
    st = runner.wait(spec.job_id, timeout=30)
    assert st.state == JobState.FAILED
    assert "out of memory (limit 64 MB)" in st.message


def test_missing_executable_fails_with_127(local: Backend) -> None:
    runner = local.runner()
    spec = local.spec("")
    spec = spec.__class__(**{**spec.__dict__, "entrypoint": ["cube-no-such-program"]})
    runner.submit(spec)
    st = runner.wait(spec.job_id, timeout=30)
    assert (st.state, st.exit_code) == (JobState.FAILED, 127)
    assert "cube-no-such-program" in st.message and "cube-no-such-program" in runner.logs(spec.job_id)


def test_cancel_before_start_and_quick_start(local: Backend) -> None:
    runner = local.runner()
    spec = local.spec("import time; time.sleep(60)")
    started = time.monotonic()
    runner.submit(spec)
    assert time.monotonic() - started < 0.5  # submit does not wait for the job
    runner.cancel(spec.job_id)  # may land before the plugin process exists
    assert runner.wait(spec.job_id, timeout=15).state == JobState.CANCELLED


def test_build_runner_by_short_name_and_path(tmp_path: Path) -> None:
    by_name = build_runner("local", {"state_dir": str(tmp_path)})
    by_path = build_runner("cube.runners.local.LocalRunner", {"state_dir": str(tmp_path)})
    assert type(by_name) is type(by_path) is LocalRunner
    cases: list[tuple[str, dict[str, object]]] = [
        ("nosuch", {}), ("cube.runners.nosuch.X", {}), ("os.path.join", {}), ("local", {}),
    ]
    for bad, options in cases:
        with pytest.raises(RunnerError):
            build_runner(bad, options)


@pytest.mark.skipif(os.geteuid() != 0, reason="running a job as another user needs root")
def test_job_runs_as_the_configured_user(tmp_path: Path) -> None:
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="cube-localuser-"))  # pytest's tmp_path is private to root
    try:
        root.chmod(0o755)
        backend = Backend("local", lambda: LocalRunner(str(root / "state"), user="1000:1000"), None, root,
                          lambda job_id, out: True)
        runner = backend.runner()
        code = ("import os, sys, json, pathlib; out = pathlib.Path(sys.argv[-1]);"
                "(out / 'ids.json').write_text(json.dumps([os.getuid(), os.getgid(), os.getgroups(),"
                " (pathlib.Path(sys.argv[-2]) / 'input.txt').read_text(), os.access(os.environ['HOME'], os.W_OK)]))")
        spec = backend.spec(code)
        runner.submit(spec)
        st = runner.wait(spec.job_id, timeout=30)
        assert st.state == JobState.SUCCEEDED, (st, runner.logs(spec.job_id))
        uid, gid, groups, data, home_writable = json.loads((Path(spec.output_dir) / "ids.json").read_text())
        assert (uid, gid) == (1000, 1000)
        assert 0 not in groups
        assert data == "input data\n" and home_writable
        assert (Path(spec.output_dir) / "ids.json").stat().st_uid == 1000
        runner.remove(spec.job_id)
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
