"""LocalRunner: plugin jobs as detached processes on this host (the embedded default).

Each job gets ``<state_dir>/<job_id>/`` holding everything any process needs to answer for it later
(the worker that submitted a job may be gone by the time someone asks):

* ``spec.json``: the command, environment and limits handed to the supervisor;
* ``pid``: "<pid> <start ticks>" of the supervisor (``_localwrap.py``), which starts the plugin in its
  own process group, enforces the timeout and writes ``exit`` when the plugin ends;
* ``child``: "<pid> <start ticks>" of the plugin process (= its process group id);
* ``log``: the plugin's stdout and stderr; ``cancel``: the marker cancel() leaves; ``home/``: $HOME.

Isolation is what an unprivileged host process can have: a clean environment (never the worker's, which
holds secrets), RLIMIT_AS for the memory limit, RLIMIT_CPU as a backstop for the timeout, no core dumps.
It does not confine the file system or the network: use a container runner for untrusted plugins.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

from ._localwrap import _write_atomic  # the supervisor's own helper (it imports nothing of ours)
from .base import JobSpec, JobState, JobStatus, RunnerError
from .statedir import StateDirRunner
from .statedir import read_text as _read

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_WRAPPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_localwrap.py")
# Messages in a failed job's log that mean it ran out of its address-space limit.
_OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")

# Supervisors this process started; polled so that they never linger as zombies in a long-lived worker.
_children: list[subprocess.Popen[bytes]] = []


def _reap() -> None:
    _children[:] = [p for p in _children if p.poll() is None]


def _start_ticks(pid: int) -> str | None:
    """Start time of ``pid`` (ticks since boot), or None when it no longer runs (zombies included)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return None
    if fields[0] in ("Z", "X"):  # exited; PID 1 here may take its time to reap orphans
        return None
    return fields[19]


