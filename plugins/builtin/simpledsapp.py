#!/usr/bin/env python3
"""pl-simpledsapp: the demo ds plugin, used to build and test feeds and pipelines.

Usage: ``simpledsapp [--prefix P] [--ignoreInputDir] [--sleepLength S] [--dummyInt N]
[--dummyFloat F] <inputdir> <outputdir>``

Sleeps ``--sleepLength`` seconds (a float; useful to observe a running job or to cancel one),
then, unless ``--ignoreInputDir`` is given, copies every file below ``inputdir`` into
``outputdir`` with ``--prefix`` prepended to its base name, keeping sub-directories. It writes
nothing else (besides the ``--saveinputmeta``/``--saveoutputmeta`` files when asked).
``--dummyInt`` and ``--dummyFloat`` exist to exercise typed parameters and do nothing.
SIGTERM ends the plugin promptly, also while it sleeps.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

try:
    from . import _common
except ImportError:  # run as a standalone script with _common.py beside it
    import _common  # type: ignore[no-redef]

SPEC = _common.PluginSpec(
    meta={
        "name": "pl-simpledsapp",
        "version": "2.1.0",
        "dock_image": "localhost/cube/pl-simpledsapp:2.1.0",
        "public_repo": "https://github.com/FNNDSC/pl-simpledsapp",
        "type": "ds",
        "title": "Simple chris ds app",
        "category": "",
        "description": "A simple chris ds app demo",
        "documentation": "https://github.com/FNNDSC/pl-simpledsapp",
        "selfexec": "simpledsapp",
    },
    params=(
        _common.Param(name="prefix", type="str", flag="--prefix", short_flag="-p",
                      default="", help="prefix for file names"),
        _common.Param(name="ignoreInputDir", type="bool", flag="--ignoreInputDir",
                      action="store_true", default=False,
                      help="if set, ignore the input dir completely"),
        _common.Param(name="sleepLength", type="str", flag="--sleepLength", default="0",
                      help="time to sleep before performing plugin action"),
        _common.Param(name="dummyInt", type="int", flag="--dummyInt", default=1,
                      help="dummy integer parameter"),
        _common.Param(name="dummyFloat", type="float", flag="--dummyFloat", default=1.1,
                      help="dummy float parameter"),
    ),
    manual=__doc__ or "",
)


def parse_sleep_length(text: str) -> float:
    """Seconds to sleep; ValueError unless ``text`` is a finite, non-negative number."""
    seconds = float(text)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{text!r} is not a finite, non-negative number of seconds")
    return seconds


def copy_with_prefix(inputdir: str, outputdir: str, prefix: str) -> int:
    # Hard links are not used: a prefixed copy is the plugin's whole point, and demo inputs
    # are small.
    copier = _common.Copier(link=False)
    for rel, files in _common.walk(inputdir, exclude=outputdir):
        if not files:
            continue
        target = os.path.join(outputdir, rel)
        os.makedirs(target, exist_ok=True)
        for name in files:
            copier.place(os.path.join(inputdir, rel, name), os.path.join(target, prefix + name))
    return copier.copied


def main(options: argparse.Namespace) -> int:
    if os.sep in options.prefix or (os.altsep and os.altsep in options.prefix):
        # A separator would let the prefix place files outside their directory.
        _common.warn(f"simpledsapp: invalid --prefix {options.prefix!r}: no path separators")
        return 1
    try:
        seconds = parse_sleep_length(options.sleepLength)
    except ValueError:
        _common.warn(f"simpledsapp: invalid --sleepLength {options.sleepLength!r}: "
                     "expected a non-negative number of seconds")
        return 1
    if seconds:
        print(f"simpledsapp: sleeping {seconds:g} s", flush=True)
        time.sleep(seconds)
    if options.ignoreInputDir:
        print("simpledsapp: ignoring the input directory", flush=True)
        return 0
    count = copy_with_prefix(options.inputdir, options.outputdir, options.prefix)
    print(f"simpledsapp: copied {count} files", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_common.run(SPEC, main))
