"""The storage contract every backend implements.

Keys are the virtual paths of the file registry (``home/alice/uploads/a.dcm``): no leading or trailing
slash, no ``..`` component. Backends never see a path that :func:`clean_key` has not accepted, so no key
can escape the backend's root.

Writes are atomic from a reader's point of view: an object becomes visible only once every byte has been
stored (the filesystem writes a temporary file and renames it; Swift's PUT is atomic). Nothing here holds
a whole object in memory: bytes move as iterators of chunks.

Keys are compared and listed in code-point order (the order of their UTF-8 bytes, which is Swift's). A key
that is also the folder of other keys (``a`` beside ``a/b``) is not portable: Swift stores both, the
filesystem refuses the second with StorageError.
"""

from __future__ import annotations

import abc
import hashlib
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CHUNK_SIZE = 1024 * 1024


class StorageError(Exception):
    """A backend failed in a way the caller should report (not a missing object)."""


class ObjectNotFound(StorageError):  # noqa: N818 - the contract's name
    """The key names no stored object."""


class InvalidKey(ValueError):  # noqa: N818 - the contract's name
    """The key is not a clean relative path inside the storage root."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    md5: str  # hex digest of the bytes, computed while they streamed in


@dataclass(frozen=True)
class ObjectStat:
    key: str
    size: int
    mtime: float  # seconds since the epoch
    etag: str


def clean_key(key: str) -> str:
    """Return ``key`` normalised, or raise InvalidKey if it could leave the root.

    An absolute path (``/etc/passwd``), ``a//b``, ``.`` or ``..`` is refused rather than guessed at; only
    trailing slashes are dropped (``a/b/`` is ``a/b``: clients write folders that way).
    """
    if not isinstance(key, str) or not key.strip("/"):
        raise InvalidKey("empty path")
    if "\x00" in key or "\\" in key:
        raise InvalidKey(f"invalid character in path {key!r}")
    if key.startswith("/"):
        raise InvalidKey(f"path {key!r} is absolute")
    parts = key.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise InvalidKey(f"path {key!r} has an empty, '.' or '..' component")
    return "/".join(parts)


def check_range(start: int, end: int | None) -> None:
    """Refuse negative offsets (an end before start is simply an empty range)."""
    if start < 0 or (end is not None and end < 0):
        raise ValueError(f"invalid byte range [{start}, {end})")


def clean_prefix(prefix: str) -> str:
    """Like clean_key, but '' (the whole store) is allowed; a non-empty result ends with '/'."""
    if prefix == "":
        return ""
    return clean_key(prefix) + "/"


def check_disjoint(src: str, dst: str) -> None:
    """Refuse moving a folder (a cleaned prefix) into itself: its listing would take in the moved objects."""
    if src != dst and dst.startswith(src):
        raise InvalidKey(f"cannot move {src!r} into its own sub-folder {dst!r}")


class HashingReader:
    """Wraps a chunk iterator, counting and hashing what passes through."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if chunk:
                self._md5.update(chunk)
                self.size += len(chunk)
                yield chunk

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()


class Storage(abc.ABC):
    """One backend: filesystem, Swift, ... chosen by ``settings.CUBE_STORAGE['BACKEND']``.

    Every method may be called from several threads at once.
    """

    # True where import_file costs a network round trip (an object store's PUT) rather than a local link,
    # so that a caller importing many files one by one (the DICOM listener) should overlap them in threads.
    remote_imports: bool = False

    @abc.abstractmethod
    def save(self, key: str, chunks: Iterable[bytes], *, content_type: str | None = None) -> StoredObject:
        """Store the bytes under key (replacing any object there), atomically, and report size and md5.

        If iterating ``chunks`` raises, nothing is left at key (an earlier object there stays intact)
        and the exception propagates.
        """

    @abc.abstractmethod
    def open(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes of [start, end) (end None = to the end) in chunks. ObjectNotFound if absent.

        The object is looked up before this returns (so a missing object fails here, not on the first
        chunk). A range past the end is cut at the end. The iterator has ``close()``: call it (or exhaust
        the iterator) to release the file or connection early.
        """

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectStat:
        """ObjectNotFound if absent."""

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Delete one object; deleting a missing object is not an error."""

    def delete_many(self, keys: Iterable[str]) -> None:
        """Delete many objects; backends override this with a bulk operation. Every key is checked
        before anything is deleted."""
        for key in [clean_key(k) for k in keys]:
            self.delete(key)

    @abc.abstractmethod
    def ls(self, prefix: str) -> Iterator[str]:
        """Every key under prefix (recursively), sorted. A prefix names a folder: 'a/b' lists 'a/b/...'
        and never 'a/bc'. '' lists everything."""

    def delete_prefix(self, prefix: str) -> None:
        self.delete_many(list(self.ls(prefix)))

    @abc.abstractmethod
    def copy(self, src: str, dst: str) -> None:
        """Copy one object (the filesystem hard-links). ObjectNotFound if src is absent."""

    def move(self, src: str, dst: str) -> None:
        """Copy then delete; ObjectNotFound if src is absent. Moving an object onto itself keeps it."""
        if clean_key(src) == clean_key(dst):
            self.stat(src)
            return
        self.copy(src, dst)
        self.delete(src)

    def move_prefix(self, src_prefix: str, dst_prefix: str) -> None:
        """Move every object under src_prefix to the same relative key under dst_prefix (objects already
        there are replaced). InvalidKey if dst_prefix lies inside src_prefix."""
        src = clean_prefix(src_prefix)
        dst = clean_prefix(dst_prefix)
        check_disjoint(src, dst)
        if src == dst:
            return
        for key in list(self.ls(src)):
            self.move(key, dst + key[len(src):])

    # --- bulk transfer between storage and a local directory (job inputs and outputs) ---

    def export_prefix(self, prefix: str, local_dir: str) -> int:
        """Materialise every object under prefix into local_dir (relative paths kept); return the count.

        The filesystem backend hard-links instead of copying bytes.
        """
        import os

        src = clean_prefix(prefix)
        count = 0
        for key in self.ls(src):
            target = os.path.join(local_dir, *key[len(src):].split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fh:
                for chunk in self.open(key):
                    fh.write(chunk)
            count += 1
        return count

    def import_file(self, local_path: str, key: str) -> StoredObject:
        """Store one local file under key. The filesystem backend moves or links it instead of copying."""
        return self.save(key, read_file_chunks(local_path))

    def import_files(self, items: Iterable[tuple[str, str]]) -> list[StoredObject]:
        """import_file for many (local_path, key) pairs, in order: job outputs are registered this way, so
        backends override it to pay per-folder costs once per folder rather than once per file."""
        return [self.import_file(local, key) for local, key in items]

    def local_path(self, key: str) -> str | None:
        """A local filesystem path holding the object's bytes, if the backend has one (else None).

        Backends that have one raise ObjectNotFound for a missing object.
        """
        clean_key(key)
        return None


def read_file_chunks(path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            yield chunk


def key_join(*parts: str) -> str:
    return clean_key(posixpath.join(*[p.strip("/") for p in parts if p.strip("/")]))
