"""pl-unstack-folders lifts what lies below a chain of single-entry folders to the output's top."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

Runner = Callable[..., subprocess.CompletedProcess[str]]
Tree = Callable[[Path], dict[str, bytes | None]]


def write(root: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def test_chrs_upload_layout_is_unstacked(run_plugin: Runner, tree_of: Tree, tmp_path: Path) -> None:
    # What pl-dircopy leaves after `chrs upload scans/`: one folder named after the upload path.
    inp, out = tmp_path / "in", tmp_path / "out"
    upload = inp / "chris_uploads_chrs-upload-tmp-1700000000000"
    write(upload, {"a.txt": b"first\n", "sub/b.dat": os.urandom(5000)})
    (upload / "empty").mkdir()
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert tree_of(out) == tree_of(upload)
    # Same filesystem: hard links, so no data was copied.
    assert (out / "sub/b.dat").stat().st_ino == (upload / "sub/b.dat").stat().st_ino


def test_single_nested_file_lands_at_the_top(run_plugin: Runner, tree_of: Tree, tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    write(inp, {"a/b/c/scan.dcm": bytes(range(256))})
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert tree_of(out) == {"scan.dcm": bytes(range(256))}


def test_descent_stops_at_the_first_fork(run_plugin: Runner, tree_of: Tree, tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    write(inp, {"x/y/fish/puffer.dat": b"p", "x/y/mammal/dolphin.dat": b"d"})
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert tree_of(out) == {"fish": None, "fish/puffer.dat": b"p",
                            "mammal": None, "mammal/dolphin.dat": b"d"}


def test_several_top_entries_are_copied_as_they_are(run_plugin: Runner, tree_of: Tree,
                                                    tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    write(inp, {"top.txt": b"t", "deep/er/f.txt": b"f"})
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert tree_of(out) == tree_of(inp)


def test_top_level_meta_files_are_ignored(run_plugin: Runner, tree_of: Tree, tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    write(inp, {"input.meta.json": b"{}", "output.meta.json": b"{}", "only/dir/one.txt": b"1",
                "only/dir/two.txt": b"2"})
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert tree_of(out) == {"one.txt": b"1", "two.txt": b"2"}


def test_meta_named_files_below_the_top_are_data(run_plugin: Runner, tree_of: Tree,
                                                 tmp_path: Path) -> None:
    # Only the previous plugin's own metadata (at the top) is scaffolding; deeper files are user data.
    inp, out = tmp_path / "in", tmp_path / "out"
    write(inp, {"a/input.meta.json": b"mine", "a/x/f.txt": b"f"})
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert tree_of(out) == {"input.meta.json": b"mine", "x": None, "x/f.txt": b"f"}


def test_empty_input_gives_empty_output(run_plugin: Runner, tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    (inp / "a" / "b").mkdir(parents=True)
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert out.is_dir() and not any(out.iterdir())


def test_symlinks_never_escape_the_input(run_plugin: Runner, tmp_path: Path) -> None:
    inp, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "secret"
    write(outside, {"key": b"do not leak", "more/key2": b"nor this"})
    (inp / "a").mkdir(parents=True)
    (inp / "a" / "link-dir").symlink_to(outside)  # the single entry: not descended into
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert not any(out.rglob("*"))
    assert "link-dir" in result.stderr

    inp2, out2 = tmp_path / "in2", tmp_path / "out2"
    (inp2 / "a").mkdir(parents=True)
    (inp2 / "a" / "link-file").symlink_to(outside / "key")  # a single file that lies outside
    result = run_plugin("unstack", inp2, out2)
    assert result.returncode == 0, result.stderr
    assert not any(out2.iterdir())
    assert "link-file" in result.stderr


def test_symlink_inside_the_input_is_copied_as_a_file(run_plugin: Runner, tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    write(inp, {"a/real.txt": b"inside"})
    (inp / "a" / "alias.txt").symlink_to("real.txt")
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["alias.txt", "real.txt"]
    assert not (out / "alias.txt").is_symlink() and (out / "alias.txt").read_bytes() == b"inside"


def test_output_inside_input_is_not_input(run_plugin: Runner, tree_of: Tree, tmp_path: Path) -> None:
    inp = tmp_path / "in"
    write(inp, {"x/y/f.txt": b"f", "x/y/g.txt": b"g"})
    out = inp / "out"
    result = run_plugin("unstack", inp, out)
    assert result.returncode == 0, result.stderr
    assert tree_of(out) == {"f.txt": b"f", "g.txt": b"g"}


def test_needs_an_input_directory(run_plugin: Runner, tmp_path: Path) -> None:
    result = run_plugin("unstack", tmp_path / "out")
    assert result.returncode == 2 and "inputdir" in result.stderr
