"""What only the Swift backend has: transient failures of a real proxy, resumed downloads, the container
made on first use, bulk deletes with and without the middleware."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from swiftclient.client import Connection

from cube.storage.base import CHUNK_SIZE, StorageError
from cube.storage.swift import SwiftStorage, SwiftStream
from tests.storage.conftest import make_swift
from tests.storage.test_contract import SourceError, failing_chunks, md5_of, payload, read_all
from tests.support.swift_aio import SwiftAIO


def restart_proxy_later(aio: SwiftAIO, delay: float) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        aio.start_proxy()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture
def proxy_down(swift_aio: SwiftAIO) -> Iterator[SwiftAIO]:
    """The proxy stopped for the test; it is running again afterwards whatever happens."""
    swift_aio.stop_proxy()
    try:
        yield swift_aio
    finally:
        swift_aio.start_proxy()


def test_requests_are_retried_until_the_proxy_is_back(swift_aio: SwiftAIO) -> None:
    storage = make_swift(swift_aio, retries=8, starting_backoff=0.25, max_backoff=1.0)
    storage.save("before", [b"1"])  # authenticated, container made, connection open
    swift_aio.stop_proxy()
    try:
        restarter = restart_proxy_later(swift_aio, 1.0)
        started = time.monotonic()
        # Nothing of the iterator was taken while the connection was refused, so the PUT can be retried.
        stored = storage.save("during/outage", iter([b"still ", b"stored"]))
        waited = time.monotonic() - started
        restarter.join()
    finally:
        swift_aio.start_proxy()
    assert waited >= 0.9  # it really waited for the proxy rather than finding it up
    assert stored.size == len(b"still stored")
    assert b"".join(storage.open("during/outage")) == b"still stored"
    assert list(storage.ls("")) == ["before", "during/outage"]


def test_without_retries_an_outage_is_a_storage_error(swift_aio: SwiftAIO, proxy_down: SwiftAIO) -> None:
    storage = make_swift(swift_aio, retries=0)
    with pytest.raises(StorageError):
        storage.save("x", [b"x"])
    with pytest.raises(StorageError):
        storage.stat("x")
    with pytest.raises(StorageError):
        list(storage.ls(""))


@pytest.mark.parametrize("start", [0, 1])
def test_a_download_cut_by_the_proxy_resumes_where_it_stopped(swift_aio: SwiftAIO, start: int) -> None:
    # start=0 goes through swiftclient's own resume; a ranged read through SwiftStream's.
    storage = make_swift(swift_aio, retries=8, starting_backoff=0.25, max_backoff=1.0)
    data = payload(16 * CHUNK_SIZE, seed=9)  # more than socket buffers hold, so the proxy is mid-send
    storage.save("big", [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)])
    stream = storage.open("big", start)
    received = [next(stream)]
    swift_aio.stop_proxy()
    try:
        restarter = restart_proxy_later(swift_aio, 0.5)
        received.extend(stream)
        restarter.join()
    finally:
        swift_aio.start_proxy()
    assert b"".join(received) == data[start:]
    if start:
        assert isinstance(stream, SwiftStream)
        assert stream._resumes >= 1  # the cut really happened mid-stream


def test_container_is_created_on_first_write(swift_aio: SwiftAIO) -> None:
    storage = make_swift(swift_aio, container="made-on-first-use")
    conn = Connection(swift_aio.auth_url, swift_aio.user, swift_aio.key)
    names = {c["name"] for c in conn.get_account(full_listing=True)[1]}
    assert "made-on-first-use" not in names
    assert list(storage.ls("")) == []  # reading a store that has no container yet is not an error
    assert not storage.exists("a")
    storage.save("a", [b"a"])
    assert conn.head_container("made-on-first-use")["x-container-object-count"] == "1"


@pytest.mark.parametrize("bulk", [True, False])
def test_delete_many_with_and_without_the_bulk_middleware(swift_aio: SwiftAIO, bulk: bool) -> None:
    # (The contract suite's 1,200 objects cross the harness's 500-per-request bulk limit.)
    storage = make_swift(swift_aio, bulk_delete=bulk)
    assert isinstance(storage, SwiftStorage)
    keys = [f"d/{i:02d}" for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: storage.save(k, [b"x"]), keys + ["keep"]))
    storage.delete_many(keys + ["d/missing"])
    assert list(storage.ls("")) == ["keep"]
    assert storage._bulk_delete_limit() == (500 if bulk else 0)  # the path taken: detected from /info, or off


def _record_puts(storage: SwiftStorage) -> list[dict[str, object]]:
    """Spy on the real PUTs: the direct path's (with what Swift answered) and this thread's swiftclient's."""
    conn = storage._conn()
    calls: list[dict[str, object]] = []
    real_put_object, real_direct = conn.put_object, storage._direct_put.put

    def put_object(container: str, obj: str, contents: object, **kwargs: object) -> object:
        calls.append({"via": "swiftclient", "obj": obj, "bytes": isinstance(contents, bytes), **kwargs})
        return real_put_object(container, obj, contents, **kwargs)

    def direct(url: str, token: str, container: str, key: str, parts: list[bytes], size: int, md5: str,
               ctype: str | None) -> object:
        etag = real_direct(url, token, container, key, parts, size, md5, ctype)
        assert size == sum(len(p) for p in parts)
        calls.append({"via": "direct", "obj": key, "size": size, "md5": md5, "stored": etag is not None})
        return etag

    conn.put_object = put_object  # type: ignore[method-assign]
    storage._direct_put.put = direct  # type: ignore[method-assign]
    return calls


