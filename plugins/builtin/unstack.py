#!/usr/bin/env python3
"""pl-unstack-folders: the ds plugin that lifts deeply nested files up to the output's top level.

Usage: ``unstack <inputdir> <outputdir>`` (no parameters).

Copy plugins (pl-dircopy, ts copies) name their output after long storage paths, e.g.
``chris_uploads_chrs-upload-tmp-1700000000000/scan/…``. The chrs CLI therefore runs this plugin
after pl-dircopy when it uploads files into a new feed, so that the feed shows the files the
user uploaded rather than that scaffolding. The rule, as in the real pl-unstack-folders:

- start at ``inputdir`` and, while the current directory holds exactly one entry, step into it;
- when a directory with no entries or with two or more is reached, its *contents* are copied
  into ``outputdir`` (relative structure kept, empty directories included);
- when the single entry is a file, that file is copied to ``outputdir/<its name>``.

At the top level only, ``input.meta.json`` and ``output.meta.json`` (the previous plugin's
ChRIS metadata, not user data) are ignored while counting entries and are not copied: otherwise
their mere presence would stop the descent at the first level.

Files are hard-linked when possible and copied otherwise; symlinks are never followed out of the
input (a symlinked directory is not descended into, and copying skips escaping links).
"""

from __future__ import annotations

import argparse
import os
import sys

try:
    from . import _common
except ImportError:  # run as a standalone script with _common.py beside it
    import _common  # type: ignore[no-redef]

SPEC = _common.PluginSpec(
    meta={
        "name": "pl-unstack-folders",
        "version": "1.0.0",
        "dock_image": "localhost/cube/pl-unstack-folders:1.0.0",
        "public_repo": "https://github.com/FNNDSC/pl-unstack-folders",
        "type": "ds",
        "title": "Unstack Folders",
        "category": "utility",
        "description": "A ChRIS ds app that copies deeply nested files and folders up to the "
                       "top level of its output directory",
        "documentation": "https://github.com/FNNDSC/pl-unstack-folders",
        "selfexec": "unstack",
    },
    params=(),
    manual=__doc__ or "",
)

META_FILES = frozenset({"input.meta.json", "output.meta.json"})


def _entries(path: str, *, top: bool, outputdir: str) -> list[str]:
    real_out = os.path.realpath(outputdir)
    names = []
    for name in sorted(os.listdir(path)):
        if top and name in META_FILES:
            continue
        if os.path.realpath(os.path.join(path, name)) == real_out:
            continue  # the output directory placed inside the input is not input
        names.append(name)
    return names


def find_nested(inputdir: str, outputdir: str) -> tuple[str, list[str]]:
    """The deepest path reached through single-entry directories, and the entries to copy there.

    Returns ``(directory, names)``: the names of ``directory`` that make up the output. When the
    descent ends on a single file, ``names`` is that one file.
    """
    current, top = inputdir, True
    while True:
        names = _entries(current, top=top, outputdir=outputdir)
        if len(names) != 1:
            return current, names
        only = os.path.join(current, names[0])
        if os.path.islink(only) or not os.path.isdir(only):
            return current, names
        current, top = only, False


def copy_entries(root: str, names: list[str], inputdir: str, outputdir: str) -> _common.Copier:
    copier = _common.Copier()
    for name in names:
        src = os.path.join(root, name)
        if os.path.isdir(src) and not os.path.islink(src):
            for rel, files in _common.walk(src, exclude=outputdir):
                target = os.path.join(outputdir, name, rel)
                os.makedirs(target, exist_ok=True)
                for file_name in files:
                    copier.place(os.path.join(src, rel, file_name), os.path.join(target, file_name))
        elif os.path.isfile(src) and _common.is_within(src, inputdir):
            copier.place(src, os.path.join(outputdir, name))
        else:
            _common.warn(f"unstack: skipping {os.path.relpath(src, inputdir)}: not a regular file "
                         "inside the input")
    return copier


def main(options: argparse.Namespace) -> int:
    root, names = find_nested(options.inputdir, options.outputdir)
    shown = os.path.relpath(root, options.inputdir)
    print(f"unstack: copying {len(names)} entries of {'(input)' if shown == '.' else shown}",
          flush=True)
    copier = copy_entries(root, names, options.inputdir, options.outputdir)
    print(f"unstack: {copier.linked} files linked, {copier.copied} copied", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_common.run(SPEC, main))
