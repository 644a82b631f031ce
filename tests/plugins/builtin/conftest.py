"""Fixtures that run the built-in plugins as real subprocesses, the way a job engine does.

Every plugin is exercised in two ways: as ``python -m plugins.builtin.<module>`` from the
repository root, and as a standalone file copied with ``_common.py`` into a temporary
directory (what the plugin image does), run from elsewhere so no repository code is reachable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
BUILTIN_DIR = REPO_ROOT / "plugins" / "builtin"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODULES = ("dircopy", "simpledsapp", "topologicalcopy", "tsdircopy", "unstack")

Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def standalone_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("standalone-plugins")
    for name in (*MODULES, "_common"):
        shutil.copy2(BUILTIN_DIR / f"{name}.py", target / f"{name}.py")
    return target


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def plugin_command(mode: str, module: str, standalone: Path) -> tuple[list[str], Path]:
    """The argv prefix and working directory that start ``module`` in ``mode``."""
    if mode == "module":
        return [sys.executable, "-m", f"plugins.builtin.{module}"], REPO_ROOT
    # -s: no user site-packages; the working directory is not the repository, so only the
    # copied files can satisfy the plugin's imports.
    return [sys.executable, "-s", str(standalone / f"{module}.py")], standalone.parent


@pytest.fixture(params=["module", "standalone"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def run_plugin(mode: str, standalone_dir: Path) -> Runner:
    """Run a plugin to completion: ``run_plugin("dircopy", "--dir", "x", inp, out)``."""

    def run(module: str, *args: Any, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv, cwd = plugin_command(mode, module, standalone_dir)
        return subprocess.run([*argv, *map(str, args)], cwd=cwd, env=_env(), text=True,
                              capture_output=True, timeout=timeout, check=False)

    return run


@pytest.fixture
def start_plugin(mode: str, standalone_dir: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start a plugin without waiting; processes still running at teardown are killed by PID."""
    procs: list[subprocess.Popen[str]] = []

    def start(module: str, *args: Any) -> subprocess.Popen[str]:
        argv, cwd = plugin_command(mode, module, standalone_dir)
        proc = subprocess.Popen([*argv, *map(str, args)], cwd=cwd, env=_env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.fixture(scope="session")
def reference() -> Callable[[str], dict[str, Any]]:
    """Descriptors printed by the real ChRIS plugins (fixtures/<plugin name>.json)."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
        return data

    return load


@pytest.fixture(scope="session")
def tree_of() -> Callable[[Path], dict[str, bytes | None]]:
    return _tree


def _tree(root: Path) -> dict[str, bytes | None]:
    """Relative path -> file bytes (None for a directory) for everything below ``root``."""
    result: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        result[rel] = None if path.is_dir() else path.read_bytes()
    return result
