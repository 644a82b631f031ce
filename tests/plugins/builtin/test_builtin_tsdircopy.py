"""pl-tsdircopy copies the --dir folders the engine materialised, and only those, into its output."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]
Tree = Callable[[Path], dict[str, bytes | None]]


@pytest.fixture
def engine_input(tmp_path: Path) -> Path:
    """The engine's layout for a ts run: the previous run's output under <its id>/, each --dir path under
    <path with '/' -> '_'>/."""
    inp = tmp_path / "in"
    files = {
        "17/previous-output.txt": b"belongs to the parent run",
        "home_chris_uploads_chrs-upload-tmp-2/a.txt": b"new upload\n",
        "home_chris_uploads_chrs-upload-tmp-2/sub/b.dat": bytes(range(256)) * 4,
        "SERVICES_PACS_orthanc_s1/0001.dcm": b"DICM" * 100,
    }
    for rel, content in files.items():
        (inp / rel).parent.mkdir(parents=True, exist_ok=True)
        (inp / rel).write_bytes(content)
    (inp / "home_chris_uploads_chrs-upload-tmp-2" / "empty").mkdir()
    return inp


def test_copies_only_the_dir_paths(run_plugin: Runner, tree_of: Tree, engine_input: Path,
                                   tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("tsdircopy", "--dir", "home/chris/uploads/chrs-upload-tmp-2", engine_input, out)
    assert result.returncode == 0, result.stderr
    name = "home_chris_uploads_chrs-upload-tmp-2"
    assert tree_of(out) == {name: None, **{f"{name}/{k}": v for k, v in tree_of(engine_input / name).items()}}
    # Same filesystem: hard links, so no data was copied.
    assert (out / name / "a.txt").stat().st_ino == (engine_input / name / "a.txt").stat().st_ino


def test_several_paths_and_repeats(run_plugin: Runner, engine_input: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("tsdircopy", "--dir",
                        "SERVICES/PACS/orthanc/s1,home/chris/uploads/chrs-upload-tmp-2,SERVICES/PACS/orthanc/s1",
                        engine_input, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["SERVICES_PACS_orthanc_s1",
                                                     "home_chris_uploads_chrs-upload-tmp-2"]
    assert (out / "SERVICES_PACS_orthanc_s1" / "0001.dcm").read_bytes() == b"DICM" * 100
    assert not (out / "17").exists()


def test_a_path_without_input_fails(run_plugin: Runner, engine_input: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("tsdircopy", "--dir", "home/chris/uploads/chrs-upload-tmp-2,home/chris/nothing",
                        engine_input, out)
    assert result.returncode == 1
    assert "home_chris_nothing" in result.stderr
    assert not any(out.rglob("*"))


@pytest.mark.parametrize("value", ["..", ",", "."])
def test_paths_cannot_name_the_input_itself_or_its_parent(run_plugin: Runner, engine_input: Path,
                                                          tmp_path: Path, value: str) -> None:
    out = tmp_path / "out"
    result = run_plugin("tsdircopy", "--dir", value, engine_input, out)
    assert result.returncode == 1
    assert not any(out.rglob("*"))


def test_symlinks_never_escape_the_copied_folder(run_plugin: Runner, tmp_path: Path) -> None:
    inp, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "secret"
    outside.mkdir()
    (outside / "key").write_text("do not leak")
    (inp / "d").mkdir(parents=True)
    (inp / "d" / "real.txt").write_text("inside")
    (inp / "d" / "outer-link").symlink_to(outside / "key")
    (inp / "linked").symlink_to(outside)
    result = run_plugin("tsdircopy", "--dir", "d", inp, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "d").iterdir()) == ["real.txt"]
    assert "outer-link" in result.stderr
    # A --dir folder that is itself a symlink is not input.
    result = run_plugin("tsdircopy", "--dir", "linked", inp, tmp_path / "out2")
    assert result.returncode == 1
    assert not (tmp_path / "out2" / "linked").exists()
