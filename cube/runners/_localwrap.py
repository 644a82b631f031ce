"""The supervisor process of one local job: ``python -I -S _localwrap.py <job_dir>``.

LocalRunner starts this script detached (own session) instead of the plugin itself, because only a
parent can learn a child's exit status: this process outlives the worker that submitted the job,
starts the plugin in its own process group with rlimits and a clean environment, enforces the
timeout, and writes the outcome to ``<job_dir>/exit`` so that any process can read it later.

It is run by file path with ``-I -S`` (standard library only, nothing from the project imported) so a
job starts in a few tens of milliseconds. Files it reads and writes in ``<job_dir>`` (names shared
with local.py): ``spec.json`` (in), ``log`` (the job's stdout+stderr), ``child`` ("<pid> <start>"),
``cancel`` (a marker cancel() writes), ``exit`` (JSON, written last, atomically).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from typing import Any


def _load_libc() -> Any:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except (OSError, ImportError):
        return None


_LIBC: Any = None


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _proc_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot: with the pid, an identity that survives
    pid reuse. Field 22 of /proc/<pid>/stat, counted after the parenthesised command name."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return "0"
    return stat.rpartition(")")[2].split()[19]


def _killpg(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _child_setup(spec: dict[str, Any]) -> None:
    """Runs in the forked child before exec: limits that the plugin cannot lift again."""
    mem_mb = spec.get("memory_limit_mb")
    cpu_s = spec.get("cpu_seconds")
    limits = [(resource.RLIMIT_CORE, 0, 0)]  # no core dumps in the output directory
    if mem_mb:
        limits.append((resource.RLIMIT_AS, mem_mb << 20, mem_mb << 20))
    if cpu_s:
        limits.append((resource.RLIMIT_CPU, cpu_s, cpu_s + 5))
    for which, soft, hard in limits:
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass  # the OS refuses this limit here; the others still apply
    if _LIBC is not None:  # die with this supervisor: a killed supervisor leaves no unwatched plugin
        _LIBC.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != spec["_supervisor_pid"]:
        os._exit(137)  # the supervisor died before prctl took effect


def _terminate(pgid: int, proc: subprocess.Popen[bytes], grace: float) -> None:
    if not _killpg(pgid, signal.SIGTERM):
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    _killpg(pgid, signal.SIGKILL)


def _describe(returncode: int) -> tuple[int, str]:
    if returncode >= 0:
        return returncode, "" if returncode == 0 else f"exited with code {returncode}"
    sig = -returncode
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return 128 + sig, f"killed by {name}"


def main(job_dir: str) -> int:
    global _LIBC
    _LIBC = _load_libc()  # before the fork: the child should only call into it
    with open(os.path.join(job_dir, "spec.json"), encoding="utf-8") as fh:
        spec = json.load(fh)
    spec["_supervisor_pid"] = os.getpid()
    log_fd = os.open(os.path.join(job_dir, "log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    result: dict[str, Any] = {"timed_out": False}
    user = spec.get("user")
    identity: dict[str, Any] = {}
    if user:  # dropped in the child before exec; extra_groups=[] sheds root's supplementary groups
        identity = {"user": user[0], "group": user[1], "extra_groups": []}
    try:
        proc = subprocess.Popen(
            spec["command"],
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            env=spec["env"],
            cwd=spec["cwd"],
            close_fds=True,
            process_group=0,  # its own group: cancel and timeout kill everything it started
            preexec_fn=lambda: _child_setup(spec),
            **identity,
        )
    except OSError as exc:
        os.write(log_fd, f"cannot start {spec['command'][0]!r}: {exc.strerror or exc}\n".encode())
        result.update(exit_code=127, message=f"cannot start {spec['command'][0]!r}: {exc.strerror}")
    else:
        pgid = proc.pid
        _write_atomic(os.path.join(job_dir, "child"), f"{proc.pid} {_proc_start_time(proc.pid)}\n")
        grace = float(spec.get("kill_grace_seconds", 5))
        # cancel() writes its marker before reading "child"; checking after writing "child" means
        # one of the two always sees the other.
        if os.path.exists(os.path.join(job_dir, "cancel")):
            _terminate(pgid, proc, grace)
        timeout = spec.get("timeout_seconds")
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            result["timed_out"] = True
            os.write(log_fd, f"\n[cube] timed out after {timeout} s; stopping the job\n".encode())
            _terminate(pgid, proc, grace)
            proc.wait()
        _killpg(pgid, signal.SIGKILL)  # background processes the plugin left behind
        code, message = _describe(proc.returncode)
        if result["timed_out"]:
            message = f"timed out after {timeout} s"
        result.update(exit_code=code, message=message)
    os.close(log_fd)
    result["finished_at"] = time.time()
    _write_atomic(os.path.join(job_dir, "exit"), json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
