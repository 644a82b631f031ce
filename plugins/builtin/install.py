"""Installing the built-in plugins as plain executables, for compute nodes that run plugins outside
containers (a SLURM cluster's nodes: the slurm runner's ``plugin_dir``).

``install(dest)`` writes ``dest/<selfexec>`` for every plugin of REGISTRY (the plugin's own script,
runnable as ``<execshell> dest/<selfexec>`` or on its own) and ``dest/_common.py`` beside them, which
the scripts import when they are not run as a package. The container image installs the same
executables (containers/build-plugin-image.sh reads ``executables()``), so the nodes and the image
cannot disagree on which plugin is which file. Standard library only, like the plugins.
"""

from __future__ import annotations

import os
import py_compile
import re
import shutil
import tempfile

from . import REGISTRY

_HERE = os.path.dirname(os.path.abspath(__file__))
# As the slurm runner accepts a selfexec in its plugin_dir: a plain file name, no leading dot.
_EXEC_NAME = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*")
SUPPORT_MODULE = "_common"


def executables() -> list[tuple[str, str]]:
    """``(selfexec, module file stem)`` of every built-in plugin, e.g. ``("dircopy", "dircopy")``."""
    pairs = [(plugin.selfexec, plugin.module.rsplit(".", 1)[-1]) for plugin in REGISTRY.values()]
    names = [exe for exe, _ in pairs]
    for exe in names:
        if not _EXEC_NAME.fullmatch(exe) or exe == SUPPORT_MODULE + ".py" or names.count(exe) > 1:
            # Each would overwrite another file of the install, or land outside it.
            raise ValueError(f"built-in plugin executable {exe!r} cannot be installed as a file of its own")
    return pairs


def install(dest: str) -> list[str]:
    """Install every built-in plugin into ``dest`` (created if needed); returns the executables' paths.

    Each file is written beside its final name and renamed over it, so a job starting on a node while
    the site reinstalls sees the old file or the new one, never half of one. ``_common`` goes first and
    is byte-compiled here, because plugins run as users that cannot write ``__pycache__`` in ``dest``.
    """
    dest = os.path.abspath(dest)
    os.makedirs(dest, exist_ok=True)
    pairs = executables()
    common = os.path.join(dest, SUPPORT_MODULE + ".py")
    _place(os.path.join(_HERE, SUPPORT_MODULE + ".py"), common, 0o644)
    py_compile.compile(common, doraise=True)
    installed = []
    for exe, stem in pairs:
        target = os.path.join(dest, exe)
        _place(os.path.join(_HERE, stem + ".py"), target, 0o755)
        installed.append(target)
    return installed


def _place(source: str, target: str, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".install-")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
        os.chmod(tmp, mode)
        os.replace(tmp, target)  # replaces a symlink at target itself, never what it points to
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
