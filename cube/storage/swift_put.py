"""One object PUT to Swift over a kept-alive http.client connection: the Swift adapter's fast path.

swiftclient sends every request through requests, whose per-request work (preparing the request, merging
proxy settings read from the environment, urllib3's pool) cost an upload of a DICOM instance more CPU than
the rest of our server did. For an object whose bytes are all in memory there is nothing for that
machinery to do, so SwiftStorage sends it here first, with the token swiftclient obtained. Anything but a
201 (no token yet, an expired token, a missing container, a network error, a 5xx) returns None and the
adapter sends the PUT again through swiftclient, which re-authenticates, retries with backoff and reports
the error; a PUT of the same bytes is idempotent, so sending it twice is harmless.
"""

from __future__ import annotations

import http.client
import os
import ssl
import threading
from collections.abc import Sequence
from urllib.parse import quote, urlsplit


class DirectPut:
    def __init__(self, *, timeout: float, insecure: bool):
        self.timeout = timeout
        self._context = ssl._create_unverified_context() if insecure else None  # noqa: S323 - the user's choice
        self._local = threading.local()
        self._pid = os.getpid()

    def _connection(self, storage_url: str) -> tuple[http.client.HTTPConnection, str]:
        if os.getpid() != self._pid:  # a forked worker must not share its parent's sockets
            self._local, self._pid = threading.local(), os.getpid()
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "url", None) != storage_url:
            if conn is not None:
                conn.close()
            parts = urlsplit(storage_url)
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=self.timeout,
                                                   context=self._context)
            else:
                conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.timeout)
            self._local.conn, self._local.url, self._local.path = conn, storage_url, parts.path.rstrip("/")
        return conn, self._local.path

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def put(self, storage_url: str, token: str, container: str, key: str, parts: Sequence[bytes], size: int,
            md5: str, content_type: str | None) -> str | None:
        """Swift's ETag for the stored object, or None when the caller must send it through swiftclient.
        The parts go out one after the other (http.client frames nothing when Content-Length is given),
        so they are never joined in memory."""
        conn, base = self._connection(storage_url)
        headers = {"X-Auth-Token": token, "Content-Length": str(size), "ETag": md5}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request("PUT", f"{base}/{quote(container)}/{quote(key)}", body=iter(parts), headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return None
        if response.status != 201:
            if response.will_close:
                self.close()
            return None
        return response.getheader("etag")
