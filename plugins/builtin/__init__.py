"""The built-in ChRIS plugins that ship with cube: pl-dircopy, pl-simpledsapp, pl-topologicalcopy.

Each module is a standalone, standard-library-only script following the ChRIS plugin calling
convention (``<selfexec> [flags] <inputdir> <outputdir>``, ``--json`` prints the descriptor).
They run as ``python3 -m plugins.builtin.<module>`` from the repository, or as a plain file
copied (with ``_common.py`` beside it) into a plugin container image. Nothing here imports
Django: the catalogue registers these plugins from the descriptors they print.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple


class BuiltinPlugin(NamedTuple):
    module: str  # importable module name, also ``python3 -m <module>``
    selfexec: str  # executable name inside the plugin image (``selfpath``/``selfexec``)


REGISTRY: dict[str, BuiltinPlugin] = {
    "pl-dircopy": BuiltinPlugin(f"{__name__}.dircopy", "dircopy"),
    "pl-simpledsapp": BuiltinPlugin(f"{__name__}.simpledsapp", "simpledsapp"),
    "pl-topologicalcopy": BuiltinPlugin(f"{__name__}.topologicalcopy", "topologicalcopy"),
}


def descriptor(name: str) -> dict[str, Any]:
    """The descriptor (what ``--json`` prints) of the built-in plugin ``name``; KeyError if unknown."""
    module = importlib.import_module(REGISTRY[name].module)
    result: dict[str, Any] = module.SPEC.descriptor()
    return result
