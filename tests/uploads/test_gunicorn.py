"""The production server path: gunicorn (gthread) serving uploads streamed from the socket and downloads
through sendfile, Range included, against the test database (PostgreSQL, as CI runs it)."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
import zipfile
from typing import Any

import pytest
import requests

from tests.conftest import in_ci
from tests.uploads.server import GunicornServer
from tests.uploads.test_live import StreamedMultipart


@pytest.fixture
def server(transactional_db: Any, actors: Any, storage_root: str, tmp_path: Any, settings: Any) -> Any:
    from django.db import connection
    from rest_framework.authtoken.models import Token

    if connection.vendor != "postgresql":
        reason = "the gunicorn test shares the test database with its server: run it with DATABASE_URL=postgres://..."
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    db = connection.settings_dict
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "CUBE_VAR_DIR": str(tmp_path / "var"),
        "STORAGE_BACKEND": "filesystem",
        "STORAGE_ROOT": storage_root,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
    }
    with GunicornServer(env, tmp_path / "logs", workers=2, threads=4) as srv:
        srv.token = Token.objects.get_or_create(user=actors.alice)[0].key
        yield srv


def expected_bytes(size: int) -> bytes:
    body = StreamedMultipart("x", size)
    whole = body.read(len(body))
    return whole[len(body.head):len(body.head) + size]


def test_streamed_upload_then_ranged_downloads_through_sendfile(server):
    size = 24 * 1024 * 1024 + 123
    auth = {"Authorization": f"Token {server.token}", "Accept": "application/json"}
    body = StreamedMultipart("home/alice/uploads/g/big.bin", size)
    r = requests.post(f"{server.url}/api/v1/userfiles/", data=body, timeout=120,
                      headers={**auth, "Content-Type": body.content_type})
    assert r.status_code == 201, r.text
    item = r.json()
    data = expected_bytes(size)
    assert item["fsize"] == size
    url = item["file_resource"]
    r = requests.get(url, headers={**auth, "Accept": "application/octet-stream"}, timeout=60)
    assert r.status_code == 200 and len(r.content) == size
    assert r.headers["ETag"] == f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
    assert r.content == data
    for header, start, end in (("bytes=1000-2999", 1000, 3000), ("bytes=-77", size - 77, size),
                               (f"bytes={size - 5}-", size - 5, size), ("bytes=0-0", 0, 1)):
        r = requests.get(url, headers={**auth, "Range": header}, timeout=60)
        assert r.status_code == 206, header
        assert r.content == data[start:end], header
        assert r.headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}"
    assert requests.get(url, headers={**auth, "Range": f"bytes={size}-"}, timeout=60).status_code == 416
    head = requests.head(url, headers=auth, timeout=60)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(size) and head.content == b""
    folder = requests.get(item["parent_folder"], headers=auth, timeout=60).json()
    r = requests.get(f"{folder['url']}download/", headers=auth, timeout=120)
    assert r.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert archive.read("g/big.bin") == data


def test_a_client_that_disconnects_mid_upload_leaves_nothing(server, storage_root):
    from uploads.models import ChrisFile

    body = StreamedMultipart("home/alice/uploads/cut/half.bin", 16 * 1024 * 1024)
    raw = body.read(len(body))
    head = (f"POST /api/v1/userfiles/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Token {server.token}\r\nContent-Type: {body.content_type}\r\n"
            f"Content-Length: {len(raw)}\r\n\r\n").encode()

    def partial() -> list[str]:
        return [f for _, _, files in os.walk(storage_root) for f in files if "cube-tmp" in f]

    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + raw[: len(raw) // 2])
        deadline = time.monotonic() + 30
        while not partial():
            assert time.monotonic() < deadline, "the upload never reached storage"
            time.sleep(0.02)
    deadline = time.monotonic() + 30
    while partial():
        assert time.monotonic() < deadline, "a partial object stayed in storage"
        time.sleep(0.05)
    assert not os.path.exists(os.path.join(storage_root, "home", "alice", "uploads", "cut", "half.bin"))
    assert not ChrisFile.objects.filter(fname__startswith="home/alice/uploads/cut").exists()
