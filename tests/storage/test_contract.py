"""The storage contract (cube/storage/base.py), run unchanged against every backend."""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cube.storage.base import CHUNK_SIZE, InvalidKey, ObjectNotFound, Storage
from tests.storage.conftest import StorageFactory


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating bytes (a repeated pattern would hide offset bugs)."""
    return random.Random(seed).randbytes(size)


def md5_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def uneven_chunks(data: bytes, sizes: tuple[int, ...] = (1, 7000, CHUNK_SIZE + 3, 65536)) -> Iterator[bytes]:
    pos, i = 0, 0
    while pos < len(data):
        step = sizes[i % len(sizes)]
        yield data[pos : pos + step]
        pos += step
        i += 1


def read_all(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(storage.open(key, start, end))


def save_many(storage: Storage, keys: list[str]) -> None:
    # Threads keep a real Swift (CPU-bound per request) busy on every core.
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda k: storage.save(k, [k.encode()]), keys))


# --- save / open / stat ---


def test_save_then_open_round_trips_bytes_size_and_md5(storage: Storage) -> None:
    data = payload(3 * CHUNK_SIZE + 12345)
    stored = storage.save("home/alice/uploads/scan.dcm", uneven_chunks(data), content_type="application/dicom")
    assert stored.key == "home/alice/uploads/scan.dcm"
    assert stored.size == len(data)
    assert stored.md5 == md5_of(data)
    chunks = list(storage.open("home/alice/uploads/scan.dcm"))
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= CHUNK_SIZE  # streamed, not one big read
    assert storage.stat("home/alice/uploads/scan.dcm").size == len(data)


def test_empty_object(storage: Storage) -> None:
    stored = storage.save("e/empty", iter(()))
    assert (stored.size, stored.md5) == (0, md5_of(b""))
    assert read_all(storage, "e/empty") == b""
    assert storage.stat("e/empty").size == 0
    assert list(storage.ls("e")) == ["e/empty"]


def test_save_replaces_existing_object(storage: Storage) -> None:
    storage.save("k", [b"old contents, longer"])
    storage.save("k", [b"new"])
    assert read_all(storage, "k") == b"new"
    assert storage.stat("k").size == 3


def test_ranges(storage: Storage) -> None:
    size = CHUNK_SIZE + 1000
    data = payload(size, seed=1)
    storage.save("r", [data])
    cases = [
        (0, None),
        (10, None),
        (0, 10),
        (CHUNK_SIZE - 5, CHUNK_SIZE + 5),  # across a chunk boundary
        (size - 3, None),
        (size - 3, size + 500),  # end past the end is cut
        (size, None),  # starts at the end: empty
        (size + 10, None),  # starts past the end: empty
        (size + 10, size + 20),
        (7, 7),  # empty range
        (9, 3),  # end before start: empty
        (0, 1),
    ]
    for start, end in cases:
        assert read_all(storage, "r", start, end) == data[start:end], (start, end)


def test_negative_range_is_refused(storage: Storage) -> None:
    storage.save("r", [b"abc"])
    with pytest.raises(ValueError):
        storage.open("r", -1)


@pytest.mark.parametrize("start,end", [(0, None), (5, 10), (3, 3)])
def test_open_missing_raises_at_call(storage: Storage, start: int, end: int | None) -> None:
    # Raised by open() itself, so a view can answer 404 before it starts streaming.
    with pytest.raises(ObjectNotFound):
        storage.open("no/such/object", start, end)


def test_stream_can_be_closed_early(storage: Storage) -> None:
    data = payload(3 * CHUNK_SIZE, seed=2)
    storage.save("big", [data])
    stream = storage.open("big")
    assert next(stream) == data[:CHUNK_SIZE]
    stream.close()  # type: ignore[attr-defined]
    assert list(stream) == []
    assert read_all(storage, "big", CHUNK_SIZE) == data[CHUNK_SIZE:]  # the backend is still usable


def test_stat_and_exists(storage: Storage) -> None:
    before = time.time()
    storage.save("s/one", [b"12345"])
    st = storage.stat("s/one")
    assert st.key == "s/one"
    assert st.size == 5
    assert before - 5 <= st.mtime <= time.time() + 5
    assert st.etag
    assert storage.exists("s/one")
    assert not storage.exists("s/two")
    assert not storage.exists("s")  # a folder is not an object
    with pytest.raises(ObjectNotFound):
        storage.stat("s/two")
    storage.save("s/one", [b"different"])
    assert storage.stat("s/one").etag != st.etag


class SourceError(Exception):
    pass


def failing_chunks(good: bytes, exc: BaseException) -> Iterator[bytes]:
    yield good
    raise exc


@pytest.mark.parametrize("exc_type", [SourceError, ConnectionResetError])
def test_failed_save_leaves_nothing_and_keeps_older_object(storage: Storage, exc_type: type[Exception]) -> None:
    # ConnectionResetError is an OSError: a backend must not mistake the caller's failure for its own
    # network error (and retry, or report something else).
    old = payload(1000, seed=3)
    storage.save("f/kept", [old])
    exc = exc_type("source failed")
    with pytest.raises(exc_type) as raised:
        storage.save("f/kept", failing_chunks(payload(2 * CHUNK_SIZE, seed=4), exc))
    assert raised.value is exc
    assert read_all(storage, "f/kept") == old
    with pytest.raises(exc_type):
        storage.save("g/new/obj", failing_chunks(payload(CHUNK_SIZE + 1, seed=5), exc_type("again")))
    assert not storage.exists("g/new/obj")
    assert list(storage.ls("")) == ["f/kept"]
    # and the backend still works after an aborted upload
    storage.save("g/new/obj", [b"ok"])
    assert read_all(storage, "g/new/obj") == b"ok"


# --- listing ---

LS_KEYS = ["a/b/1", "a/b/2", "a/bc", "a/b-c/x", "a/b/c/d", "z", "a-b", "ä/x", "A/x", "a/b/c.txt", "a/b0"]


def test_ls_folder_semantics_and_order(storage: Storage) -> None:
    save_many(storage, LS_KEYS)
    assert list(storage.ls("")) == sorted(LS_KEYS)
    assert list(storage.ls("a/b")) == sorted(k for k in LS_KEYS if k.startswith("a/b/"))
    assert list(storage.ls("a/b/")) == list(storage.ls("a/b"))
    assert list(storage.ls("a")) == sorted(k for k in LS_KEYS if k.startswith("a/"))
    assert list(storage.ls("a/b/c")) == ["a/b/c/d"]
    assert list(storage.ls("nothing")) == []
    assert list(storage.ls("z")) == []  # an object is not a folder


def test_listing_and_deleting_many_objects_across_pages(storage_factory: StorageFactory) -> None:
    storage = storage_factory(page_size=100)  # Swift pages 13 times; the filesystem has no pages
    keys = [f"many/{i % 7}/obj-{i:05d}" for i in range(1200)]
    save_many(storage, keys + ["many-not/x", "other/y"])
    listed = list(storage.ls("many"))
    assert listed == sorted(keys)
    storage.delete_prefix("many")
    assert list(storage.ls("many")) == []
    assert list(storage.ls("")) == ["many-not/x", "other/y"]


# --- copy / move ---


def test_copy_is_independent_of_its_source(storage: Storage) -> None:
    data = payload(CHUNK_SIZE + 7, seed=6)
    storage.save("c/src", [data])
    storage.save("d/dst", [b"to be replaced"])
    storage.copy("c/src", "d/dst")
    storage.copy("c/src", "e/f/g")
    assert read_all(storage, "d/dst") == data
    assert read_all(storage, "e/f/g") == data
    storage.save("c/src", [b"changed later"])  # must not show through a copy (hard links included)
    assert read_all(storage, "d/dst") == data
    storage.delete("c/src")
    assert read_all(storage, "e/f/g") == data
    with pytest.raises(ObjectNotFound):
        storage.copy("c/none", "c/x")
    assert not storage.exists("c/x")


def test_move(storage: Storage) -> None:
    storage.save("m/a", [b"alpha"])
    storage.move("m/a", "n/deep/b")
    assert not storage.exists("m/a")
    assert read_all(storage, "n/deep/b") == b"alpha"
    with pytest.raises(ObjectNotFound):
        storage.move("m/a", "m/c")
    storage.move("n/deep/b", "n/deep/b")  # onto itself: nothing lost
    assert read_all(storage, "n/deep/b") == b"alpha"


@pytest.mark.parametrize("destination_exists", [False, True])
def test_move_prefix(storage: Storage, destination_exists: bool) -> None:
    src = {"feeds/1/out/a.txt": b"a", "feeds/1/out/sub/b.txt": b"b", "feeds/1/out/sub/deeper/c": b"c"}
    for key, data in src.items():
        storage.save(key, [data])
    storage.save("feeds/1/outside", [b"stays"])
    storage.save("feeds/1/out2/x", [b"sibling stays"])
    if destination_exists:
        storage.save("feeds/2/in/sub/b.txt", [b"replaced"])
        storage.save("feeds/2/in/kept", [b"kept"])
    storage.move_prefix("feeds/1/out", "feeds/2/in")
    assert list(storage.ls("feeds/1/out")) == []
    moved = {k.replace("feeds/1/out/", "feeds/2/in/"): v for k, v in src.items()}
    if destination_exists:
        moved["feeds/2/in/kept"] = b"kept"
    assert list(storage.ls("feeds/2/in")) == sorted(moved)
    for key, data in moved.items():
        assert read_all(storage, key) == data
    assert read_all(storage, "feeds/1/outside") == b"stays"
    assert read_all(storage, "feeds/1/out2/x") == b"sibling stays"


def test_move_prefix_into_itself_is_refused(storage: Storage) -> None:
    storage.save("p/x", [b"x"])
    with pytest.raises(InvalidKey):
        storage.move_prefix("p", "p/sub")
    assert list(storage.ls("")) == ["p/x"]


# --- deletion ---


def test_delete_and_delete_many(storage: Storage) -> None:
    save_many(storage, ["d/1", "d/2", "d/3", "d/sub/4", "keep"])
    storage.delete("d/1")
    storage.delete("d/1")  # missing: not an error
    storage.delete_many(["d/2", "d/sub/4", "d/never-existed"])
    assert list(storage.ls("")) == ["d/3", "keep"]
    storage.delete_many([])
    with pytest.raises(InvalidKey):
        storage.delete_many(["d/3", "../keep"])
    assert list(storage.ls("")) == ["d/3", "keep"]  # checked before anything was deleted


def test_delete_prefix_leaves_nothing(storage: Storage) -> None:
    save_many(storage, ["x/y/1", "x/y/z/2", "x/y/z/w/3", "x/yz", "x/y-1"])
    storage.delete_prefix("x/y")
    assert list(storage.ls("x/y")) == []
    assert list(storage.ls("")) == ["x/y-1", "x/yz"]
    storage.delete_prefix("")
    assert list(storage.ls("")) == []
    storage.delete_prefix("not/there")  # nothing to do is not an error


# --- bulk transfer to and from a local directory ---


def test_export_prefix_then_import_file_round_trip(storage: Storage, tmp_path: Path) -> None:
    objects = {"job/in/a.dcm": payload(2000, 7), "job/in/s/b.dcm": payload(CHUNK_SIZE + 9, 8), "job/in/s/t/c": b""}
    for key, data in objects.items():
        storage.save(key, [data])
    storage.save("job/input-not-included", [b"no"])
    local = tmp_path / "exported"
    assert storage.export_prefix("job/in", str(local)) == len(objects)
    found = sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_file())
    assert found == sorted(k.removeprefix("job/in/") for k in objects)
    for key, data in objects.items():
        assert (local / key.removeprefix("job/in/")).read_bytes() == data

    for rel in found:
        data = (local / rel).read_bytes()
        stored = storage.import_file(str(local / rel), f"job/out/{rel}")
        assert (stored.key, stored.size, stored.md5) == (f"job/out/{rel}", len(data), md5_of(data))
    assert list(storage.ls("job/out")) == sorted(f"job/out/{rel}" for rel in found)
    for rel in found:
        assert read_all(storage, f"job/out/{rel}") == objects[f"job/in/{rel}"]


def test_local_path(storage: Storage) -> None:
    storage.save("lp/x", [b"bytes"])
    path = storage.local_path("lp/x")
    if path is None:
        return  # a remote backend has no local path; the contract allows None
    assert Path(path).read_bytes() == b"bytes"
    with pytest.raises(ObjectNotFound):
        storage.local_path("lp/missing")


# --- keys ---

BAD_KEYS = ["../x", "/etc/passwd", "a//b", "a/./b", "a/../../b", "", "/", "a\x00b", "a\\b", "..", "a/.."]


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_invalid_keys_are_refused_before_storage_is_touched(
    backend: str, bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Swift pointed at a port nobody listens on, without retries: any request would be a StorageError,
    # so InvalidKey proves nothing was sent. The filesystem root must stay empty.
    if backend == "swift":
        from cube.storage.swift import SwiftStorage
        from tests.support.swift_aio import free_port

        storage: Storage = SwiftStorage(f"http://127.0.0.1:{free_port()}/auth/v1.0", "u:u", "k", retries=0)
    else:
        from cube.storage.filesystem import FilesystemStorage

        storage = FilesystemStorage(str(tmp_path / "root"))
    local = tmp_path / "local-file"
    local.write_bytes(b"local")
    consumed: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        consumed.append(b"x")
        yield b"data"

    calls = [
        lambda: storage.save(bad, chunks()),
        lambda: storage.open(bad),
        lambda: storage.stat(bad),
        lambda: storage.exists(bad),
        lambda: storage.delete(bad),
        lambda: storage.delete_many(["fine", bad]),
        lambda: storage.copy("fine", bad),
        lambda: storage.copy(bad, "fine"),
        lambda: storage.move(bad, "fine"),
        lambda: storage.move("fine", bad),
        lambda: storage.import_file(str(local), bad),
        lambda: storage.local_path(bad),
    ]
    if bad:  # '' is a valid prefix: the whole store
        calls += [
            lambda: list(storage.ls(bad)),
            lambda: storage.delete_prefix(bad),
            lambda: storage.move_prefix(bad, "fine"),
            lambda: storage.move_prefix("fine", bad),
            lambda: storage.export_prefix(bad, str(tmp_path / "out")),
        ]
    for call in calls:
        with pytest.raises(InvalidKey):
            call()
    assert consumed == []
    assert local.read_bytes() == b"local"
    if backend == "filesystem":
        assert os.listdir(tmp_path / "root") == []


def test_import_files_stores_many_in_order_with_md5(storage: Storage, tmp_path: Path) -> None:
    local = tmp_path / "outputs"
    (local / "sub").mkdir(parents=True)
    items = []
    for i, rel in enumerate(["a.txt", "sub/b.bin", "sub/c.bin"]):
        (local / rel).write_bytes(bytes([i]) * (1000 + i))
        items.append((str(local / rel), f"feeds/out/{rel}"))
    storage.save("feeds/out/a.txt", [b"old"])  # an existing object is replaced
    stored = storage.import_files(items)
    assert [s.key for s in stored] == [k for _, k in items]
    for (path, key), s in zip(items, stored, strict=True):
        data = Path(path).read_bytes()
        assert s.size == len(data) and s.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
        assert b"".join(storage.open(key)) == data
    assert list(storage.ls("feeds/out")) == sorted(k for _, k in items)
    with pytest.raises(InvalidKey):
        storage.import_files([(items[0][0], "feeds/../../escape")])
