"""Receiving an upload: multipart ``upload_path`` + ``fname`` streamed straight into storage.

Why not Django's upload handlers: they receive the file before the view can check ``upload_path``, so a
large file is first written to a temporary file and then copied into storage (twice on disk, and the
copy is the slow half on Swift). Here the view reads the body itself: when ``upload_path`` comes before
the file (every ChRIS client sends it first) the path is checked and the file part's chunks go straight
into ``storage.save`` while being hashed, so memory stays at one chunk whatever the size and the bytes
are written once. A file part that comes first is spooled to a temporary file until the path is known.
The row is created only after storage has every byte; a body that ends early raises inside
storage.save, which keeps nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError

from .models import ChrisFile
from .multipart import MultipartError, MultipartReader, boundary_of
from .paths import PathError
from .selectors import Target
from .services import file_delete, file_store_in

FILE_FIELD = "fname"
PATH_FIELD = "upload_path"
SPOOL_CHUNK = 1024 * 1024


def _spooled_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    fh.seek(0)
    while chunk := fh.read(SPOOL_CHUNK):
        yield chunk


Resolver = Callable[[str], Target]


def _store(owner: Any, raw_path: str, resolve: Resolver, chunks: Any, reader: Any = None) -> ChrisFile:
    try:
        target = resolve(raw_path)
        if target.is_folder:
            raise FileExistsError(target.path)
        return file_store_in(folder=target.folder, owner=owner, path=target.path, chunks=chunks)
    except PathError as exc:
        if reader is not None:
            reader.drain()
        raise ValidationError({PATH_FIELD: [str(exc)]}) from None
    except FileExistsError:
        if reader is not None:
            reader.drain()
        raise ValidationError({PATH_FIELD: [f"A file or folder already exists at '{raw_path}'."]}) from None


def receive_upload(request: Any, *, owner: Any, resolve: Resolver) -> ChrisFile:
    """Store the uploaded ``fname`` at the path ``resolve(upload_path)`` returns and register it. ``resolve``
    returns the checked Target (selectors.creation_target), or raises PathError (a 400 naming upload_path)."""
    django_request = getattr(request, "_request", request)
    if getattr(django_request, "_read_started", False) and hasattr(django_request, "_files"):
        return _receive_parsed(django_request, owner=owner, resolve=resolve)
    try:
        boundary = boundary_of(django_request.META.get("CONTENT_TYPE", ""))
    except MultipartError as exc:
        raise ParseError(f"{exc}: send upload_path and fname as multipart/form-data") from None
    try:
        length = int(django_request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError("invalid Content-Length") from None
    reader = MultipartReader(django_request, boundary, length=length)
    fields: dict[str, str] = {}
    stored: ChrisFile | None = None
    spool: IO[bytes] | None = None
    try:
        for part in reader.parts():
            if not part.is_file:
                fields[part.name] = part.read_text()
            elif part.name == FILE_FIELD and stored is None and spool is None:
                if PATH_FIELD in fields:
                    stored = _store(owner, fields[PATH_FIELD], resolve, part.chunks(), reader)
                else:
                    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed below
                        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR)
                    for chunk in part.chunks():
                        spool.write(chunk)
        if stored is not None:
            return stored
        if PATH_FIELD not in fields:
            raise ValidationError({PATH_FIELD: ["This field is required."]})
        if spool is None:
            raise ValidationError({FILE_FIELD: ["No file was submitted."]})
        return _store(owner, fields[PATH_FIELD], resolve, _spooled_chunks(spool))
    except MultipartError as exc:
        if stored is not None:
            # The file was complete but the body around it was not: the client sees an error, so it must
            # not find the file registered either.
            file_delete(file=stored)
        raise ParseError(str(exc)) from None
    finally:
        if spool is not None:
            spool.close()


def _receive_parsed(django_request: Any, *, owner: Any, resolve: Resolver) -> ChrisFile:
    """Something (CSRF checking of a session-authenticated POST) already had Django parse the body."""
    upload = django_request.FILES.get(FILE_FIELD)
    raw_path = django_request.POST.get(PATH_FIELD)
    if raw_path is None:
        raise ValidationError({PATH_FIELD: ["This field is required."]})
    if upload is None:
        raise ValidationError({FILE_FIELD: ["No file was submitted."]})
    return _store(owner, raw_path, resolve, upload.chunks())
