"""Objects as files under one root directory: the embedded default, and the fastest backend for big registries.

Writes go to a temporary file in the target's directory and are renamed into place, so readers never see a
partial object. Copies and exports are hard links, imports are links, and moving a folder is one rename:
registering thousands of job outputs costs a few syscalls each, never a copy of their bytes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat as stat_mod
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TypeVar

from cube.storage.base import (
    CHUNK_SIZE,
    HashingReader,
    InvalidKey,
    ObjectNotFound,
    ObjectStat,
    Storage,
    StorageError,
    StoredObject,
    check_disjoint,
    check_range,
    clean_key,
    clean_prefix,
    read_file_chunks,
)

# Temporary files share the directory of their target so the final rename never crosses filesystems; this
# marker keeps them out of listings, and keys that use it are refused so no object can be mistaken for one.
TMP_MARKER = ".cube-tmp-"

T = TypeVar("T")

# Each lost race costs a few syscalls; only a folder emptied and refilled nonstop by other writers loses often.
_FOLDER_RACE_ATTEMPTS = 100


class FileStream(Iterator[bytes]):
    """Bytes [start, end) of an open file; close() releases the file even if iteration stops early."""

    def __init__(self, fh: BinaryIO, start: int, end: int | None, chunk_size: int = CHUNK_SIZE):
        self._fh = fh
        self._remaining = None if end is None else max(0, end - start)
        self._chunk_size = chunk_size
        if start:
            fh.seek(start)

    def __iter__(self) -> FileStream:
        return self

    def __next__(self) -> bytes:
        if self._fh.closed:
            raise StopIteration
        size = self._chunk_size if self._remaining is None else min(self._chunk_size, self._remaining)
        chunk = self._fh.read(size) if size else b""
        if not chunk:
            self.close()
            raise StopIteration
        if self._remaining is not None:
            self._remaining -= len(chunk)
        return chunk

    def close(self) -> None:
        self._fh.close()


class FilesystemStorage(Storage):
    def __init__(self, root: str, *, file_mode: int = 0o644, fsync: bool = False):
        """``fsync`` makes every save durable before it returns (a crash then never leaves an empty
        file behind a rename) at the price of one disk flush per object."""
        os.makedirs(root, exist_ok=True)
        self.root = os.path.realpath(root)
        self.file_mode = file_mode
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"FilesystemStorage({self.root!r})"

    # --- paths ---

    def _path(self, key: str) -> str:
        """The real path of key; InvalidKey if the key, or a symlink on its way, leads outside the root."""
        key = clean_key(key)
        if any(part.startswith(TMP_MARKER) for part in key.split("/")):
            raise InvalidKey(f"path {key!r} uses the reserved name {TMP_MARKER!r}")
        return self._inside(os.path.join(self.root, *key.split("/")), key)

    def _dir(self, prefix: str) -> str:
        cleaned = clean_prefix(prefix)
        if not cleaned:
            return self.root
        return self._path(cleaned.rstrip("/"))

    def _inside(self, path: str, key: str) -> str:
        real = os.path.realpath(path)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise InvalidKey(f"path {key!r} resolves outside the storage root")
        return real

    def _key_of(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")

    def _prune(self, directory: str) -> None:
        """Remove directory and its parents while they are empty, stopping at the root."""
        while directory != self.root and directory.startswith(self.root + os.sep):
            try:
                os.rmdir(directory)
            except OSError:
                return  # not empty (or already gone, or now in use by a concurrent save): stop here
            directory = os.path.dirname(directory)

    def _in_dir(self, path: str, action: Callable[[], T]) -> T:
        """Run action after creating path's parent folders. Retried because a concurrent delete may prune
        a folder between the makedirs and the action (or inside makedirs itself)."""
        parent = os.path.dirname(path)
        for attempt in range(_FOLDER_RACE_ATTEMPTS):
            try:
                os.makedirs(parent, exist_ok=True)
                return action()
            except (FileNotFoundError, FileExistsError, NotADirectoryError) as exc:
                if self._object_above(parent):
                    raise StorageError(f"a parent of {self._key_of(path)!r} is an object, not a folder") from exc
                if attempt == _FOLDER_RACE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _object_above(self, directory: str) -> bool:
        """Whether a non-folder sits at directory or one of its parents (up to the root)."""
        while directory != self.root and directory.startswith(self.root + os.sep):
            try:
                return not stat_mod.S_ISDIR(os.lstat(directory).st_mode)
            except FileNotFoundError:
                directory = os.path.dirname(directory)
        return False

    def _tmp_name(self, path: str) -> str:
        return os.path.join(os.path.dirname(path), f"{TMP_MARKER}{uuid.uuid4().hex}")

    def _replace(self, tmp: str, path: str) -> None:
        try:
            os.replace(tmp, path)
        except IsADirectoryError as exc:
            os.unlink(tmp)
            raise StorageError(f"{self._key_of(path)!r} is a folder, not an object") from exc

    def _regular(self, path: str, key: str) -> os.stat_result:
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat_mod.S_ISREG(st.st_mode):
            raise ObjectNotFound(key)
        return st

    # --- the contract ---

    def save(self, key: str, chunks: Iterable[bytes], *, content_type: str | None = None) -> StoredObject:
        path = self._path(key)
        tmp = self._tmp_name(path)
        fd = self._in_dir(path, lambda: os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self.file_mode))
        reader = HashingReader(chunks)
        try:
            with os.fdopen(fd, "wb", buffering=0) as fh:
                for chunk in reader:
                    fh.write(chunk)
                if self.fsync:
                    os.fsync(fh.fileno())
            self._replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            self._prune(os.path.dirname(path))
            raise
        return StoredObject(key=clean_key(key), size=reader.size, md5=reader.md5)

    def open(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        check_range(start, end)
        path = self._path(key)
        try:
            fh = open(path, "rb")  # noqa: SIM115 - FileStream owns and closes it
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        return FileStream(fh, start, end)

    def stat(self, key: str) -> ObjectStat:
        st = self._regular(self._path(key), key)
        # An md5 would mean reading the file; inode, size and mtime change whenever the bytes do.
        etag = f"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"
        return ObjectStat(key=clean_key(key), size=st.st_size, mtime=st.st_mtime, etag=etag)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        self._prune(os.path.dirname(path))

    def ls(self, prefix: str) -> Iterator[str]:
        directory = self._dir(prefix)
        if not os.path.isdir(directory):
            return iter(())
        return self._walk(directory, clean_prefix(prefix))

    def _walk(self, directory: str, key_prefix: str) -> Iterator[str]:
        entries: list[tuple[str, bool]] = []
        try:
            with os.scandir(directory) as it:
                for e in it:
                    if e.name.startswith(TMP_MARKER):
                        continue
                    # Folders are walked only when real (a symlinked one could loop); files may be links.
                    if e.is_dir(follow_symlinks=False):
                        entries.append((e.name, True))
                    elif e.is_file():
                        entries.append((e.name, False))
        except (FileNotFoundError, NotADirectoryError):
            return  # removed while we walked: nothing left to list
        # Sorting a folder as 'name/' puts its keys exactly where a sort of full keys would (Swift's order).
        entries.sort(key=lambda e: e[0] + "/" if e[1] else e[0])
        for name, is_dir in entries:
            if is_dir:
                yield from self._walk(os.path.join(directory, name), f"{key_prefix}{name}/")
            else:
                yield key_prefix + name

    def delete_prefix(self, prefix: str) -> None:
        directory = self._dir(prefix)
        if directory == self.root:
            for entry in os.scandir(self.root):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
            return
        if os.path.isdir(directory):
            shutil.rmtree(directory, ignore_errors=True)
            self._prune(os.path.dirname(directory))

    def copy(self, src: str, dst: str) -> None:
        src_path, dst_path = self._path(src), self._path(dst)
        self._regular(src_path, src)
        if src_path == dst_path:
            return
        self._place(src_path, dst_path)

    def _place(self, src_path: str, dst_path: str) -> None:
        """Make dst_path an object with src_path's bytes: a hard link when possible, else a copy."""
        tmp = self._tmp_name(dst_path)
        try:
            self._in_dir(dst_path, lambda: os.link(src_path, tmp))
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            self._in_dir(dst_path, lambda: shutil.copyfile(src_path, tmp))
            os.chmod(tmp, self.file_mode)
        self._replace(tmp, dst_path)

    def move(self, src: str, dst: str) -> None:
        src_path, dst_path = self._path(src), self._path(dst)
        self._regular(src_path, src)
        if src_path == dst_path:
            return
        try:
            self._in_dir(dst_path, lambda: os.replace(src_path, dst_path))
        except FileNotFoundError:
            if not os.path.exists(src_path):
                raise ObjectNotFound(src) from None  # deleted concurrently
            raise
        except IsADirectoryError as exc:
            raise StorageError(f"{dst!r} is a folder, not an object") from exc
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self._place(src_path, dst_path)
            os.unlink(src_path)
        self._prune(os.path.dirname(src_path))

    def move_prefix(self, src_prefix: str, dst_prefix: str) -> None:
        check_disjoint(clean_prefix(src_prefix), clean_prefix(dst_prefix))
        src_dir, dst_dir = self._dir(src_prefix), self._dir(dst_prefix)
        if not os.path.isdir(src_dir) or src_dir == dst_dir:
            return
        # A symlinked folder can still nest the two; the whole root cannot be renamed.
        nested = dst_dir.startswith(src_dir + os.sep) or src_dir == self.root
        if not nested and not os.path.exists(dst_dir):
            try:
                self._in_dir(dst_dir, lambda: os.rename(src_dir, dst_dir))
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOTEMPTY, errno.EEXIST):
                    raise
            else:
                self._prune(os.path.dirname(src_dir))
                return
        # The destination already holds objects (merge) or overlaps the source: one object at a time.
        super().move_prefix(src_prefix, dst_prefix)

    def export_prefix(self, prefix: str, local_dir: str) -> int:
        src = clean_prefix(prefix)
        count = 0
        for key in self.ls(src):
            target = os.path.join(local_dir, *key[len(src):].split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            source = self._path(key)
            try:
                os.link(source, target)
            except FileExistsError:
                os.unlink(target)
                os.link(source, target)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                shutil.copyfile(source, target)
            count += 1
        return count

    def import_file(self, local_path: str, key: str) -> StoredObject:
        path = self._path(key)
        # The md5 is part of the contract: reading the file for it is far cheaper than writing a copy.
        reader = HashingReader(read_file_chunks(local_path))
        for _ in reader:
            pass
        tmp = self._tmp_name(path)
        try:
            self._in_dir(path, lambda: os.link(local_path, tmp))
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            return self.save(key, read_file_chunks(local_path))
        self._replace(tmp, path)
        return StoredObject(key=clean_key(key), size=reader.size, md5=reader.md5)

    def import_files(self, items: Iterable[tuple[str, str]]) -> list[StoredObject]:
        # The root-containment check (a realpath: one lstat per path component) runs once per destination
        # folder. The final component needs none: os.replace renames onto a symlink, never through it.
        verified: dict[str, str] = {}
        results = []
        for local, key in items:
            key = clean_key(key)
            if any(part.startswith(TMP_MARKER) for part in key.split("/")):
                raise InvalidKey(f"path {key!r} uses the reserved name {TMP_MARKER!r}")
            parent_key, _, name = key.rpartition("/")
            real_parent = verified.get(parent_key)
            if real_parent is None:
                nominal = os.path.join(self.root, *parent_key.split("/")) if parent_key else self.root
                self._in_dir(os.path.join(nominal, name), lambda: None)  # create the folders
                real_parent = self._inside(nominal, parent_key or key)
                verified[parent_key] = real_parent
            path = os.path.join(real_parent, name)
            reader = HashingReader(read_file_chunks(local))
            for _ in reader:
                pass
            tmp = self._tmp_name(path)
            try:
                os.link(local, tmp)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                results.append(self.save(key, read_file_chunks(local)))
                continue
            self._replace(tmp, path)
            results.append(StoredObject(key=key, size=reader.size, md5=reader.md5))
        return results

    def local_path(self, key: str) -> str | None:
        path = self._path(key)
        self._regular(path, key)
        return path
