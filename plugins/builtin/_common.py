"""Shared machinery of the built-in ChRIS plugins: descriptors, the command line, safe copying.

Standard library only, and importable both as ``plugins.builtin._common`` and as a plain
``_common`` module sitting next to a plugin script copied into a container image.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

# argparse's converter for each type of the descriptor vocabulary; bool is a store_true flag.
_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": int,
    "float": float,
    "path": str,
    "unextpath": str,
}
PARAM_TYPES = frozenset(_CONVERTERS) | {"bool"}

# Flags every ChRIS plugin understands; they are not plugin parameters and never reach main().
_INFO_FLAGS = ("json", "version", "meta", "man")


@dataclass(frozen=True)
class Param:
    """One plugin parameter, as it appears in the descriptor's ``parameters`` list."""

    name: str
    type: str
    flag: str
    help: str
    optional: bool = True
    default: Any = None
    action: str = "store"
    short_flag: str | None = None
    ui_exposed: bool = True

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"unknown parameter type {self.type!r}")
        if (self.type == "bool") != (self.action in ("store_true", "store_false")):
            raise ValueError(f"{self.name}: bool parameters, and only they, are flags")

    def descriptor(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "optional": self.optional,
            "flag": self.flag,
            "short_flag": self.short_flag or self.flag,
            "action": self.action,
            "help": self.help,
            "default": self.default,
            "ui_exposed": self.ui_exposed,
        }


# The descriptor fields every built-in shares; a plugin's own meta names only what is its own (or differs).
COMMON_META: dict[str, Any] = {
    "icon": "",
    "authors": "cube developers",
    "license": "MIT",
    "selfpath": "/usr/local/bin",
    "execshell": "python3",
    "max_number_of_workers": 1,
    "min_number_of_workers": 1,
    "max_memory_limit": "",
    "min_memory_limit": "",
    "max_cpu_limit": "",
    "min_cpu_limit": "",
    "max_gpu_limit": 0,
    "min_gpu_limit": 0,
}


@dataclass(frozen=True)
class PluginSpec:
    """Everything a plugin declares: descriptor fields (``meta``, over COMMON_META), parameters and manual
    text."""

    meta: dict[str, Any]
    params: tuple[Param, ...]
    manual: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", {**COMMON_META, **self.meta})

    def descriptor(self) -> dict[str, Any]:
        desc = dict(self.meta)
        desc["parameters"] = [p.descriptor() for p in self.params]
        return desc


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    # Raising unwinds finally-blocks and interrupts time.sleep(); the shell-style status
    # tells the job engine the plugin was stopped rather than that it failed on its own.
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    """Exit promptly on SIGTERM/SIGINT.

    Needed because in a container the plugin is PID 1, and the kernel ignores signals whose
    disposition is the default for PID 1: without a handler ``podman stop`` would wait for
    its timeout and then SIGKILL.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_on_signal)


def build_parser(spec: PluginSpec) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=spec.meta["selfexec"],
        description=spec.meta["description"],
    )
    parser.add_argument("inputdir", nargs="?", help="directory holding the input files")
    parser.add_argument("outputdir", nargs="?", help="directory the plugin writes into")
    for p in spec.params:
        flags = [p.flag] + ([p.short_flag] if p.short_flag and p.short_flag != p.flag else [])
        # Required parameters are checked after parsing so that --json and friends work alone.
        if p.type == "bool":
            parser.add_argument(*flags, dest=p.name, action=p.action, default=bool(p.default),
                                help=p.help)
        else:
            parser.add_argument(*flags, dest=p.name, action=p.action, type=_CONVERTERS[p.type],
                                default=p.default, help=p.help)
    parser.add_argument("--json", action="store_true", help="print the plugin descriptor and exit")
    parser.add_argument("--savejson", metavar="DIR",
                        help="write the descriptor to DIR/<plugin name>.json and exit")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--meta", action="store_true",
                        help="print the descriptor without parameters and exit")
    parser.add_argument("--man", action="store_true", help="print the manual and exit")
    parser.add_argument("--saveinputmeta", action="store_true",
                        help="write the parsed arguments to outputdir/input.meta.json")
    parser.add_argument("--saveoutputmeta", action="store_true",
                        help="write the plugin metadata to outputdir/output.meta.json")
    parser.add_argument("-v", "--verbosity", default="0", help="accepted for ChRIS compatibility")
    return parser


def _info_requested(spec: PluginSpec, parser: argparse.ArgumentParser,
                    options: argparse.Namespace) -> bool:
    if options.json:
        print(json.dumps(spec.descriptor(), indent=2))
    elif options.savejson is not None:
        target = os.path.join(options.savejson, f"{spec.meta['name']}.json")
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(spec.descriptor(), fh, indent=2)
    elif options.version:
        print(spec.meta["version"])
    elif options.meta:
        print(json.dumps(spec.meta, indent=2))
    elif options.man:
        print(spec.manual.strip() + "\n\n" + parser.format_help())
    else:
        return False
    return True


def _resolve_dirs(spec: PluginSpec, parser: argparse.ArgumentParser,
                  options: argparse.Namespace) -> None:
    if options.outputdir is None and spec.meta["type"] == "fs" and options.inputdir is not None:
        # Older engines call fs plugins with the output directory only.
        options.outputdir, options.inputdir = options.inputdir, None
    if options.outputdir is None:
        parser.error("the following arguments are required: inputdir outputdir")
    if options.inputdir is None:
        if spec.meta["type"] != "fs":
            parser.error("the following arguments are required: inputdir")
    elif not os.path.isdir(options.inputdir):
        parser.error(f"input directory {options.inputdir!r} does not exist")
    os.makedirs(options.outputdir, exist_ok=True)


def run(spec: PluginSpec, main: Callable[[argparse.Namespace], int],
        argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` the way ChRIS plugins do and call ``main`` unless an info flag was given."""
    install_signal_handlers()
    parser = build_parser(spec)
    options = parser.parse_args(argv)
    if _info_requested(spec, parser, options):
        return 0
    missing = [p.flag for p in spec.params if not p.optional and getattr(options, p.name) is None]
    if missing:
        parser.error("the following arguments are required: " + ", ".join(missing))
    _resolve_dirs(spec, parser, options)
    if options.saveinputmeta:
        params = {p.name: getattr(options, p.name) for p in spec.params}
        params.update(inputdir=options.inputdir, outputdir=options.outputdir)
        _write_json(os.path.join(options.outputdir, "input.meta.json"), params)
    status = main(options)
    if options.saveoutputmeta and status == 0:
        _write_json(os.path.join(options.outputdir, "output.meta.json"), spec.meta)
    return status


