"""A real single-node SLURM cluster for tests: slurmctld + slurmd in the foreground, on free ports,
configured and logging under one temporary directory, stopped by PID.

    with SlurmCluster() as cluster:
        runner = SlurmRunner(state_dir, **cluster.runner_options())

Authentication is ``auth/none`` (no munge daemon needed); the node declares more CPUs and memory than
the machine has (``config_overrides``) so that several test jobs can run at once on two cores.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

DAEMONS = ("slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "scancel")


class SlurmUnavailableError(RuntimeError):
    """SLURM is not installed here or does not come up; run .ci/setup-slurm.sh."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_CONF = """\
ClusterName={cluster}
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# linuxproc follows the job's process tree, so cancel reaches what the job started in the background
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
# do not hold submitted batch jobs back for throughput: tests want each started soon
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
# memory is polled every second and a job over its --mem is killed
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
KillWait=2
MinJobAge=600
MessageTimeout=20
SlurmdParameters=config_overrides
NodeName={node} NodeAddr=127.0.0.1 CPUs=8 RealMemory=8192 State=UNKNOWN
PartitionName=cube Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    """slurmctld and slurmd of one throw-away cluster; ``runner_options()`` is what SlurmRunner takes."""

    def __init__(self) -> None:
        missing = [tool for tool in DAEMONS + CLIENTS if shutil.which(tool) is None]
        if missing:
            raise SlurmUnavailableError(f"not installed: {', '.join(missing)} (run .ci/setup-slurm.sh)")
        self.root = Path(tempfile.mkdtemp(prefix="cube-slurm-"))
        self.node = "cubenode"
        self.conf = self.root / "slurm.conf"
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def runner_options(self) -> dict[str, Any]:
        return {"slurm_conf": str(self.conf), "partition": "cube"}

    def start(self, timeout: float = 30) -> SlurmCluster:
        (self.root / "state").mkdir()
        (self.root / "spool").mkdir()
        self.conf.write_text(_CONF.format(
            cluster=f"cube{uuid.uuid4().hex[:6]}", ctld_port=free_port(), slurmd_port=free_port(),
            root=self.root, node=self.node,
        ))
        try:
            for daemon, extra in (("slurmctld", ["-i"]), ("slurmd", ["-N", self.node])):
                self.procs.append(subprocess.Popen(
                    [daemon, "-D", "-f", str(self.conf), *extra],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=open(self.root / f"{daemon}.stderr", "wb"),  # noqa: SIM115 - the child owns it
                    env=self.env,
                ))
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for daemon, proc in zip(DAEMONS, self.procs, strict=False):
                if proc.poll() is not None:
                    raise SlurmUnavailableError(f"{daemon} exited:\n{self._logs()}")
            out = subprocess.run(["sinfo", "-h", "-n", self.node, "-o", "%T"], env=self.env,
                                 capture_output=True, text=True).stdout.strip()
            if out in ("idle", "mixed", "allocated"):
                return
            time.sleep(0.2)
        raise SlurmUnavailableError(f"the SLURM node did not become idle in {timeout} s:\n{self._logs()}")

    def _logs(self) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log", "slurmctld.stderr", "slurmd.stderr"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-1500:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        if self.conf.exists() and any(p.poll() is None for p in self.procs):
            # jobs first: their slurmstepd processes are not our children and would outlive slurmd
            subprocess.run(["scancel", "--full", "-u", str(os.getuid())], env=self.env,
                           capture_output=True, timeout=30)
            self._wait_no_jobs(10)
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        self.procs = []
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_no_jobs(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%T"], env=self.env,
                                 capture_output=True, text=True).stdout.split()
            if not any(state in ("RUNNING", "COMPLETING", "PENDING", "CONFIGURING") for state in out):
                return
            time.sleep(0.2)

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