@pytest.mark.parametrize("size", [0, 1, 4096])
def test_objects_up_to_the_limit_go_as_one_put_with_length_and_md5(swift_aio: SwiftAIO, size: int) -> None:
    storage = make_swift(swift_aio, single_put_limit=4096)
    assert isinstance(storage, SwiftStorage)
    storage.save("warm", [b"x"])
    calls = _record_puts(storage)
    data = payload(size, seed=size)
    stored = storage.save("one/put", [data[: size // 2], data[size // 2:]])
    assert calls == [{"via": "direct", "obj": "one/put", "size": size, "md5": md5_of(data), "stored": True}]
    assert (stored.size, stored.md5) == (size, md5_of(data))
    assert read_all(storage, "one/put") == data


def test_a_refused_direct_put_goes_through_swiftclient(swift_aio: SwiftAIO) -> None:
    storage = make_swift(swift_aio)
    assert isinstance(storage, SwiftStorage)
    storage.save("warm", [b"x"])
    calls = _record_puts(storage)
    assert storage._token is not None
    url, token = storage._token
    storage._token = (url, "AUTH_tk-expired")  # as after the token's lifetime: Swift answers 401
    data = payload(5000, seed=12)
    stored = storage.save("after/expiry", [data])
    assert [(c["via"], c.get("stored")) for c in calls] == [("direct", False), ("swiftclient", None)]
    assert calls[1]["etag"] == md5_of(data) and calls[1]["content_length"] == len(data)
    assert (stored.size, stored.md5) == (len(data), md5_of(data))
    assert read_all(storage, "after/expiry") == data
    assert storage._token == (url, token)  # swiftclient's valid token is shared again
    storage.save("next", [b"y"])
    assert calls[-1] == {"via": "direct", "obj": "next", "size": 1, "md5": md5_of(b"y"), "stored": True}


def test_a_single_put_is_retried_until_the_proxy_is_back(swift_aio: SwiftAIO) -> None:
    storage = make_swift(swift_aio, retries=8, starting_backoff=0.25, max_backoff=1.0)
    data = payload(300_000, seed=11)
    storage.save("before", [b"1"])
    swift_aio.stop_proxy()
    try:
        restarter = restart_proxy_later(swift_aio, 1.0)
        stored = storage.save("during/outage", [data])
        restarter.join()
    finally:
        swift_aio.start_proxy()
    assert (stored.size, stored.md5) == (len(data), md5_of(data))
    assert read_all(storage, "during/outage") == data


def test_larger_objects_stream_and_a_failing_source_stores_nothing(swift_aio: SwiftAIO) -> None:
    storage = make_swift(swift_aio, single_put_limit=4096)
    assert isinstance(storage, SwiftStorage)
    storage.save("warm", [b"x"])
    calls = _record_puts(storage)
    data = payload(3 * 4096, seed=7)
    stored = storage.save("streamed", (data[i:i + 1000] for i in range(0, len(data), 1000)))
    assert [(c["via"], c["obj"], c["bytes"], c["content_length"]) for c in calls] == [
        ("swiftclient", "streamed", False, None)]
    assert (stored.size, stored.md5) == (len(data), md5_of(data))
    assert read_all(storage, "streamed") == data
    # Past the limit the bytes are already on their way when the source fails: Swift must keep nothing.
    with pytest.raises(SourceError):
        storage.save("streamed", failing_chunks(payload(5000, seed=8), SourceError("cut")))
    with pytest.raises(SourceError):
        storage.save("never", failing_chunks(payload(5000, seed=9), SourceError("cut")))
    assert read_all(storage, "streamed") == data
    assert list(storage.ls("")) == ["streamed", "warm"]
