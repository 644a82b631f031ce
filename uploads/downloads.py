"""Streaming downloads: one file with Range, ETag and Last-Modified, or a whole tree as one zip stream.

Independent of any view: ``file_response(request, chris_file)`` serves a ChrisFile (or a link file) for
whichever endpoint found it (user files, the file browser, feed files), after the caller has checked
access. Nothing is read into memory: a filesystem object goes out through the server's sendfile (gunicorn
uses it for a file object, Range included), any other backend as a chunk iterator.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import http_date, parse_http_date_safe, quote_etag

from cube.storage import get_storage
from cube.storage.base import ObjectNotFound

from .models import ChrisFile, ChrisLinkFile

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class _Unsatisfiable(Exception):  # noqa: N818 - internal signal, not an error type of the API
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The [start, end) a single-range ``Range`` header asks for; None to send the whole object (no header,
    a syntax we ignore, or several ranges); _Unsatisfiable when no byte of it exists."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:  # several ranges or another unit: RFC 9110 lets us answer 200 with everything
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise _Unsatisfiable()
        return max(0, size - n), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        return None  # invalid range-spec: ignored
    if start >= size:
        raise _Unsatisfiable()
    return start, end


def etag_of(obj: ChrisFile | ChrisLinkFile) -> str:
    md5 = getattr(obj, "md5", "")
    if md5:
        return quote_etag(md5)
    stat = get_storage().stat(obj.fname)
    return quote_etag(stat.etag)


def _not_modified(request: Any, etag: str, last_modified: int) -> bool:
    inm = request.META.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        weak_free = {t[2:] if t.startswith("W/") else t for t in tags}
        return "*" in weak_free or etag in weak_free
    ims = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    return ims is not None and last_modified <= ims


def _if_range_allows(request: Any, etag: str, last_modified: int) -> bool:
    value = request.META.get("HTTP_IF_RANGE")
    if not value:
        return True
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        return value == etag  # strong comparison only
    date = parse_http_date_safe(value)
    return date is not None and date == last_modified


class _RangeFile(io.RawIOBase):
    """[start, end) of an open file. Exposes fileno(): gunicorn then sends it with sendfile(2) from the
    current offset for Content-Length bytes, while other servers iterate read() and stop at end."""

    def __init__(self, fh: BinaryIO, start: int, end: int):
        super().__init__()
        self._fh = fh
        self._left = end - start
        fh.seek(start)

    def fileno(self) -> int:
        return self._fh.fileno()

    def readable(self) -> bool:
        return True

    # socket.sendfile() seeks the file back to the offset it started from once it has sent it, and
    # FileResponse measures it by seeking: both only move the position, which read() no longer uses.
    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def read(self, size: int | None = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if size is None or size < 0 else min(size, self._left)
        data = self._fh.read(n)
        self._left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._fh.close()
        super().close()


def content_disposition(filename: str, as_attachment: bool) -> str:
    kind = "attachment" if as_attachment else "inline"
    try:
        filename.encode("ascii")
        safe = filename.replace("\\", "\\\\").replace('"', '\\"')
        return f'{kind}; filename="{safe}"'
    except UnicodeEncodeError:
        return f"{kind}; filename*=utf-8''{quote(filename)}"


def file_response(request: Any, obj: ChrisFile | ChrisLinkFile, *, as_attachment: bool = True) -> HttpResponseBase:
    """Serve obj's stored bytes (the caller has checked read access): 200, 206 for one satisfiable Range,
    416 for an unsatisfiable one, 304 when the client's copy is current. HEAD gets the headers only."""
    storage = get_storage()
    size = obj.size if isinstance(obj, ChrisFile) else len(obj.path.encode())
    etag = etag_of(obj)
    last_modified = int(obj.creation_date.timestamp())
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified),
        "Accept-Ranges": "bytes",
        "Content-Disposition": content_disposition(obj.fname.rsplit("/", 1)[-1], as_attachment),
        "Cache-Control": "private, no-cache",
    }
    if _not_modified(request, etag, last_modified):
        return HttpResponse(status=304, headers=headers)
    try:
        byte_range = parse_range(request.META.get("HTTP_RANGE"), size)
    except _Unsatisfiable:
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if byte_range is not None and not _if_range_allows(request, etag, last_modified):
        byte_range = None
    start, end = byte_range if byte_range is not None else (0, size)
    status = 206 if byte_range is not None else 200
    if byte_range is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Type"] = "application/octet-stream"
    if request.method == "HEAD":
        head = HttpResponse(status=status, headers=headers)
        head["Content-Length"] = str(end - start)
        return head
    try:
        local = storage.local_path(obj.fname)
    except ObjectNotFound:
        return HttpResponse("The file's bytes are missing from storage.", status=410, content_type="text/plain")
    response: HttpResponseBase
    if local is not None:
        fh = open(local, "rb")  # noqa: SIM115 - the response closes it
        if os.fstat(fh.fileno()).st_size < end:
            fh.close()
            return HttpResponse("The stored object is shorter than registered.", status=500,
                                content_type="text/plain")
        response = FileResponse(_RangeFile(fh, start, end), status=status, headers=headers)
    else:
        try:
            chunks = storage.open(obj.fname, start, end)
        except ObjectNotFound:
            return HttpResponse("The file's bytes are missing from storage.", status=410,
                                content_type="text/plain")
        response = StreamingHttpResponse(chunks, status=status, headers=headers)
    # FileResponse derives these from the file object; the range decides them.
    response["Content-Length"] = str(end - start)
    response["Content-Type"] = "application/octet-stream"
    return response


# --- zip streams ---


class _Sink(io.RawIOBase):
    """A write-only, unseekable file: zipfile writes into it and we hand the bytes on as they come."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        b = bytes(data)
        self._parts.append(b)
        self._pos += len(b)
        return len(b)

    def tell(self) -> int:
        return self._pos

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


@dataclass(frozen=True)
class ZipEntry:
    name: str  # the path inside the archive
    key: str  # the storage key
    size: int
    modified: dt.datetime | None = None


def zip_stream(entries: Iterable[ZipEntry]) -> Iterator[bytes]:
    """A zip (stored, not compressed: medical images barely compress and CPU is the scarce thing) of the
    entries, produced while the objects are read: memory stays at one chunk whatever the total size."""
    storage = get_storage()
    sink = _Sink()
    # Python's zipfile writes data descriptors when its file is not seekable, so nothing is rewound.
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for entry in entries:
            when = entry.modified.timetuple()[:6] if entry.modified else (1980, 1, 1, 0, 0, 0)
            info = zipfile.ZipInfo(entry.name, date_time=when)
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = entry.size
            try:
                chunks = storage.open(entry.key)
            except ObjectNotFound:
                continue  # removed since it was listed: skip it rather than break the whole archive
            try:
                with zf.open(info, mode="w", force_zip64=entry.size >= 0x7FFFFFFF) as out:
                    for chunk in chunks:
                        out.write(chunk)
                        data = sink.take()
                        if data:
                            yield data
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            data = sink.take()
            if data:
                yield data
    data = sink.take()
    if data:
        yield data


def zip_response(entries: Iterable[ZipEntry], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(zip_stream(entries), content_type="application/zip")
    response["Content-Disposition"] = content_disposition(filename, True)
    response["Cache-Control"] = "private, no-cache"
    return response
