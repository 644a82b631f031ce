"""The ingest spool: where a received instance waits, already on disk, until it is in storage and registered.

A storage SCP answers a C-STORE once the instance is safe; storescp, for one, writes the file and answers.
Putting it into cube storage costs more than that (an md5 of every byte, then a link, a copy, or a Swift
PUT), and the PACS sends nothing else while it waits for the answer. So the listener writes the instance
as received into its spool (one write, the same durability as a storage write), answers, and then, while
the PACS prepares the next instance, imports the file into storage (the filesystem backend hard-links it:
no second copy); the registrar thread registers it. The retrieve still ends ``succeeded`` only once every
instance is registered.

Each sink spools into its own folder, ``<spool root>/<pid>-<token>/<storage key>``, so two processes never
import each other's files, and holds an exclusive lock on the folder's ``.owner.lock`` while it lives. A
folder whose lock can be taken holds instances answered but never registered (a crash, a kill): the
listener imports them when it starts (:func:`orphans`). The lock, not the pid in the name, says whether
the owner is gone: a restarted container's listener often gets the very pid its predecessor had, and the
kernel drops a dead process's locks, whatever its pid.

A spool file is also the instance's journal entry: it stays after the import (on the filesystem backend it
is a second link to the stored object's inode, so it costs no space) until the batch that registers it has
committed, and only then is it removed (:func:`discard`). Whatever a database outage or a stop leaves
unregistered is therefore still here, with everything needed to register it again: the key in its path,
the node in the key, the series and its metadata in the file's header.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

from django.conf import settings

from pacs.dicom import ReceivedInstance

log = logging.getLogger(__name__)
LOCK_NAME = ".owner.lock"


def spool_root() -> Path:
    configured = getattr(settings, "CUBE_DICOM_SPOOL_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "dicom-spool"


class Spool:
    """One process's spool folder. Keys are storage keys, already sanitised by the sink (no '..')."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or spool_root()) / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.root.mkdir(parents=True, exist_ok=True)
        lock = _try_lock(self.root)
        if lock is None:  # a fresh uuid: nobody else can hold it
            raise RuntimeError(f"spool folder {self.root} is locked by another process")
        self._lock = lock  # held for the process's life: the kernel drops it when the process dies
        self._dirs: set[Path] = set()

    def write(self, instance: ReceivedInstance, key: str) -> Path:
        """The instance's Part-10 file at its key's place in the spool, written atomically."""
        path = self.root.joinpath(*key.split("/"))
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        instance.write_to(path)
        return path

    def adopt(self, path: Path, key: str) -> Path:
        """Move another (dead) spool's file for ``key`` into this spool (one rename, same filesystem), so that
        it is journalled here until registered; an instance received again meanwhile is newer and wins."""
        target = self.root.joinpath(*key.split("/"))
        if target.exists():
            path.unlink(missing_ok=True)
            return target
        if target.parent not in self._dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(target.parent)
        os.replace(path, target)
        return target

    def remove(self) -> None:
        """Drop the folder once everything in it is registered (what is left stays for the next start)."""
        if not any(p.is_file() and p.name != LOCK_NAME for p in self.root.rglob("*")):
            shutil.rmtree(self.root, ignore_errors=True)
            os.close(self._lock)
        else:
            log.warning("spool %s keeps instances that were not registered; the listener registers them at its "
                        "next start", self.root)


def identity(path: Path) -> tuple[int, int]:
    """What tells this spool file from a later one written at the same place (an instance sent again)."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def discard(path: Path, ident: tuple[int, int]) -> None:
    """Remove a spool file whose instance is registered, unless a newer copy has replaced it since (that
    one waits for its own batch)."""
    try:
        if identity(path) == ident:
            path.unlink()
    except FileNotFoundError:
        pass


def _try_lock(folder: Path) -> int | None:
    """An open descriptor holding the folder's owner lock, or None if a live process holds it."""
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def orphans(root: Path | None = None) -> Iterator[tuple[Path, str]]:
    """(file, storage key) of every instance spooled by a process that is gone; its folder is removed after."""
    for batch in orphan_folders(root):
        yield from batch


def orphan_folders(root: Path | None = None) -> Generator[list[tuple[Path, str]], None, None]:
    """:func:`orphans` one folder at a time: the caller may import a folder's files in parallel, and the
    folder stays locked (then is removed) until the caller asks for the next one."""
    base = root or spool_root()
    if not base.is_dir():
        return
    for folder in sorted(base.iterdir()):
        pid, _, _ = folder.name.partition("-")
        if not pid.isdigit() or not folder.is_dir():
            continue
        # A live process's folder (another listener, a worker's C-GET) is its own business; held until the
        # folder is gone, so that two listeners starting together do not both import it.
        lock = _try_lock(folder)
        if lock is None:
            continue
        try:
            # Dot-names are half-written temp files.
            yield [(path, path.relative_to(folder).as_posix()) for path in sorted(folder.rglob("*.dcm"))
                   if path.is_file() and not path.name.startswith(".")]
            for leftover in sorted(folder.rglob("*"), reverse=True):  # temp files, then emptied folders
                if leftover.is_file() and leftover.name.startswith("."):
                    leftover.unlink(missing_ok=True)
            for directory in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
                try:
                    directory.rmdir()
                except OSError:
                    pass
            try:
                folder.rmdir()
            except OSError:
                pass
        finally:
            os.close(lock)
