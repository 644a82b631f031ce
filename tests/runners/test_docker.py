"""DockerRunner specifics, in a real container: no network, not root, read-only input, no privileges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cube.runners.base import JobState, RunnerError

from .harness import Backend

PROBE = """
import json, os, socket, sys
out = sys.argv[-1]
facts = {"uid": os.getuid(), "gid": os.getgid(), "interfaces": sorted(os.listdir("/sys/class/net")),
         "argv": sys.argv[1:]}
try:
    socket.create_connection(("192.0.2.1", 80), timeout=3).close()  # TEST-NET-1: any route would do
    facts["connect"] = "connected"
except OSError as exc:
    facts["connect"] = type(exc).__name__
try:
    open(os.path.join(sys.argv[-2], "intruder.txt"), "w").write("x")
    facts["input_writable"] = True
except OSError:
    facts["input_writable"] = False
for line in open("/proc/self/status"):
    if line.startswith(("CapEff", "NoNewPrivs")):
        key, value = line.split(":")
        facts[key] = value.strip()
json.dump(facts, open(os.path.join(out, "facts.json"), "w"))
"""


def test_container_is_confined(docker_backend: Backend) -> None:
    runner = docker_backend.runner()
    spec = docker_backend.spec(PROBE, args=["--flag", "v"])
    runner.submit(spec)
    st = runner.wait(spec.job_id, timeout=60)
    assert st.state == JobState.SUCCEEDED, (st, runner.logs(spec.job_id))
    facts = json.loads((Path(spec.output_dir) / "facts.json").read_text())
    assert facts["interfaces"] == ["lo"]
    assert facts["connect"] != "connected"
    assert facts["uid"] != 0 and facts["gid"] != 0
    assert facts["input_writable"] is False
    assert not (Path(spec.input_dir) / "intruder.txt").exists()
    assert int(facts["CapEff"], 16) == 0
    assert facts["NoNewPrivs"] == "1"
    assert facts["argv"] == ["--flag", "v", "/share/incoming", "/share/outgoing"]
    # what the container wrote belongs to the container user, not root
    assert (Path(spec.output_dir) / "facts.json").stat().st_uid == facts["uid"]


def test_labels_and_limits_are_on_the_container(docker_backend: Backend) -> None:
    runner = docker_backend.runner()
    spec = docker_backend.spec("print('x')", labels={"org.chrisproject.feed": "7"},
                               memory_limit_mb=300, cpu_limit_millicores=500)
    runner.submit(spec)
    info = runner._inspect(spec.job_id)  # type: ignore[attr-defined]
    assert info is not None
    labels = info["Config"]["Labels"]
    assert labels["org.chrisproject.job"] == spec.job_id
    assert labels["org.chrisproject.feed"] == "7"
    host = info["HostConfig"]
    assert host["Memory"] == 300 << 20
    assert host["NanoCpus"] == 500_000_000
    assert host["NetworkMode"] == "none"
    assert runner.wait(spec.job_id, timeout=60).state == JobState.SUCCEEDED


def test_missing_image_and_missing_command_are_refused(docker_backend: Backend) -> None:
    runner = docker_backend.runner()
    spec = docker_backend.spec("print(1)", job_id="cube-missing-image")
    with pytest.raises(RunnerError, match="not found"):
        runner.submit(spec.__class__(**{**spec.__dict__, "image": "localhost/cube/no-such-image:0"}))
    bad = spec.__class__(**{**spec.__dict__, "entrypoint": ["cube-no-such-program"]})
    with pytest.raises(RunnerError, match="cube-no-such-program"):
        runner.submit(bad)
    assert runner.status(spec.job_id).state == JobState.UNKNOWN  # nothing left to block a retry
    runner.submit(spec)
    assert runner.wait(spec.job_id, timeout=60).state == JobState.SUCCEEDED