def _alive(record: str | None) -> bool:
    """Whether the process recorded as "<pid> <start ticks>" still runs (and is that same process)."""
    if not record:
        return False
    pid_s, _, ticks = record.strip().partition(" ")
    if not os.path.isdir("/proc/self"):  # no procfs: a signal-0 probe, blind to pid reuse
        try:
            os.kill(int(pid_s), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    _reap()
    return _start_ticks(int(pid_s)) == ticks


def _killpg(record: str | None, sig: int, *, leader_alive: bool = True) -> None:
    """Signal the process group led by the recorded process.

    With ``leader_alive=False`` the group is signalled even though its leader has exited: members it
    left behind keep the group id in use, and the kernel does not hand out a pid that is still some
    group's id, so the signal can only reach that group (or nobody).
    """
    if record and (not leader_alive or _alive(record)):
        try:
            os.killpg(int(record.split()[0]), sig)
        except (ProcessLookupError, PermissionError):
            pass


class LocalRunner(StateDirRunner):
    """Runs ``entrypoint + args + [input_dir, output_dir]`` as a detached host process.

    Options: ``state_dir`` (required; one per host, shared by every worker of that host), ``path``
    (PATH inside the job), ``lang``, ``kill_grace_seconds`` (SIGTERM to SIGKILL on cancel/timeout),
    ``python`` (interpreter for the supervisor; default: this one), ``user`` ("uid:gid" to run jobs
    as, when the worker runs as root; its output dir is then chowned to that user).
    """

    def __init__(
        self,
        state_dir: str,
        *,
        path: str = DEFAULT_PATH,
        lang: str = "C.UTF-8",
        kill_grace_seconds: float = 5.0,
        python: str | None = None,
        user: str | None = None,
        **options: object,
    ) -> None:
        super().__init__(state_dir, **options)
        self.path = path
        self.lang = lang
        self.kill_grace_seconds = float(kill_grace_seconds)
        self.python = python or sys.executable
        self.user: tuple[int, int] | None = None
        if user is not None:
            uid, _, gid = str(user).partition(":")
            try:
                self.user = (int(uid), int(gid or uid))
            except ValueError:
                raise RunnerError(f"user must be numeric 'uid:gid', not {user!r}") from None
            if os.geteuid() != 0 and self.user[0] != os.geteuid():
                raise RunnerError("running jobs as another user needs a worker running as root")

    # -- helpers -------------------------------------------------------------------------------

    def _wait_for_exit(self, job_dir: str, seconds: float) -> bool:
        """Wait until the supervisor wrote ``exit`` or died; True if it is done either way."""
        deadline = time.monotonic() + seconds
        pid = _read(os.path.join(job_dir, "pid"))
        while True:
            if os.path.exists(os.path.join(job_dir, "exit")) or (pid and not _alive(pid)):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    # -- the contract --------------------------------------------------------------------------

    def submit(self, spec: JobSpec) -> None:
        job_dir = self._dir(spec.job_id)
        for key in spec.env:
            if not key or "=" in key or "\0" in key:
                raise RunnerError(f"invalid environment variable name {key!r}")
        os.makedirs(self.state_dir, exist_ok=True)
        try:
            os.mkdir(job_dir, 0o700)  # atomic: of two submits of one job id only one gets here
        except FileExistsError:
            raise RunnerError(f"job {spec.job_id} already exists") from None
        home = os.path.join(job_dir, "home")
        os.mkdir(home, 0o700)
        if self.user is not None:
            self._hand_over(job_dir, home, spec.output_dir)
        env = {"PATH": self.path, "HOME": home, "LANG": self.lang, **spec.env}
        timeout = spec.timeout_seconds
        cpu_seconds = None
        if timeout:  # CPU time can exceed wall time only by using several cores
            cpu_seconds = math.ceil(timeout * max(1.0, spec.cpu_limit_millicores / 1000)) + 1
        wrapper_spec: dict[str, Any] = {
            "command": [*spec.entrypoint, *spec.args, spec.input_dir, spec.output_dir],
            "env": env,
            "cwd": home,
            "memory_limit_mb": spec.memory_limit_mb or None,
            "cpu_seconds": cpu_seconds,
            "timeout_seconds": timeout,
            "kill_grace_seconds": self.kill_grace_seconds,
            "labels": spec.labels,
            "user": self.user,
        }
        _write_atomic(os.path.join(job_dir, "spec.json"), json.dumps(wrapper_spec))
        _reap()
        try:
            proc = subprocess.Popen(
                [self.python, "-I", "-S", _WRAPPER, job_dir],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={"PATH": self.path, "LANG": self.lang},
                close_fds=True,
                start_new_session=True,  # survives the worker and signals sent to its group
            )
        except OSError as exc:
            shutil.rmtree(job_dir, ignore_errors=True)
            raise RunnerError(f"cannot start the job supervisor: {exc}") from exc
        _children.append(proc)
        _write_atomic(os.path.join(job_dir, "pid"), f"{proc.pid} {_start_ticks(proc.pid) or 0}\n")

    def _hand_over(self, job_dir: str, home: str, output_dir: str) -> None:
        """Let the job's user reach its home (but list nothing else in the state dir) and write its output."""
        assert self.user is not None
        uid, gid = self.user
        try:
            os.chmod(job_dir, 0o711)  # noqa: S103 - search only: the user can reach home/, list nothing
            os.chown(home, uid, gid)
            if os.stat(output_dir).st_uid != uid:
                os.chown(output_dir, uid, gid)
        except OSError as exc:
            shutil.rmtree(job_dir, ignore_errors=True)
            raise RunnerError(f"cannot prepare the job's directories for user {uid}:{gid}: {exc}") from exc

    def status(self, job_id: str) -> JobStatus:
        job_dir = self._dir(job_id)
        if not os.path.isdir(job_dir):
            return JobStatus(JobState.UNKNOWN, message="no such job")
        result = self._finished(job_dir)
        if result is not None:
            return result
        pid = _read(os.path.join(job_dir, "pid"))
        if pid is None:  # submit() is between mkdir and starting the supervisor
            if time.time() - os.path.getmtime(job_dir) < 30:
                return JobStatus(JobState.PENDING)
        elif _alive(pid):
            started = os.path.exists(os.path.join(job_dir, "child"))
            return JobStatus(JobState.RUNNING if started else JobState.PENDING)
        # The supervisor is gone. It may have written "exit" just before it went.
        result = self._finished(job_dir)
        if result is not None:
            return result
        _killpg(_read(os.path.join(job_dir, "child")), signal.SIGKILL, leader_alive=False)
        cancelled = os.path.exists(os.path.join(job_dir, "cancel"))
        message = "cancelled" if cancelled else "job process lost"
        # Record the verdict so that it stays the same however often it is asked.
        _write_atomic(os.path.join(job_dir, "exit"), json.dumps({"exit_code": None, "message": message}))
        return self._finished(job_dir) or JobStatus(JobState.FAILED, message=message)

    def _finished(self, job_dir: str) -> JobStatus | None:
        text = _read(os.path.join(job_dir, "exit"))
        if text is None:
            return None
        result = json.loads(text)
        code = result.get("exit_code")
        message = result.get("message", "")
        if os.path.exists(os.path.join(job_dir, "cancel")):
            return JobStatus(JobState.CANCELLED, code, "cancelled")
        if code == 0 and not result.get("timed_out"):
            return JobStatus(JobState.SUCCEEDED, 0)
        if code is not None and not result.get("timed_out") and self._out_of_memory(job_dir):
            spec = json.loads(_read(os.path.join(job_dir, "spec.json")) or "{}")
            message = f"out of memory (limit {spec.get('memory_limit_mb')} MB); {message}"
        return JobStatus(JobState.FAILED, code, message)

    def _out_of_memory(self, job_dir: str) -> bool:
        try:
            with open(os.path.join(job_dir, "log"), "rb") as fh:
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - 4096))
                tail = fh.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return False
        return any(marker in tail for marker in _OOM_MARKERS)

    def cancel(self, job_id: str) -> None:
        job_dir = self._dir(job_id)
        if not os.path.isdir(job_dir) or os.path.exists(os.path.join(job_dir, "exit")):
            return
        with open(os.path.join(job_dir, "cancel"), "w"):
            pass
        child = _read(os.path.join(job_dir, "child"))
        _killpg(child, signal.SIGTERM)
        if self._wait_for_exit(job_dir, self.kill_grace_seconds):
            return
        _killpg(child or _read(os.path.join(job_dir, "child")), signal.SIGKILL)
        if not self._wait_for_exit(job_dir, 2.0):
            # A supervisor that will not finish: kill it; its plugin dies with it (PDEATHSIG).
            _killpg(_read(os.path.join(job_dir, "pid")), signal.SIGKILL)
            self._wait_for_exit(job_dir, 2.0)

    def remove(self, job_id: str) -> None:
        job_dir = self._dir(job_id)
        if not os.path.isdir(job_dir):
            return
        if not self.status(job_id).state.finished:
            self.cancel(job_id)
        _killpg(_read(os.path.join(job_dir, "child")), signal.SIGKILL, leader_alive=False)
        shutil.rmtree(job_dir, ignore_errors=True)
        if os.path.exists(job_dir):
            raise RunnerError(f"cannot remove the state of job {job_id} in {job_dir}")
