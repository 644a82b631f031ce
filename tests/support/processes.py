"""Child processes of tests and benchmarks: their CPU time, and stopping them by PID."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.support.orthanc import wait_pid_gone


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (from /proc); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_child(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, SIGKILL after ``grace`` seconds, then wait until the PID is really gone."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    wait_pid_gone(proc.pid)
