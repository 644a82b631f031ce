"""A reference for bench_files.py, not part of cube: the least any Python web server under gunicorn can do
for an upload into Swift.

It reads the multipart body, PUTs its ``fname`` part to Swift over a kept-alive connection and answers 201:
no Django, no authentication, no permission check, no database, no streaming (the whole body is held).
Whatever it costs is paid by any upload API written in Python and served by gunicorn, so its ratio to
python-swiftclient is the floor our real API's ratio is measured against. Standard library only; the
Swift account comes from the SWIFT_* variables bench_files.py gives the real server.
"""

from __future__ import annotations

import hashlib
import http.client
import itertools
import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlsplit

CONTAINER = "passthrough"
_auth: dict[str, str] = {}
_auth_lock = threading.Lock()
_local = threading.local()
_names = itertools.count()


def _account() -> tuple[str, str]:
    """(token, storage URL), fetched once per worker; the container is created on the way."""
    with _auth_lock:
        if not _auth:
            url = urlsplit(os.environ["SWIFT_AUTH_URL"])
            conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
            conn.request("GET", url.path, headers={"X-Auth-User": os.environ["SWIFT_USERNAME"],
                                                   "X-Auth-Key": os.environ["SWIFT_KEY"]})
            response = conn.getresponse()
            response.read()
            _auth.update(token=response.getheader("x-auth-token") or "",
                         storage=response.getheader("x-storage-url") or "")
            conn.close()
            _request("PUT", f"/{CONTAINER}", b"")
    return _auth["token"], _auth["storage"]


def _request(method: str, suffix: str, body: bytes, **headers: str) -> int:
    storage = urlsplit(_auth["storage"])
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = http.client.HTTPConnection(storage.hostname or "", storage.port, timeout=60)
    conn.request(method, storage.path + suffix, body=body,
                 headers={"X-Auth-Token": _auth["token"], "Content-Length": str(len(body)), **headers})
    response = conn.getresponse()
    response.read()
    return response.status


def _file_part(body: bytes, content_type: str) -> bytes | None:
    boundary = content_type.partition("boundary=")[2].strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, _, data = part.partition(b"\r\n\r\n")
        if b'name="fname"' in head:
            return data[:-2]  # the CRLF before the next delimiter
    return None


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "POST":  # the benchmark's warm-up GET
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    _account()
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    data = _file_part(body, environ.get("CONTENT_TYPE", ""))
    if data is None:
        start_response("400 Bad Request", [("Content-Length", "0")])
        return [b""]
    name = f"{os.getpid()}-{next(_names)}"
    status = _request("PUT", f"/{CONTAINER}/{quote(name)}", data, ETag=hashlib.md5(data).hexdigest())  # noqa: S324
    out = json.dumps({"file_resource": name, "swift_status": status}).encode()
    start_response("201 Created" if status == 201 else "502 Bad Gateway",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]
