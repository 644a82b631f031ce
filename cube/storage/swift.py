"""Objects in one OpenStack Swift container, through python-swiftclient.

Uploads up to 4 MiB go as one PUT with their length and md5, larger ones stream with chunked transfer
encoding; both are checked against the md5 computed on the way. Downloads stream with Range requests and
resume after a dropped connection. swiftclient retries transient failures with
exponential backoff. Each thread gets its own swiftclient Connection and its own direct-PUT connection
(neither is thread-safe), so every method may run in many threads at once (the DICOM listener imports
instances from a pool of threads); all of them share one auth token.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

from requests.exceptions import RequestException
from swiftclient.client import ClientException, Connection
from urllib3.exceptions import HTTPError as Urllib3Error

from cube.storage.base import (
    CHUNK_SIZE,
    HashingReader,
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
from cube.storage.swift_put import DirectPut

T = TypeVar("T")
NETWORK_ERRORS = (RequestException, Urllib3Error, OSError)
MAX_PAGE_SIZE = 10_000  # Swift's default container_listing_limit
SINGLE_PUT_LIMIT = 4 * 1024 * 1024  # bytes held per upload to send it as one PUT with its length


class _SourceError(Exception):
    """The caller's chunk iterator raised; deliberately not an OSError, so that neither requests nor
    swiftclient takes it for a network error and retries or rewraps it."""


class _CannotResendError(Exception):
    """A retry needs the body again, but its bytes came from an iterator that has moved on."""


class _UploadBody:
    """The file-like body swiftclient streams: hashes what it hands out, and can be rewound for a retry
    when the source can be replayed or nothing has been taken from it yet (connection refused)."""

    def __init__(self, open_chunks: Callable[[], Iterable[bytes]], replayable: bool):
        self._open = open_chunks
        self._replayable = replayable
        self.error: Exception | None = None
        self._start()

    def _start(self) -> None:
        self._reader = HashingReader(self._open())
        self._chunks = iter(self._reader)
        self._buffer = b""
        self._sent = 0

    def read(self, size: int | None = -1) -> bytes:
        if not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return b""
            except Exception as exc:
                self.error = exc
                raise _SourceError() from exc
        if size is None or size < 0 or size >= len(self._buffer):
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        self._sent += len(out)
        return out

    def tell(self) -> int:
        return self._sent

    def seek(self, pos: int, whence: int = 0) -> int:
        if pos != 0 or whence != 0:
            raise _CannotResendError("only a rewind to the start is supported")
        if self._reader.size or self._buffer:
            if not self._replayable:
                raise _CannotResendError("the upload failed after its stream had started")
            self._start()
        return 0

    @property
    def size(self) -> int:
        return self._reader.size

    @property
    def md5(self) -> str:
        return self._reader.md5


class _ResendableBytes(bytes):
    """A body swiftclient may send again on a retry. It retries a str body freely, any other only if it can
    seek back to where it started; bytes always start at the start, so rewinding is a no-op."""

    def tell(self) -> int:
        return 0

    def seek(self, pos: int, whence: int = 0) -> int:
        return 0


class SwiftStream(Iterator[bytes]):
    """The bytes of one ranged GET; after a dropped connection it asks again from where it stopped,
    pinned to the same ETag so that a concurrently replaced object is an error, not a splice."""

    def __init__(self, storage: SwiftStorage, key: str, start: int, end: int | None, body: Any, etag: str):
        self._storage = storage
        self._key = key
        self._pos = start
        self._end = end
        self._body = body
        self._etag = etag
        self._resumes = 0

    def __iter__(self) -> SwiftStream:
        return self

    def __next__(self) -> bytes:
        while self._body is not None:
            try:
                chunk = next(self._body)
            except StopIteration:
                self.close()
                break
            except NETWORK_ERRORS as exc:
                self.close()
                if self._resumes >= max(1, self._storage.retries):
                    raise StorageError(f"download of {self._key!r} failed at byte {self._pos}") from exc
                self._resumes += 1
                _, self._body, _ = self._storage._get(self._key, self._pos, self._end, if_match=self._etag)
                continue
            self._pos += len(chunk)
            return bytes(chunk)
        raise StopIteration

    def close(self) -> None:
        body, self._body = self._body, None
        if body is not None and hasattr(body, "close"):
            try:
                body.close()
            except NETWORK_ERRORS:
                pass


class SwiftStorage(Storage):
    remote_imports = True  # each import is a PUT: callers importing many overlap them in threads

    def __init__(
        self,
        auth_url: str,
        user: str,
        key: str,
        container: str = "users",
        auth_version: str = "1",
        retries: int = 5,
        *,
        starting_backoff: float = 1.0,
        max_backoff: float = 16.0,
        timeout: float = 60.0,
        os_options: dict[str, str] | None = None,
        insecure: bool = False,
        page_size: int = MAX_PAGE_SIZE,
        workers: int = 8,
        bulk_delete: bool | None = None,
        single_put_limit: int = SINGLE_PUT_LIMIT,
    ):
        """``page_size`` is the listing page (at most Swift's 10,000); ``workers`` the threads of bulk
        copies, moves, exports and (without the bulk middleware) deletes; ``bulk_delete`` None asks the
        cluster's /info whether the bulk middleware is there; ``single_put_limit`` the most bytes an upload
        holds in memory to send them as one PUT (larger ones stream)."""
        if not container or "/" in container:
            raise ValueError(f"invalid container name {container!r}")
        self.auth_url = auth_url
        self.user = user
        self.container = container
        self.retries = retries
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.workers = max(1, workers)
        self.single_put_limit = single_put_limit
        self._direct_put = DirectPut(timeout=timeout, insecure=insecure)
        self._conn_args: dict[str, Any] = {
            "authurl": auth_url,
            "user": user,
            "key": key,
            "auth_version": auth_version,
            "retries": retries,
            "starting_backoff": starting_backoff,
            "max_backoff": max_backoff,
            "timeout": timeout,
            "os_options": os_options or {},
            "insecure": insecure,
        }
        self._bulk_mode = bulk_delete
        self._bulk_limit: int | None = None if bulk_delete is not False else 0
        self._container_ready = False
        self._token: tuple[str, str] | None = None
        self._local = threading.local()
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return f"SwiftStorage({self.auth_url!r}, container={self.container!r})"

    # --- connections and errors ---

    def _conn(self) -> Connection:
        if os.getpid() != self._pid:
            # A forked worker must not share its parent's sockets.
            self._local, self._pid = threading.local(), os.getpid()
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            url, token = self._token or (None, None)
            conn = Connection(preauthurl=url, preauthtoken=token, **self._conn_args)
            self._local.conn = conn
        return conn

    def _drop_conn(self) -> None:
        self._direct_put.close()
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def _call(self, op: Callable[[Connection], T], missing: str | None = None) -> T:
        """Run op on this thread's connection, mapping a 404 to ObjectNotFound(missing) (when given) and
        every other failure, once swiftclient's retries are spent, to StorageError."""
        conn = self._conn()
        try:
            result = op(conn)
        except ClientException as exc:
            if exc.http_status == 404 and missing is not None:
                raise ObjectNotFound(missing) from None
            raise StorageError(f"Swift {self.container}: {exc}") from exc
        except NETWORK_ERRORS as exc:
            self._drop_conn()
            raise StorageError(f"Swift {self.container} unreachable: {exc}") from exc
        if conn.url and conn.token:
            self._token = (conn.url, conn.token)
        return result

    def _ensure_container(self) -> None:
        if not self._container_ready:
            self._call(lambda c: c.put_container(self.container))  # idempotent: 202 if it exists
            self._container_ready = True

    def _parallel(self, fn: Callable[[T], object], items: Sequence[T]) -> None:
        if len(items) <= 1 or self.workers == 1:
            for item in items:
                fn(item)
            return
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            for _ in pool.map(fn, items):
                pass

    # --- the contract ---

    def save(self, key: str, chunks: Iterable[bytes], *, content_type: str | None = None) -> StoredObject:
        key = clean_key(key)
        source = iter(chunks)
        head: list[bytes] = []
        held = 0
        # Most uploads (a DICOM instance, a report) are small: hold up to single_put_limit bytes, and if the
        # source ends by then send one PUT with Content-Length and ETag, which Swift's proxy handles with
        # less work than a chunked body, verifies itself, and which a retry can simply resend. A source
        # that fails while held has sent nothing, so nothing is stored. Larger objects stream chunked.
        for chunk in source:
            head.append(chunk)
            held += len(chunk)
            if held > self.single_put_limit:
                return self._put_stream(key, itertools.chain(head, source), content_type)
        return self._put_held(key, head, held, content_type)

    def _put_stream(self, key: str, chunks: Iterable[bytes], content_type: str | None) -> StoredObject:
        return self._put(key, _UploadBody(lambda: chunks, replayable=False), None, content_type)

    def import_file(self, local_path: str, key: str) -> StoredObject:
        key = clean_key(key)
        size = os.path.getsize(local_path)
        if size <= self.single_put_limit:
            # A small file (a DICOM instance) goes as one held PUT, by the direct fast path when it can.
            return self.save(key, read_file_chunks(local_path))
        return self._put(key, _UploadBody(lambda: read_file_chunks(local_path), replayable=True), size, None)

    def _put(self, key: str, body: _UploadBody, size: int | None, content_type: str | None) -> StoredObject:
        self._ensure_container()
        try:
            etag = self._call(
                lambda c: c.put_object(
                    self.container, key, body, content_length=size, chunk_size=CHUNK_SIZE, content_type=content_type
                )
            )
        except _SourceError:
            # The request was cut mid-body, so Swift stored nothing; the connection is not reusable.
            self._drop_conn()
            if body.error is None:  # cannot happen: _SourceError is only raised with the error kept
                raise StorageError(f"upload of {key!r} aborted") from None
            raise body.error from None
        except _CannotResendError as exc:
            self._drop_conn()
            raise StorageError(f"upload of {key!r} failed after {body.tell()} bytes and cannot be replayed") from exc
        except StorageError:
            self._container_ready = False  # in case the container vanished: recreate it next time
            raise
        return self._checked(key, etag, body.size, body.md5)

    def _put_held(self, key: str, parts: list[bytes], size: int, content_type: str | None) -> StoredObject:
        """One PUT of the parts (joined only if swiftclient must send them)."""
        digest = hashlib.md5(usedforsecurity=False)
        for part in parts:
            digest.update(part)
        md5 = digest.hexdigest()
        self._ensure_container()
        try:
            # The ETag header makes Swift refuse (422) bytes that arrive with another md5.
            etag = self._direct_put.put(*self._token, self.container, key, parts, size, md5, content_type) \
                if self._token else None
            if etag is None:
                data = _ResendableBytes(b"".join(parts))
                etag = self._call(lambda c: c.put_object(self.container, key, data, content_length=size,
                                                         content_type=content_type, etag=md5))
        except StorageError:
            self._container_ready = False
            raise
        return self._checked(key, etag, size, md5)

    def _checked(self, key: str, etag: Any, size: int, md5: str) -> StoredObject:
        if str(etag).strip('"') != md5:
            self.delete(key)
            raise StorageError(f"upload of {key!r} corrupted: Swift ETag {etag} != md5 {md5}")
        return StoredObject(key=key, size=size, md5=md5)

    def _get(
        self, key: str, start: int, end: int | None, if_match: str | None = None
    ) -> tuple[dict[str, str], Any, bool]:
        """GET [start, end) of key: (headers, body, satisfiable); an unsatisfiable range (past the end) gives
        an empty body."""
        headers: dict[str, str] = {}
        if start or end is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if if_match:
            headers["If-Match"] = if_match
        try:
            resp_headers, body = self._call(
                lambda c: c.get_object(self.container, key, resp_chunk_size=CHUNK_SIZE, headers=headers), missing=key
            )
        except StorageError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientException) and cause.http_status == 416:
                return {}, iter(()), False
            if isinstance(cause, ClientException) and cause.http_status == 412:
                raise StorageError(f"{key!r} was replaced while it was being read") from cause
            raise
        return resp_headers, body, True

    def open(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        check_range(start, end)
        key = clean_key(key)
        if end is not None and end <= start:
            self.stat(key)  # an empty range of a missing object is still ObjectNotFound
            return SwiftStream(self, key, start, end, None, "")
        headers, body, satisfiable = self._get(key, start, end)
        if not satisfiable:
            self.stat(key)
            return SwiftStream(self, key, start, end, None, "")
        return SwiftStream(self, key, start, end, body, headers.get("etag", ""))

    def stat(self, key: str) -> ObjectStat:
        key = clean_key(key)
        headers = self._call(lambda c: c.head_object(self.container, key), missing=key)
        if "x-timestamp" in headers:
            mtime = float(headers["x-timestamp"])
        else:
            mtime = parsedate_to_datetime(headers["last-modified"]).timestamp()
        return ObjectStat(
            key=key, size=int(headers["content-length"]), mtime=mtime, etag=headers.get("etag", "").strip('"')
        )

    def delete(self, key: str) -> None:
        key = clean_key(key)
        try:
            self._call(lambda c: c.delete_object(self.container, key), missing=key)
        except ObjectNotFound:
            pass

    def delete_many(self, keys: Iterable[str]) -> None:
        cleaned = [clean_key(k) for k in keys]  # every key is checked before anything is deleted
        if not cleaned:
            return
        limit = self._bulk_delete_limit()
        if limit > 0:
            for i in range(0, len(cleaned), limit):
                self._bulk_delete(cleaned[i : i + limit])
        else:
            self._parallel(self.delete, cleaned)

    def _bulk_delete_limit(self) -> int:
        """Objects per bulk-delete request; 0 when the cluster has no bulk middleware."""
        if self._bulk_limit is None:
            try:
                caps = self._call(lambda c: c.get_capabilities())
            except StorageError:
                caps = {}
            bulk = caps.get("bulk_delete")
            limit = int(bulk.get("max_deletes_per_request", 10_000)) if isinstance(bulk, dict) else 0
            if self._bulk_mode and not limit:
                raise StorageError("bulk_delete=True but the Swift cluster has no bulk middleware")
            self._bulk_limit = limit
        return self._bulk_limit

    def _bulk_delete(self, keys: list[str]) -> None:
        payload = "\n".join(quote(f"/{self.container}/{k}") for k in keys).encode()
        headers = {"Content-Type": "text/plain", "Accept": "application/json"}
        _, raw = self._call(lambda c: c.post_account(headers, query_string="bulk-delete", data=payload))
        # The middleware answers 200 at once and reports the real outcome in the body.
        result = json.loads(raw)
        errors = result.get("Errors") or []
        status = str(result.get("Response Status", ""))
        if errors or not status.startswith("2"):
            raise StorageError(f"bulk delete in {self.container}: {status} {errors[:5]}")

    def ls(self, prefix: str) -> Iterator[str]:
        return self._list(clean_prefix(prefix))

    def _list(self, prefix: str) -> Iterator[str]:
        marker = ""
        while True:

            def page_op(c: Connection, marker: str = marker) -> Any:
                return c.get_container(
                    self.container, prefix=prefix or None, marker=marker or None, limit=self.page_size
                )

            try:
                _, page = self._call(page_op, missing="")
            except ObjectNotFound:
                return  # no container yet: nothing stored
            for item in page:
                yield item["name"]
            if len(page) < self.page_size:
                return
            marker = page[-1]["name"]

    def copy(self, src: str, dst: str) -> None:
        src, dst = clean_key(src), clean_key(dst)
        # Server-side: the bytes never leave the cluster.
        self._call(lambda c: c.copy_object(self.container, src, destination=f"/{self.container}/{dst}"), missing=src)

    def move_prefix(self, src_prefix: str, dst_prefix: str) -> None:
        src, dst = clean_prefix(src_prefix), clean_prefix(dst_prefix)
        check_disjoint(src, dst)
        if src == dst:
            return
        keys = list(self.ls(src))
        # Every copy lands before any source goes: a failure leaves duplicates, never a loss.
        self._parallel(lambda k: self.copy(k, dst + k[len(src) :]), keys)
        self.delete_many(keys)

    def export_prefix(self, prefix: str, local_dir: str) -> int:
        src = clean_prefix(prefix)
        keys = list(self.ls(src))

        def fetch(key: str) -> None:
            target = os.path.join(local_dir, *key[len(src) :].split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fh:
                for chunk in self.open(key):
                    fh.write(chunk)

        self._parallel(fetch, keys)
        return len(keys)

