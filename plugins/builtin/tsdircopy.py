#!/usr/bin/env python3
"""pl-tsdircopy: the ts plugin that copies files already in storage into an existing feed.

Usage: ``tsdircopy --dir <path>[,<path>...] <inputdir> <outputdir>``

pl-dircopy starts a new feed from storage paths; pl-tsdircopy does the same below a run of a
feed that exists (its ``previous``). The chrs CLI runs it when ``chrs upload`` adds files to the
current feed (after ``chrs cd``, or after an earlier upload or run).

Contract with the job engine. As for every ts plugin the engine materialises the previous run's
output under ``<inputdir>/<previous id>/``, and each ``--dir`` path ``p`` (as the server stored
it: normalised, comma-separated) under ``<inputdir>/<p with every "/" replaced by "_">/``. Only
the ``--dir`` paths are this plugin's input, as in the real pl-tsdircopy: each one's folder is
copied to ``<outputdir>/<same name>/``, keeping its relative structure (empty directories
included). The previous run only places the copy in the feed's tree. A ``--dir`` path with no
materialised folder is an error (exit 1): the user would otherwise get an empty run.

Files are hard-linked when input and output share a filesystem and copied otherwise; symlinks
that resolve outside a copied folder are skipped.
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
        "name": "pl-tsdircopy",
        "version": "1.2.1",
        "dock_image": "localhost/cube/pl-tsdircopy:1.2.1",
        "public_repo": "https://github.com/FNNDSC/pl-tsdircopy",
        "type": "ts",
        "title": "A ChRIS ts app to copy obj storage directories into an existing feed",
        "category": "utility",
        "description": "A plugin ts app to copy one or more obj storage directories below an "
                       "existing plugin instance",
        "documentation": "https://github.com/FNNDSC/pl-tsdircopy",
        "selfexec": "tsdircopy",
    },
    params=(
        _common.Param(name="dir", type="unextpath", flag="--dir", optional=False,
                      help="directories to be copied"),
    ),
    manual=__doc__ or "",
)


def input_names(dirs: str) -> list[str]:
    """The folder names under inputdir that hold the ``--dir`` paths, in order, without repeats."""
    names: list[str] = []
    for path in dirs.split(","):
        # Exactly the engine's naming; the server has already normalised the paths.
        name = path.replace("/", "_")
        if name and name not in (".", "..") and name not in names:
            names.append(name)
    return names


def main(options: argparse.Namespace) -> int:
    names = input_names(options.dir)
    print(f"tsdircopy: requested paths: {options.dir}", flush=True)
    missing = [n for n in names if not os.path.isdir(os.path.join(options.inputdir, n))
               or os.path.islink(os.path.join(options.inputdir, n))]
    if not names or missing:
        _common.warn(f"tsdircopy: no input for --dir {', '.join(missing) or '(empty)'}")
        return 1
    copier = _common.Copier()
    for name in names:
        src = os.path.join(options.inputdir, name)
        for rel, files in _common.walk(src, exclude=options.outputdir):
            target = os.path.join(options.outputdir, name, rel)
            os.makedirs(target, exist_ok=True)
            for file_name in files:
                copier.place(os.path.join(src, rel, file_name), os.path.join(target, file_name))
    print(f"tsdircopy: {copier.linked} files linked, {copier.copied} copied", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_common.run(SPEC, main))