def _write_json(path: str, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)


def is_within(path: str, root: str) -> bool:
    """True if ``path`` (after resolving symlinks) is ``root`` or lies below it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def walk(root: str, *, exclude: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """Yield ``(relative dir, [file names])`` for every directory below ``root``, itself included.

    Symlinked files are kept only when they resolve to a regular file inside ``root`` (their
    contents get copied); every other symlink is skipped with a warning, so that nothing outside
    the input root can leak into the output. ``exclude`` prunes one directory (the output
    directory when it was placed inside the input).
    """
    real_exclude = os.path.realpath(exclude) if exclude else None
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        kept_dirs = []
        for name in sorted(dirnames):
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                warn(f"skipping symlinked directory {os.path.join(rel, name)}")
            elif real_exclude is None or os.path.realpath(full) != real_exclude:
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        files = []
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if os.path.islink(full) and not (is_within(full, root) and os.path.isfile(full)):
                warn(f"skipping symlink {os.path.join(rel, name)}: it points outside the input")
            elif os.path.isfile(full):
                files.append(name)
            else:
                warn(f"skipping {os.path.join(rel, name)}: not a regular file")
        yield ("" if rel == "." else rel), files


class Copier:
    """Places files by hard link when the filesystem allows it, by copy otherwise."""

    def __init__(self, *, link: bool = True) -> None:
        self.link = link
        self.linked = 0
        self.copied = 0

    def place(self, src: str, dst: str) -> None:
        if os.path.lexists(dst):
            # Re-runs into the same output directory replace files rather than failing.
            os.unlink(dst)
        if self.link and not os.path.islink(src):
            try:
                os.link(src, dst)
                self.linked += 1
                return
            except OSError as exc:
                # Another device, or a filesystem / protected_hardlinks policy that refuses:
                # stop trying once the device differs, since it will differ for every file.
                if exc.errno == errno.EXDEV:
                    self.link = False
        shutil.copyfile(src, dst)
        shutil.copymode(src, dst)
        self.copied += 1
