"""Every built-in plugin, the versions registered with --compat-versions included, runs from the image its
descriptor names, started as the job engine starts it (``execshell selfpath/selfexec``) by the container
runner: no network, not root, read-only input. This is what keeps containers/ in step with REGISTRY."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def _all_descriptors() -> list[dict[str, Any]]:
    # In a subprocess from the repository root: the test session's import path may hold a
    # different top-level "plugins" package (tests/plugins).
    code = "import json; from plugins.builtin import descriptors; print(json.dumps(list(descriptors(compat=True))))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=True).stdout
    result: list[dict[str, Any]] = json.loads(out)
    return result


DESCRIPTORS = _all_descriptors()


@pytest.fixture
def run_in_container(container_engine: tuple[str, str], tmp_path: Path) -> Iterator[Any]:
    from cube.runners.base import JobSpec
    from cube.runners.docker import DockerRunner

    runner = DockerRunner(container_engine[0], stop_grace_seconds=1)
    submitted: list[str] = []

    def run(desc: dict[str, Any], args: list[str], inp: Path, out: Path) -> tuple[Any, str]:
        job_id = f"t{uuid.uuid4().hex[:12]}"
        submitted.append(job_id)
        spec = JobSpec(job_id=job_id, entrypoint=[desc["execshell"], f"{desc['selfpath']}/{desc['selfexec']}"],
                       args=args, input_dir=str(inp), output_dir=str(out), image=desc["dock_image"],
                       cpu_limit_millicores=1000, memory_limit_mb=256, timeout_seconds=60)
        runner.submit(spec)
        status = runner.wait(job_id, timeout=90)
        return status, runner.logs(job_id)

    yield run
    for job_id in submitted:
        runner.remove(job_id)
    runner.close()


@pytest.mark.parametrize("desc", DESCRIPTORS, ids=[d["dock_image"] for d in DESCRIPTORS])
def test_image_runs_the_plugin_its_descriptor_names(run_in_container: Any, desc: dict[str, Any],
                                                     tmp_path: Path) -> None:
    from cube.runners.base import JobState

    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    status, logs = run_in_container(desc, ["--json"], tmp_path / "in", tmp_path / "out")
    assert status.state == JobState.SUCCEEDED, (status, logs)
    printed = json.loads(logs)
    # A compat version is the same implementation: it prints its own version, all else must agree.
    same = {k: v for k, v in desc.items() if k not in ("version", "dock_image")}
    assert {k: v for k, v in printed.items() if k not in ("version", "dock_image")} == same


def test_unstack_in_a_container(run_in_container: Any, tmp_path: Path) -> None:
    from cube.runners.base import JobState

    inp, out = tmp_path / "in", tmp_path / "out"
    upload = inp / "home_chris_uploads_chrs-upload-tmp-1"
    (upload / "sub").mkdir(parents=True)
    (upload / "a.txt").write_bytes(b"first\n")
    (upload / "sub" / "b.dat").write_bytes(bytes(range(256)))
    out.mkdir()
    unstack = next(d for d in DESCRIPTORS if d["name"] == "pl-unstack-folders")
    status, logs = run_in_container(unstack, [], inp, out)
    assert status.state == JobState.SUCCEEDED, (status, logs)
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == {
        "a.txt": b"first\n", "sub/b.dat": bytes(range(256))}
