"""The storage contract under concurrency, against every backend: saves, imports and reads from many threads
at once (the DICOM listener imports received instances from a pool of threads), all into the same folders."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cube.storage.base import Storage, StoredObject
from tests.storage.conftest import StorageFactory
from tests.storage.test_contract import md5_of, payload, read_all, uneven_chunks

THREADS = 12
# Past the Swift adapter's (lowered) single-PUT limit some bodies stream chunked; the rest go as one PUT.
SINGLE_PUT_LIMIT = 64 * 1024
SIZES = (0, 1, 1000, 40_000, SINGLE_PUT_LIMIT + 1, 300_000)


def test_concurrent_imports_saves_and_reads_each_store_their_own_bytes(storage_factory: StorageFactory,
                                                                        tmp_path: Path) -> None:
    storage = storage_factory(single_put_limit=SINGLE_PUT_LIMIT)
    storage.save("series/seed", [b"seed"])  # read by every worker while the others write
    expected: dict[str, bytes] = {}
    jobs: list[tuple[str, str, bytes]] = []
    for i in range(72):
        data = payload(SIZES[i % len(SIZES)], seed=i)
        key = f"series/{i % 3}/{i:03d}.dcm"  # three folders, created by whichever thread comes first
        expected[key] = data
        if i % 2:
            local = tmp_path / f"in-{i}.dcm"
            local.write_bytes(data)
            jobs.append(("import", key, str(local).encode()))
        else:
            jobs.append(("save", key, data))
    start = threading.Barrier(THREADS)

    def run(job: tuple[str, str, bytes]) -> StoredObject:
        kind, key, arg = job
        stored = storage.import_file(arg.decode(), key) if kind == "import" else storage.save(key, uneven_chunks(arg))
        assert read_all(storage, "series/seed") == b"seed"
        return stored

    def first(job: tuple[str, str, bytes]) -> StoredObject:
        start.wait(30)  # every thread busy at the same moment, not one after the other
        return run(job)

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(first, jobs[:THREADS])) + list(pool.map(run, jobs[THREADS:]))
    for (_, key, _), stored in zip(jobs, results, strict=True):
        assert (stored.key, stored.size, stored.md5) == (key, len(expected[key]), md5_of(expected[key]))
    for key, data in expected.items():
        assert read_all(storage, key) == data, key
        assert storage.stat(key).size == len(data)
    assert sorted(storage.ls("series")) == sorted([*expected, "series/seed"])


def test_concurrent_writers_of_one_key_leave_one_whole_object(storage_factory: StorageFactory,
                                                              tmp_path: Path) -> None:
    """The same instance received twice at once, or two versions racing: the survivor is one of them, whole."""
    storage: Storage = storage_factory(single_put_limit=SINGLE_PUT_LIMIT)
    versions = [payload(SIZES[i % len(SIZES)] + 7, seed=100 + i) for i in range(THREADS)]
    start = threading.Barrier(THREADS)

    def write(i: int) -> StoredObject:
        start.wait(30)
        if i % 2:
            local = tmp_path / f"v{i}"
            local.write_bytes(versions[i])
            return storage.import_file(str(local), "same/key.dcm")
        return storage.save("same/key.dcm", [versions[i]])

    with ThreadPoolExecutor(THREADS) as pool:
        stored = list(pool.map(write, range(THREADS)))
    assert [s.md5 for s in stored] == [md5_of(v) for v in versions]
    assert read_all(storage, "same/key.dcm") in versions
    assert list(storage.ls("same")) == ["same/key.dcm"]


def test_swift_gives_each_thread_its_own_connections(swift_aio: object) -> None:
    """swiftclient's Connection (and an http.client connection) must not be shared between threads."""
    from cube.storage.swift import SwiftStorage
    from tests.storage.conftest import make_swift

    storage = make_swift(swift_aio)  # type: ignore[arg-type]
    assert isinstance(storage, SwiftStorage) and storage.remote_imports
    start = threading.Barrier(4)
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        start.wait(30)  # all four threads alive at once: ids cannot be reused
        storage.save(f"t/{i}", [b"x" * 100])
        direct = getattr(storage._direct_put._local, "conn", None)
        assert direct is not None  # the PUT went the direct way, on this thread's own connection
        with lock:
            seen.append((id(storage._conn()), id(direct)))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert len({conn for conn, _ in seen}) == 4
    assert len({direct for _, direct in seen}) == 4
