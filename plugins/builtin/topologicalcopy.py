#!/usr/bin/env python3
"""pl-topologicalcopy: the ts plugin that joins the outputs of several plugin instances.

Usage: ``topologicalcopy [--plugininstances ID,ID...] [--filter RE,RE...] [--groupByInstance]
<inputdir> <outputdir>``

Contract with the job engine. In the original CUBE the backend itself copied the parents'
files when the ts instance was registered. Here the engine materialises the output of each
parent instance under ``<inputdir>/<parent_instance_id>/`` before the plugin starts, and the
plugin does the selection:

- ``--plugininstances`` lists the parent ids, comma-separated, in order; empty means every
  sub-directory of ``inputdir`` (numeric ids in numeric order). A listed parent whose
  directory is missing is an error (exit 1).
- ``--filter`` holds one regular expression per parent, comma-separated, in the same order
  (so a regex cannot itself contain a comma). A file of that parent is copied when the regex
  matches (``re.search``) its path relative to the parent's directory, with ``/`` separators.
  An empty regex, or an empty ``--filter``, selects everything. A count that differs from the
  number of parents, or an invalid regex, is an error (exit 1).
- With ``--groupByInstance`` the files of parent ``N`` land under ``<outputdir>/N/``, keeping
  their relative paths; without it they land directly under ``outputdir``, keeping their
  relative paths. When two parents provide the same relative path, the first parent in order
  wins and the clash is reported on stderr.

Files are hard-linked when possible and copied otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

try:
    from . import _common
except ImportError:  # run as a standalone script with _common.py beside it
    import _common  # type: ignore[no-redef]

SPEC = _common.PluginSpec(
    meta={
        "name": "pl-topologicalcopy",
        "version": "1.0.0",
        "dock_image": "localhost/cube/pl-topologicalcopy:1.0.0",
        "public_repo": "https://github.com/FNNDSC/pl-topologicalcopy",
        "type": "ts",
        "title": "Topological copy",
        "category": "utility",
        "description": "A ChRIS ts app that copies the filtered outputs of several plugin "
                       "instances into one output directory",
        "documentation": "https://github.com/FNNDSC/pl-topologicalcopy",
        "selfexec": "topologicalcopy",
    },
    params=(
        _common.Param(name="plugininstances", type="str", flag="--plugininstances", default="",
                      help="comma-separated ids of the parent plugin instances"),
        _common.Param(name="filter", type="str", flag="--filter", default="",
                      help="comma-separated regular expressions, one per parent instance"),
        _common.Param(name="groupByInstance", type="bool", flag="--groupByInstance",
                      action="store_true", default=False,
                      help="put each parent's files under a directory named by its id"),
    ),
    manual=__doc__ or "",
)


class UsageError(Exception):
    """Arguments that do not fit the engine's input layout; reported and exit status 1."""


def _sort_key(name: str) -> tuple[int, int, str]:
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def resolve_parents(inputdir: str, plugininstances: str, outputdir: str) -> list[str]:
    if not plugininstances.strip():
        real_out = os.path.realpath(outputdir)
        return sorted((e.name for e in os.scandir(inputdir) if e.is_dir(follow_symlinks=False)
                       and os.path.realpath(e.path) != real_out), key=_sort_key)
    parents = [p.strip() for p in plugininstances.split(",")]
    for parent in parents:
        # Ids name directories of inputdir: anything else could reach outside it.
        if not parent or parent in (".", "..") or "/" in parent or os.sep in parent:
            raise UsageError(f"invalid plugin instance id {parent!r}")
        path = os.path.join(inputdir, parent)
        if os.path.islink(path) or not os.path.isdir(path):
            raise UsageError(f"no input directory for plugin instance {parent}")
    if len(set(parents)) != len(parents):
        raise UsageError(f"plugin instance ids repeat in {plugininstances!r}")
    return parents


def compile_filters(text: str, count: int) -> list[re.Pattern[str]]:
    if not text:
        return [re.compile("")] * count
    parts = text.split(",")
    if len(parts) != count:
        raise UsageError(f"--filter has {len(parts)} regular expressions for {count} parents")
    try:
        return [re.compile(part) for part in parts]
    except re.error as exc:
        raise UsageError(f"invalid regular expression in --filter: {exc}") from exc


def copy_parents(inputdir: str, outputdir: str, parents: list[str],
                 filters: list[re.Pattern[str]], group: bool) -> int:
    copier = _common.Copier()
    placed: dict[str, str] = {}  # relative output path -> parent that provided it
    for parent, regex in zip(parents, filters, strict=True):
        root = os.path.join(inputdir, parent)
        for rel_dir, files in _common.walk(root, exclude=outputdir):
            for name in files:
                rel = os.path.join(rel_dir, name)
                if not regex.search(rel.replace(os.sep, "/")):
                    continue
                out_rel = os.path.join(parent, rel) if group else rel
                if out_rel in placed:
                    _common.warn(f"topologicalcopy: {rel} of instance {parent} skipped: "
                                 f"instance {placed[out_rel]} already provided it")
                    continue
                placed[out_rel] = parent
                dst = os.path.join(outputdir, out_rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                copier.place(os.path.join(root, rel), dst)
    return len(placed)


def main(options: argparse.Namespace) -> int:
    try:
        parents = resolve_parents(options.inputdir, options.plugininstances, options.outputdir)
        filters = compile_filters(options.filter, len(parents))
    except UsageError as exc:
        _common.warn(f"topologicalcopy: {exc}")
        return 1
    count = copy_parents(options.inputdir, options.outputdir, parents, filters,
                         options.groupByInstance)
    print(f"topologicalcopy: copied {count} files from instances {', '.join(parents)}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_common.run(SPEC, main))
