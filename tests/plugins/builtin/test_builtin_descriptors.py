"""The ChRIS flags every built-in plugin shares: --json, --version, --meta, --man, meta files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
Runner = Callable[..., subprocess.CompletedProcess[str]]

EXPECTED = {
    "dircopy": ("pl-dircopy", "2.1.3", "fs", "pl-dircopy"),
    "simpledsapp": ("pl-simpledsapp", "2.1.0", "ds", "pl-simpledsapp"),
    "topologicalcopy": ("pl-topologicalcopy", "1.0.0", "ts", "pl-simpledsapp"),
    "tsdircopy": ("pl-tsdircopy", "1.2.1", "ts", "pl-simpledsapp"),
    "unstack": ("pl-unstack-folders", "1.0.0", "ds", "pl-simpledsapp"),
}
DESCRIPTOR_FIELDS = {
    "name", "version", "dock_image", "public_repo", "type", "icon", "authors", "title",
    "category", "description", "documentation", "license", "selfpath", "selfexec", "execshell",
    "parameters", "min_number_of_workers", "max_number_of_workers", "min_memory_limit",
    "max_memory_limit", "min_cpu_limit", "max_cpu_limit", "min_gpu_limit", "max_gpu_limit",
}
LIMIT_FIELDS = sorted(f for f in DESCRIPTOR_FIELDS if f.endswith(("_limit", "_workers")))
PARAM_TYPES = {"str", "int", "float", "bool", "path", "unextpath"}


def descriptor_of(run_plugin: Runner, module: str) -> dict[str, Any]:
    result = run_plugin(module, "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_json_descriptor_fields(run_plugin: Runner, module: str,
                                reference: Callable[[str], dict[str, Any]]) -> None:
    name, version, plugin_type, limits_like = EXPECTED[module]
    desc = descriptor_of(run_plugin, module)
    assert set(desc) == DESCRIPTOR_FIELDS
    assert (desc["name"], desc["version"], desc["type"]) == (name, version, plugin_type)
    assert desc["dock_image"] == f"localhost/cube/{name}:{version}"
    assert desc["selfexec"] == module
    assert desc["selfpath"] == "/usr/local/bin"
    assert desc["execshell"] == "python3"
    assert desc["authors"] == "cube developers"
    assert desc["license"] == "MIT"
    assert all(isinstance(desc[f], str) and desc[f] for f in ("title", "description",
                                                                "public_repo", "documentation"))
    ref = reference(limits_like)
    assert {f: desc[f] for f in LIMIT_FIELDS} == {f: ref[f] for f in LIMIT_FIELDS}
    for param in desc["parameters"]:
        assert param["type"] in PARAM_TYPES
        assert param["flag"].startswith("-") and param["short_flag"].startswith("-")


@pytest.mark.parametrize("module", ["dircopy", "simpledsapp"])
def test_parameters_match_real_plugin(run_plugin: Runner, module: str,
                                      reference: Callable[[str], dict[str, Any]]) -> None:
    ours = descriptor_of(run_plugin, module)["parameters"]
    theirs = reference(EXPECTED[module][0])["parameters"]
    assert [p["name"] for p in ours] == [p["name"] for p in theirs]
    for mine, real in zip(ours, theirs, strict=True):
        assert mine == real, f"parameter {real['name']} differs"
        # 1 == 1.0 and 0 == False in Python: the JSON types must match too.
        assert type(mine["default"]) is type(real["default"]), real["name"]


def test_topologicalcopy_parameters(run_plugin: Runner) -> None:
    params = {p["name"]: p for p in descriptor_of(run_plugin, "topologicalcopy")["parameters"]}
    assert set(params) == {"plugininstances", "filter", "groupByInstance"}
    for name in ("plugininstances", "filter"):
        assert params[name]["type"] == "str" and params[name]["default"] == ""
        assert params[name]["optional"] is True and params[name]["flag"] == f"--{name}"
        assert params[name]["action"] == "store"
    group = params["groupByInstance"]
    assert (group["type"], group["action"], group["default"], group["flag"]) == (
        "bool", "store_true", False, "--groupByInstance")


def test_tsdircopy_parameters_are_dircopys(run_plugin: Runner) -> None:
    # The real pl-tsdircopy declares the same single required --dir unextpath as pl-dircopy; chrs sends it.
    assert descriptor_of(run_plugin, "tsdircopy")["parameters"] == descriptor_of(run_plugin, "dircopy")[
        "parameters"]


def test_unstack_takes_no_parameters(run_plugin: Runner) -> None:
    # Like the real pl-unstack-folders: chrs runs it with nothing but previous_id.
    assert descriptor_of(run_plugin, "unstack")["parameters"] == []


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_info_flags(run_plugin: Runner, module: str) -> None:
    name, version, _, _ = EXPECTED[module]
    version_run = run_plugin(module, "--version")
    assert (version_run.returncode, version_run.stdout.strip()) == (0, version)

    meta_run = run_plugin(module, "--meta")
    assert meta_run.returncode == 0
    meta = json.loads(meta_run.stdout)
    assert meta["name"] == name and "parameters" not in meta

    man_run = run_plugin(module, "--man")
    assert man_run.returncode == 0
    assert name in man_run.stdout and "--saveinputmeta" in man_run.stdout

    help_run = run_plugin(module, "--help")
    assert help_run.returncode == 0 and "usage:" in help_run.stdout


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_savejson_writes_descriptor(run_plugin: Runner, module: str, tmp_path: Path) -> None:
    result = run_plugin(module, "--savejson", tmp_path)
    assert result.returncode == 0, result.stderr
    saved = json.loads((tmp_path / f"{EXPECTED[module][0]}.json").read_text())
    assert saved == descriptor_of(run_plugin, module)


def test_save_meta_files(run_plugin: Runner, tmp_path: Path) -> None:
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    (inp / "a.txt").write_text("a")
    result = run_plugin("simpledsapp", "--prefix", "p_", "--dummyInt", "7", "--saveinputmeta",
                        "--saveoutputmeta", inp, out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["input.meta.json", "output.meta.json",
                                                     "p_a.txt"]
    given = json.loads((out / "input.meta.json").read_text())
    assert given["prefix"] == "p_" and given["dummyInt"] == 7 and given["dummyFloat"] == 1.1
    assert json.loads((out / "output.meta.json").read_text())["name"] == "pl-simpledsapp"


@pytest.mark.parametrize("argv", [
    ("dircopy", "IN", "OUT"),  # --dir is required
    ("simpledsapp", "OUT"),  # a ds plugin needs an input directory
    ("simpledsapp", "MISSING", "OUT"),
    ("simpledsapp", "--dummyInt", "x", "IN", "OUT"),
    ("topologicalcopy",),
    ("tsdircopy", "IN", "OUT"),  # --dir is required
])
def test_bad_command_lines_exit_2(run_plugin: Runner, tmp_path: Path,
                                  argv: tuple[str, ...]) -> None:
    (tmp_path / "IN").mkdir()
    args = [str(tmp_path / a) if a in ("IN", "OUT", "MISSING") else a for a in argv[1:]]
    result = run_plugin(argv[0], *args)
    assert result.returncode == 2
    assert "error" in result.stderr
    assert not (tmp_path / "OUT").exists()


def test_registry_matches_modules() -> None:
    # In a subprocess from the repository root: the test session's import path may hold a
    # different top-level "plugins" package (tests/plugins).
    code = (
        "import json; from plugins.builtin import REGISTRY, descriptor\n"
        "print(json.dumps({n: [p.module, p.selfexec, descriptor(n)] for n, p in REGISTRY.items()}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    registry = json.loads(out)
    assert set(registry) == {v[0] for v in EXPECTED.values()}
    for module, (name, *_rest) in EXPECTED.items():
        module_name, selfexec, desc = registry[name]
        assert module_name == f"plugins.builtin.{module}" and selfexec == module
        printed = subprocess.run([sys.executable, "-m", module_name, "--json"], cwd=REPO_ROOT,
                                 capture_output=True, text=True, check=True).stdout
        assert desc == json.loads(printed)


def test_compat_versions_differ_only_in_version_and_image() -> None:
    # chrs 0.3 `upload` looks up pl-dircopy 2.1.2 by exact version: the same implementation is registered
    # under that number on request, and nothing but the number and image tag may differ.
    code = (
        "import json; from plugins.builtin import descriptor, descriptors\n"
        "print(json.dumps([descriptor('pl-dircopy'), descriptor('pl-dircopy', '2.1.2'),\n"
        "                  [(d['name'], d['version']) for d in descriptors()],\n"
        "                  [(d['name'], d['version']) for d in descriptors(compat=True)]]))\n"
        "try:\n    descriptor('pl-dircopy', '9.9.9')\nexcept KeyError:\n    print('unknown version refused')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    current, old, plain, compat = json.loads(out[0])
    assert out[1] == "unknown version refused"
    assert (old["version"], old["dock_image"]) == ("2.1.2", "localhost/cube/pl-dircopy:2.1.2")
    assert {k: v for k, v in old.items() if k not in ("version", "dock_image")} == {
        k: v for k, v in current.items() if k not in ("version", "dock_image")}
    assert ["pl-dircopy", "2.1.2"] not in plain and len(plain) == len(EXPECTED)
    assert compat == [*plain[:1], ["pl-dircopy", "2.1.2"], *plain[1:]]
