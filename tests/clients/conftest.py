"""The real ChRIS clients against a live server: the server fixture is the feeds suite's (a live server
with a job worker and the built-in plugins); the clients live in their own venv made by
.ci/setup-clients.sh and run as separate processes, as their users run them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import in_ci
from tests.feeds.conftest import server, worker  # noqa: F401 - fixtures used by this package's tests


def apiclients_venv() -> Path:
    venv = Path(os.environ.get("CUBE_CACHE", os.path.expanduser("~/.cache/cube"))) / "apiclients-venv"
    if not (venv / "bin" / "chrs").exists() or not (venv / "bin" / "python").exists():
        if in_ci():
            pytest.fail("python-chrisclient, aiochris and chrs are required: run .ci/setup-clients.sh")
        pytest.skip("the API clients are not installed (.ci/setup-clients.sh)")
    return venv


@pytest.fixture
def clients() -> Path:
    return apiclients_venv()


def run_script(venv: Path, script: str, *args: str, timeout: float = 120) -> Any:
    """Runs a Python script in the clients' venv; its last line of output is the JSON it reports."""
    out = subprocess.run([str(venv / "bin" / "python"), "-c", script, *args], capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        pytest.fail(f"client script exited {out.returncode}\n--- stdout\n{out.stdout[-3000:]}\n"
                    f"--- stderr\n{out.stderr[-5000:]}", pytrace=False)
    return json.loads(out.stdout.strip().splitlines()[-1])
