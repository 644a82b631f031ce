"""Benchmark: the storage backends on their own (no Django), Swift on a real all-in-one.

    .venv/bin/python tests/benchmarks/bench_swift_direct.py [--small 1000] [--big-mb 200] [--threads 8]

Prints, for the filesystem and for Swift: small-object saves/s (sequential and threaded), reads/s,
listing and bulk-delete rates, import_file/s, and one big object's upload and download MB/s with the
process's peak memory growth (it must not grow with the object: ``--big-mb 2048`` checks a 2 GB object).
Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from cube.storage.base import CHUNK_SIZE, Storage  # noqa: E402
from cube.storage.filesystem import FilesystemStorage  # noqa: E402
from tests.support.swift_aio import SwiftAIO  # noqa: E402


def rate(count: int, fn: Callable[[], object]) -> float:
    started = time.monotonic()
    fn()
    return count / (time.monotonic() - started)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def generated(size: int) -> Iterator[bytes]:
    """size bytes made on the fly, one reused chunk: the generator itself holds 1 MiB, never the object."""
    chunk = os.urandom(CHUNK_SIZE)
    left = size
    while left > 0:
        yield chunk[: min(left, CHUNK_SIZE)]
        left -= CHUNK_SIZE


def bench(name: str, storage: Storage, small: int, big_mb: int, threads: int, scratch: str) -> None:
    body = b"x" * 1024
    print(f"== {name}")
    seq = rate(small, lambda: [storage.save(f"seq/{i:06d}", [body]) for i in range(small)])
    with ThreadPoolExecutor(threads) as pool:
        par = rate(small, lambda: list(pool.map(lambda i: storage.save(f"par/{i:06d}", [body]), range(small))))
        reads = rate(small, lambda: list(pool.map(lambda i: b"".join(storage.open(f"par/{i:06d}")), range(small))))
    listed = rate(small, lambda: list(storage.ls("par")))
    print(f"  1 KB saves: {seq:.0f}/s sequential, {par:.0f}/s with {threads} threads; reads {reads:.0f}/s")
    print(f"  ls: {listed:.0f} keys/s")

    local = os.path.join(scratch, f"{name}-import")
    os.makedirs(local, exist_ok=True)
    for i in range(small):
        with open(os.path.join(local, f"f{i}"), "wb") as fh:
            fh.write(body)
    imported = rate(small, lambda: [storage.import_file(os.path.join(local, f"f{i}"), f"imp/{i}") for i in range(small)])
    print(f"  import_file: {imported:.0f}/s")
    deleted = rate(3 * small, lambda: storage.delete_prefix(""))
    print(f"  delete_prefix: {deleted:.0f} objects/s")

    size = big_mb * 1024 * 1024
    before = peak_rss_mb()
    up = rate(big_mb, lambda: storage.save("big", generated(size)))
    down = rate(big_mb, lambda: sum(len(c) for c in storage.open("big")))
    print(f"  {big_mb} MB object: up {up:.0f} MB/s, down {down:.0f} MB/s; peak RSS grew {peak_rss_mb() - before:.0f} MB")
    storage.delete("big")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1000, help="small objects per phase")
    parser.add_argument("--big-mb", type=int, default=200, help="size of the big object")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cube-bench-storage-") as scratch:
        fs = FilesystemStorage(os.path.join(scratch, "root"))
        bench("filesystem", fs, args.small, args.big_mb, args.threads, scratch)
        started = time.monotonic()
        with SwiftAIO() as aio:
            print(f"(Swift all-in-one ready in {time.monotonic() - started:.1f} s)")
            from cube.storage.swift import SwiftStorage

            swift = SwiftStorage(**aio.storage_options(container="bench"))
            bench("swift", swift, args.small, args.big_mb, args.threads, scratch)


if __name__ == "__main__":
    main()
