"""A pull-based, streaming multipart/form-data reader.

Django's MultiPartParser pushes chunks into upload handlers and treats a body that ends without the closing
boundary as complete, so a dropped connection can register a truncated file. This reader is pulled by the
consumer (storage.save iterates a part's chunks straight from the socket, so a file never sits in memory
or in a temporary file), and it raises MultipartError when the body ends before a part's closing
delimiter: whoever is storing the part then aborts and nothing is kept.
"""

from __future__ import annotations

import email.message
import email.utils
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

READ_SIZE = 256 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_FIELD_BYTES = 64 * 1024


class MultipartError(ValueError):
    """The body is not well-formed multipart (or ended early); the message says why."""


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def boundary_of(content_type: str) -> bytes:
    """The boundary parameter of a multipart/form-data Content-Type, or MultipartError."""
    msg = email.message.Message()
    msg["content-type"] = content_type or ""
    if msg.get_content_type() != "multipart/form-data":
        raise MultipartError("the request must be multipart/form-data")
    boundary = msg.get_param("boundary")
    if not isinstance(boundary, str) or not boundary or len(boundary) > 200:
        raise MultipartError("multipart/form-data without a valid boundary")
    try:
        return boundary.encode("ascii")
    except UnicodeEncodeError:
        raise MultipartError("multipart boundary must be ASCII") from None


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    _reader: MultipartReader | None = None

    @property
    def is_file(self) -> bool:
        return self.filename is not None

    def chunks(self) -> Iterator[bytes]:
        """The part's bytes; may be iterated once, before the next part is requested."""
        assert self._reader is not None
        return self._reader._body()

    def read_text(self, limit: int = MAX_FIELD_BYTES) -> str:
        data = bytearray()
        for chunk in self.chunks():
            data += chunk
            if len(data) > limit:
                raise MultipartError(f"form field '{self.name}' is longer than {limit} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise MultipartError(f"form field '{self.name}' is not UTF-8") from None


class MultipartReader:
    """Iterate ``parts()``; each part's ``chunks()`` must be consumed (or is skipped) before the next."""

    def __init__(self, stream: Readable, boundary: bytes, *, length: int | None = None,
                 read_size: int = READ_SIZE):
        self._stream = stream
        self._remaining = length
        self._read_size = read_size
        # Every delimiter, the first included, is CRLF "--" boundary: prefixing the body with CRLF lets one
        # search find the first one too.
        self._delim = b"\r\n--" + boundary
        self._buf = b"\r\n"
        self._eof = False
        self._in_body = False
        self._done = False

    # --- input ---

    def _fill(self) -> bool:
        """Append more input to the buffer; False at the end of the body."""
        if self._eof:
            return False
        size = self._read_size if self._remaining is None else min(self._read_size, self._remaining)
        data = self._stream.read(size) if size > 0 else b""
        if not data:
            self._eof = True
            if self._remaining:
                raise MultipartError("the request body ended early (connection closed?)")
            return False
        if self._remaining is not None:
            self._remaining -= len(data)
        self._buf += data
        return True

    def drain(self) -> None:
        """Read and discard what is left of the body, so the client can finish sending and read our reply."""
        self._buf = b""
        try:
            while self._fill():
                self._buf = b""
        except (MultipartError, OSError):
            pass

    # --- parts ---

    def parts(self) -> Iterator[Part]:
        while True:
            if self._in_body:
                for _ in self._body():  # the consumer did not read the last part: skip it
                    pass
            if not self._next_delimiter():
                return
            part = self._headers()
            self._in_body = True
            yield part

    def _next_delimiter(self) -> bool:
        """Find the next delimiter (skipping a preamble); False once the closing one has been read."""
        if self._done:
            return False
        while True:
            at = self._buf.find(self._delim)
            if at >= 0:
                break
            # Keep a tail that could start a delimiter; the rest is preamble.
            self._buf = self._buf[-len(self._delim):]
            if not self._fill():
                raise MultipartError("no multipart boundary found in the body")
        self._buf = self._buf[at + len(self._delim):]
        while len(self._buf) < 2:
            if not self._fill():
                raise MultipartError("the multipart body ended after a boundary")
        if self._buf.startswith(b"--"):
            self._done = True
            self._buf = b""
            return False
        return True

    def _headers(self) -> Part:
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buf) > MAX_HEADER_BYTES:
                raise MultipartError("multipart part headers are too long")
            if not self._fill():
                raise MultipartError("the multipart body ended inside part headers")
        raw = self._buf[:end]
        self._buf = self._buf[end + 4:]
        lines = raw.split(b"\r\n")
        if lines and lines[0].strip() == b"":  # the CRLF (and optional padding) that ends the delimiter line
            lines = lines[1:]
        headers: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.decode("utf-8", "replace").partition(":")
            if not sep:
                raise MultipartError("malformed multipart part header")
            headers[name.strip().lower()] = value.strip()
        msg = email.message.Message()
        msg["content-disposition"] = headers.get("content-disposition", "")
        name_param: Any = msg.get_param("name", header="content-disposition")
        filename: Any = msg.get_param("filename", header="content-disposition")
        if isinstance(name_param, tuple):  # RFC 2231 encoded
            name_param = email.utils.collapse_rfc2231_value(name_param)
        if isinstance(filename, tuple):
            filename = email.utils.collapse_rfc2231_value(filename)
        if not isinstance(name_param, str):
            raise MultipartError("a multipart part without a form field name")
        return Part(name=name_param, filename=filename if isinstance(filename, str) else None,
                    content_type=headers.get("content-type", "text/plain"), headers=headers, _reader=self)

    def _body(self) -> Iterator[bytes]:
        if not self._in_body:
            return
        keep = len(self._delim) - 1
        while True:
            at = self._buf.find(self._delim)
            if at >= 0:
                data, self._buf = self._buf[:at], self._buf[at:]
                self._in_body = False
                if data:
                    yield data
                return
            if len(self._buf) > keep:
                data, self._buf = self._buf[:-keep], self._buf[-keep:]
                yield data
            if not self._fill():
                raise MultipartError("the request body ended before the end of an uploaded file")

