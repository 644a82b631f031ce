"""pl-simpledsapp: prefixed copies, ignoreInputDir, sleeping, and stopping on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]
Starter = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    inp = tmp_path / "in"
    (inp / "sub" / "deeper").mkdir(parents=True)
    (inp / "a.txt").write_text("alpha")
    (inp / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (inp / "sub" / "deeper" / "c").write_text("gamma")
    return inp


def files_below(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_prefix_is_prepended_to_every_base_name(run_plugin: Runner, input_dir: Path,
                                                tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("simpledsapp", "--prefix", "le_", input_dir, out)
    assert result.returncode == 0, result.stderr
    expected = {
        "/".join([*rel.split("/")[:-1], "le_" + rel.split("/")[-1]]): data
        for rel, data in files_below(input_dir).items()
    }
    assert files_below(out) == expected
    assert set(expected) == {"le_a.txt", "sub/le_b.bin", "sub/deeper/le_c"}


def test_short_prefix_flag_and_no_prefix(run_plugin: Runner, input_dir: Path,
                                         tmp_path: Path) -> None:
    assert run_plugin("simpledsapp", "-p", "x", input_dir, tmp_path / "o1").returncode == 0
    assert (tmp_path / "o1" / "xa.txt").read_text() == "alpha"
    assert run_plugin("simpledsapp", input_dir, tmp_path / "o2").returncode == 0
    assert files_below(tmp_path / "o2") == files_below(input_dir)


def test_ignore_input_dir_writes_nothing(run_plugin: Runner, input_dir: Path,
                                         tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("simpledsapp", "--ignoreInputDir", "--prefix", "p", input_dir, out)
    assert result.returncode == 0, result.stderr
    assert list(out.iterdir()) == []


def test_sleep_length_delays_the_copy(run_plugin: Runner, input_dir: Path,
                                      tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_plugin("simpledsapp", "--sleepLength", "0.6", input_dir, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 0.6
    assert (tmp_path / "out" / "a.txt").exists()


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", ""])
def test_invalid_sleep_length_exits_1(run_plugin: Runner, input_dir: Path, tmp_path: Path,
                                      value: str) -> None:
    out = tmp_path / "out"
    result = run_plugin("simpledsapp", "--sleepLength", value, input_dir, out)
    assert result.returncode == 1
    assert "sleepLength" in result.stderr
    assert list(out.iterdir()) == []


def test_prefix_cannot_move_files_out_of_place(run_plugin: Runner, input_dir: Path,
                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("simpledsapp", "--prefix", "../../escaped", input_dir, out)
    assert result.returncode == 1
    assert list(out.iterdir()) == [] and not any(tmp_path.rglob("*escaped*"))


def test_sigterm_while_sleeping_stops_within_a_second(start_plugin: Starter, input_dir: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start_plugin("simpledsapp", "--sleepLength", "30", input_dir, out)
    assert proc.stdout is not None
    # The line is printed right before sleeping, so the handler is installed by then.
    assert "sleeping" in proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    status = proc.wait(timeout=5)
    assert time.monotonic() - sent < 1.0
    assert status == 128 + signal.SIGTERM
    assert list(out.iterdir()) == []
