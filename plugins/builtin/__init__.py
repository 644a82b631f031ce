"""The built-in ChRIS plugins that ship with cube: pl-dircopy, pl-simpledsapp, pl-topologicalcopy,
pl-tsdircopy, pl-unstack-folders.

Each module is a standalone, standard-library-only script following the ChRIS plugin calling
convention (``<selfexec> [flags] <inputdir> <outputdir>``, ``--json`` prints the descriptor).
They run as ``python3 -m plugins.builtin.<module>`` from the repository, or as a plain file
copied (with ``_common.py`` beside it) into a plugin container image. Nothing here imports
Django: the catalogue registers these plugins from the descriptors they print.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any, NamedTuple


class BuiltinPlugin(NamedTuple):
    module: str  # importable module name, also ``python3 -m <module>``
    selfexec: str  # executable name inside the plugin image (``selfpath``/``selfexec``)
    # Other versions this same implementation can be registered as, for clients that look a plugin
    # up by name *and* exact version. Only versions whose real descriptor has the same parameters,
    # type and executable belong here; their descriptor differs in version and image tag only.
    # Registered on request only (``register_plugins --builtins --compat-versions``): a second
    # version in the catalogue breaks clients that expect one plugin per name.
    also_versions: tuple[str, ...] = ()


REGISTRY: dict[str, BuiltinPlugin] = {
    # chrs 0.3 `upload` (without --no-feed) asks for pl-dircopy 2.1.2 by exact version; the real
    # 2.1.2 and 2.1.3 take the same single required `--dir` unextpath.
    "pl-dircopy": BuiltinPlugin(f"{__name__}.dircopy", "dircopy", also_versions=("2.1.2",)),
    "pl-simpledsapp": BuiltinPlugin(f"{__name__}.simpledsapp", "simpledsapp"),
    "pl-topologicalcopy": BuiltinPlugin(f"{__name__}.topologicalcopy", "topologicalcopy"),
    # chrs 0.3 `upload` runs pl-tsdircopy 1.2.1 instead of pl-dircopy when it adds to the current feed.
    "pl-tsdircopy": BuiltinPlugin(f"{__name__}.tsdircopy", "tsdircopy"),
    "pl-unstack-folders": BuiltinPlugin(f"{__name__}.unstack", "unstack"),
}


def descriptor(name: str, version: str | None = None) -> dict[str, Any]:
    """The descriptor of the built-in plugin ``name`` (what ``--json`` prints), or of one of its
    ``also_versions``; KeyError if unknown."""
    module = importlib.import_module(REGISTRY[name].module)
    result: dict[str, Any] = module.SPEC.descriptor()
    if version is not None and version != result["version"]:
        if version not in REGISTRY[name].also_versions:
            raise KeyError(f"{name} {version}")
        image, _, _tag = result["dock_image"].rpartition(":")
        result.update(version=version, dock_image=f"{image}:{version}")
    return result


def descriptors(*, compat: bool = False) -> Iterator[dict[str, Any]]:
    """The descriptors to register: each built-in plugin at its own version, and with ``compat``
    at its also_versions too."""
    for name, plugin in REGISTRY.items():
        yield descriptor(name)
        for version in plugin.also_versions if compat else ():
            yield descriptor(name, version)
