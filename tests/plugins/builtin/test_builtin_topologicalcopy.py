"""pl-topologicalcopy joins the outputs of several parents: ids, regex filters, grouping."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def parents(tmp_path: Path) -> Path:
    """The engine's layout: each parent's output under inputdir/<instance id>/."""
    inp = tmp_path / "in"
    for parent, files in {
        "9": {"report.txt": "nine report", "img/a.png": "png9", "data.csv": "9,9"},
        "12": {"report.txt": "twelve report", "img/b.png": "png12", "log/run.log": "log12"},
    }.items():
        for rel, text in files.items():
            path = inp / parent / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return inp


def listing(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_group_by_instance_with_filters(run_plugin: Runner, parents: Path,
                                        tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("topologicalcopy", "--plugininstances", "9,12",
                        "--filter", r"\.png$,^(log/|report)", "--groupByInstance", parents, out)
    assert result.returncode == 0, result.stderr
    assert listing(out) == {
        "9/img/a.png": "png9",
        "12/report.txt": "twelve report",
        "12/log/run.log": "log12",
    }


def test_flattened_with_empty_regex_for_one_parent(run_plugin: Runner, parents: Path,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("topologicalcopy", "--plugininstances", "12,9", "--filter", r",\.csv$",
                        parents, out)
    assert result.returncode == 0, result.stderr
    assert listing(out) == {
        "report.txt": "twelve report",
        "img/b.png": "png12",
        "log/run.log": "log12",
        "data.csv": "9,9",
    }


def test_clash_keeps_first_parent_and_warns(run_plugin: Runner, parents: Path,
                                            tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("topologicalcopy", "--plugininstances", "12,9", parents, out)
    assert result.returncode == 0, result.stderr
    files = listing(out)
    assert files["report.txt"] == "twelve report"
    assert set(files) == {"report.txt", "img/a.png", "img/b.png", "log/run.log", "data.csv"}
    assert "report.txt" in result.stderr


def test_no_ids_means_every_parent_in_numeric_order(run_plugin: Runner, parents: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_plugin("topologicalcopy", parents, out)
    assert result.returncode == 0, result.stderr
    # 9 sorts before 12 numerically (not as text), so it wins the clash.
    assert listing(out)["report.txt"] == "nine report"
    grouped = tmp_path / "grouped"
    result = run_plugin("topologicalcopy", "--groupByInstance", parents, grouped)
    assert result.returncode == 0, result.stderr
    assert len(listing(grouped)) == 6
    assert sorted(p.name for p in grouped.iterdir()) == ["12", "9"]


@pytest.mark.parametrize("args, message", [
    (("--plugininstances", "9,12", "--filter", "a"), "1 regular expressions for 2"),
    (("--plugininstances", "9", "--filter", "(unclosed"), "invalid regular expression"),
    (("--plugininstances", "9,404"), "404"),
    (("--plugininstances", "9,../in/9"), "invalid plugin instance id"),
    (("--plugininstances", ".."), "invalid plugin instance id"),
    (("--plugininstances", "9,9"), "repeat"),
])
def test_bad_arguments_exit_1(run_plugin: Runner, parents: Path, tmp_path: Path,
                              args: tuple[str, ...], message: str) -> None:
    out = tmp_path / "out"
    result = run_plugin("topologicalcopy", *args, parents, out)
    assert result.returncode == 1
    assert message in result.stderr
    assert list(out.iterdir()) == []
