#!/usr/bin/env python3
"""pl-dircopy: the fs plugin that starts a feed from files already in storage.

Usage: ``dircopy --dir <path>[,<path>...] <inputdir> <outputdir>``

In the original CUBE the plugin itself fetched the ``--dir`` paths from object storage. Here the
job engine has already materialised every selected path into the input directory before the
plugin starts (the contents of path ``p`` appear under ``<inputdir>/<p>``), so the plugin only
has to copy everything below ``inputdir`` into ``outputdir``, keeping the relative structure
(empty directories included). ``--dir`` keeps the real plugin's interface (clients such as the
chrs CLI send it) and is used only for logging.

Files are hard-linked when input and output share a filesystem (a feed of thousands of files
then costs no data copy) and copied otherwise. Symlinks that resolve outside the input are
skipped, so the plugin never exposes files outside its input root.
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
        "name": "pl-dircopy",
        "version": "2.1.3",
        "dock_image": "localhost/cube/pl-dircopy:2.1.3",
        "public_repo": "https://github.com/FNNDSC/pl-dircopy",
        "type": "fs",
        "title": "A ChRIS fs app to copy obj storage directories",
        "category": "utility",
        "description": "A plugin fs app to copy one or more obj storage directories",
        "documentation": "https://github.com/FNNDSC/pl-dircopy",
        "selfexec": "dircopy",
        "max_cpu_limit": "1000m",
        "min_cpu_limit": "50m",
    },
    params=(
        _common.Param(name="dir", type="unextpath", flag="--dir", optional=False,
                      help="directories to be copied"),
    ),
    manual=__doc__ or "",
)


def copy_tree(inputdir: str, outputdir: str) -> _common.Copier:
    """Mirror every directory and file below ``inputdir`` into ``outputdir``."""
    copier = _common.Copier()
    for rel, files in _common.walk(inputdir, exclude=outputdir):
        target = os.path.join(outputdir, rel)
        os.makedirs(target, exist_ok=True)
        for name in files:
            copier.place(os.path.join(inputdir, rel, name), os.path.join(target, name))
    return copier


def main(options: argparse.Namespace) -> int:
    requested = [d.strip() for d in options.dir.split(",") if d.strip()]
    print(f"dircopy: requested paths: {', '.join(requested) or '(none)'}", flush=True)
    if options.inputdir is None:
        _common.warn("dircopy: no input directory was given, nothing to copy")
        return 0
    copier = copy_tree(options.inputdir, options.outputdir)
    print(f"dircopy: {copier.linked} files linked, {copier.copied} copied", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_common.run(SPEC, main))
