"""pl-dircopy copies the materialised input tree into the output, byte for byte."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]
Tree = Callable[[Path], dict[str, bytes | None]]


def make_tree(root: Path) -> None:
    (root / "SERVICES/PACS/orthanc/study1/series 2").mkdir(parents=True)
    (root / "home/chris/uploads/empty").mkdir(parents=True)
    (root / "home/chris/uploads/notes.txt").write_text("héllo ünicode\n", encoding="utf-8")
    (root / "SERVICES/PACS/orthanc/study1/series 2/0001.dcm").write_bytes(os.urandom(70_000))
    (root / "SERVICES/PACS/orthanc/study1/series 2/all-bytes.bin").write_bytes(bytes(range(256)) * 9)
    (root / "zero-length").write_bytes(b"")


def test_copies_nested_tree_byte_identical(run_plugin: Runner, tree_of: Tree,
                                           tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    make_tree(inp)
    result = run_plugin("dircopy", "--dir", "SERVICES/PACS/orthanc,home/chris/uploads", inp, out)
    assert result.returncode == 0, result.stderr
    assert tree_of(out) == tree_of(inp)
    assert "SERVICES/PACS/orthanc" in result.stdout  # --dir is logged
    # Same filesystem: hard links, so no data was copied.
    src = inp / "SERVICES/PACS/orthanc/study1/series 2/0001.dcm"
    dst = out / "SERVICES/PACS/orthanc/study1/series 2/0001.dcm"
    assert src.stat().st_ino == dst.stat().st_ino


def test_copies_across_filesystems(run_plugin: Runner, tree_of: Tree, tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs a second filesystem (/dev/shm) to force the copy fallback")
    inp = tmp_path / "in"
    make_tree(inp)
    with tempfile.TemporaryDirectory(dir=shm) as other:
        out = Path(other) / "out"
        result = run_plugin("dircopy", "--dir", "x", inp, out)
        assert result.returncode == 0, result.stderr
        assert tree_of(out) == tree_of(inp)
        assert "0 files linked" in result.stdout


def test_thousand_small_files(run_plugin: Runner, tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    for d in range(10):
        (inp / f"d{d}").mkdir(parents=True)
        for f in range(100):
            (inp / f"d{d}" / f"f{f:03}.txt").write_text(f"{d}-{f}")
    started = time.monotonic()
    result = run_plugin("dircopy", "--dir", "d0", inp, out, timeout=30)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    copied = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    assert copied == sorted(p.relative_to(inp).as_posix() for p in inp.rglob("*.txt"))
    assert len(copied) == 1000
    assert (out / "d7" / "f042.txt").read_text() == "7-42"
    print(f"dircopy: 1000 files in {elapsed:.2f} s")


def test_symlinks_never_escape_the_input(run_plugin: Runner, tmp_path: Path) -> None:
    inp, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "secret"
    inp.mkdir()
    outside.mkdir()
    (outside / "key").write_text("do not leak")
    (inp / "real.txt").write_text("inside")
    (inp / "inner-link").symlink_to("real.txt")
    (inp / "outer-link").symlink_to(outside / "key")
    (inp / "outer-dir").symlink_to(outside)
    result = run_plugin("dircopy", "--dir", "x", inp, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["inner-link", "real.txt"]
    assert not (out / "inner-link").is_symlink()
    assert (out / "inner-link").read_text() == "inside"
    assert "outer-link" in result.stderr


def test_output_inside_input_is_not_copied_into_itself(run_plugin: Runner,
                                                       tmp_path: Path) -> None:
    inp = tmp_path / "in"
    (inp / "a").mkdir(parents=True)
    (inp / "a" / "f").write_text("f")
    out = inp / "out"
    result = run_plugin("dircopy", "--dir", "a", inp, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["a", "a/f"]


def test_rerun_replaces_previous_output(run_plugin: Runner, tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    (inp / "f").write_text("new")
    out.mkdir()
    (out / "f").write_text("old")
    result = run_plugin("dircopy", "--dir", "f", inp, out)
    assert result.returncode == 0, result.stderr
    assert (out / "f").read_text() == "new"


def test_output_dir_only_call(run_plugin: Runner, tmp_path: Path) -> None:
    # Engines that follow the older fs convention pass the output directory alone.
    out = tmp_path / "out"
    result = run_plugin("dircopy", "--dir", "x", out)
    assert result.returncode == 0, result.stderr
    assert out.is_dir() and not any(out.iterdir())
