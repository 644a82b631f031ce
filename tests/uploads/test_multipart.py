"""The streaming multipart reader: parts in any order, boundaries split across reads, and bodies that end
early (which must raise, never yield a short file as if it were whole)."""

from __future__ import annotations

import io
import os

import pytest

from tests.uploads.conftest import multipart
from uploads.multipart import MultipartError, MultipartReader, boundary_of


def read_all(body: bytes, content_type: str, *, read_size: int = 7, length: int | None = None) -> list[tuple]:
    reader = MultipartReader(io.BytesIO(body), boundary_of(content_type), length=length, read_size=read_size)
    out = []
    for part in reader.parts():
        out.append((part.name, part.filename, b"".join(part.chunks())))
    return out


@pytest.mark.parametrize("read_size", [1, 7, 64, 1 << 20])
def test_fields_and_binary_file_survive_any_read_size(read_size):
    # Bytes that look like the start of a delimiter must come through as data.
    data = os.urandom(5000) + b"\r\n--" + os.urandom(100) + b"\r\n-" + os.urandom(10) + b"\r\n"
    body, ctype = multipart([("upload_path", "home/a/b.bin", None), ("fname", data, "b.bin"),
                             ("extra", "é", None)])
    parts = read_all(body, ctype, read_size=read_size, length=len(body))
    assert parts == [("upload_path", None, b"home/a/b.bin"), ("fname", "b.bin", data),
                     ("extra", None, "é".encode())]


def test_preamble_epilogue_and_an_unread_part_are_skipped():
    body, ctype = multipart([("a", "1", None), ("skipme", b"x" * 1000, "f"), ("b", "2", None)])
    body = b"preamble text\r\n" + body + b"epilogue"
    reader = MultipartReader(io.BytesIO(body), boundary_of(ctype), read_size=13)
    seen = {}
    for part in reader.parts():
        if part.name != "skipme":
            seen[part.name] = part.read_text()
    assert seen == {"a": "1", "b": "2"}


@pytest.mark.parametrize("cut", [0.3, 0.9])
def test_a_body_cut_inside_the_file_raises_while_the_file_is_read(cut):
    data = os.urandom(10_000)
    body, ctype = multipart([("upload_path", "p", None), ("fname", data, "f")])
    truncated = body[: int(len(body) * cut)]
    reader = MultipartReader(io.BytesIO(truncated), boundary_of(ctype), read_size=512)
    parts = reader.parts()
    assert next(parts).read_text() == "p"
    received = bytearray()
    with pytest.raises(MultipartError, match="ended"):
        for chunk in next(parts).chunks():
            received += chunk
    assert len(received) < len(data)


def test_a_stream_shorter_than_its_content_length_raises():
    body, ctype = multipart([("fname", b"x" * 100, "f")])
    with pytest.raises(MultipartError, match="ended early"):
        read_all(body[:-10], ctype, length=len(body))


def test_a_body_without_the_closing_delimiter_after_the_last_part_raises():
    body, ctype = multipart([("a", "1", None)])
    with pytest.raises(MultipartError):
        read_all(body[: body.rindex(b"--\r\n")], ctype)


@pytest.mark.parametrize("ctype", ["application/json", "multipart/form-data", "multipart/form-data; boundary=",
                                   "text/plain; boundary=abc"])
def test_content_types_without_a_multipart_boundary_are_refused(ctype):
    with pytest.raises(MultipartError):
        boundary_of(ctype)


def test_overlong_fields_and_headers_are_refused():
    body, ctype = multipart([("upload_path", "x" * 70_000, None)])
    reader = MultipartReader(io.BytesIO(body), boundary_of(ctype))
    with pytest.raises(MultipartError, match="longer"):
        next(reader.parts()).read_text()
    boundary = "b0"
    body = f"--{boundary}\r\nX-Junk: {'y' * 20_000}\r\n".encode()
    reader = MultipartReader(io.BytesIO(body), boundary.encode())
    with pytest.raises(MultipartError, match="too long"):
        next(reader.parts())
