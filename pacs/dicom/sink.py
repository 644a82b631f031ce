"""What a storage SCP (or a C-GET) hands over for each received instance, and the sink contract.

A sink decides where instances go (files, the project's storage, a counter). It never sees
pynetdicom: it gets a :class:`ReceivedInstance`, which gives the identifying attributes (or the
whole header on request), the instance as DICOM Part-10 bytes exactly as the peer encoded it, and
cheap ways to persist it (an atomic ``write_to(path)``, a stream from ``open()``).
Sinks are called from one thread per association, so they must be thread-safe.
"""

from __future__ import annotations

import bisect
import io
import itertools
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, cast

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import UID

from ._part10 import (
    encode_file_meta,
    identifying_dataset,
    read_identifying_header_part10,
    scan_identifying_values,
    uid_text,
)
from .query import SERIES_INDEX_KEYS, JSONValue, dataset_to_dict

if TYPE_CHECKING:
    from pynetdicom.events import Event

log = logging.getLogger(__name__)

_STUDY_UID, _SERIES_UID = 0x0020000D, 0x0020000E

# DICOM C-STORE response statuses (PS3.4 B.2.3) used by this layer.
STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_DATASET_MISMATCH = 0xA900
STATUS_CANNOT_UNDERSTAND = 0xC000
STATUS_PROCESSING_FAILURE = 0x0110

# One id space for SCP associations and C-GETs, so one sink can serve both without mixing tallies.
_assoc_ids = itertools.count(1)
_assoc_ids_lock = threading.Lock()


def next_association_id() -> int:
    """A process-wide unique id for an association that delivers instances to a sink."""
    with _assoc_ids_lock:
        return next(_assoc_ids)


class StorageSink(Protocol):
    """Receives instances from a storage SCP or a C-GET."""

    def store(self, instance: ReceivedInstance) -> int:
        """Persist one instance; return a DICOM C-STORE status (0x0000 on success)."""
        ...

    def association_ended(self, assoc_id: int, calling_aet: str, aborted: bool) -> None:
        """Called once when an association that was established closes (released or aborted)."""
        ...


class _ConcatReader(io.RawIOBase):
    """A seekable read-only stream over several buffers, so the Part-10 file is never joined in memory."""

    # pydicom records the source's name as the dataset's filename.
    name = "<received>"

    def __init__(self, parts: list[memoryview]) -> None:
        self._parts = [p for p in parts if len(p)]
        self._starts: list[int] = []
        total = 0
        for part in self._parts:
            self._starts.append(total)
            total += len(part)
        self._size = total
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        out = memoryview(buffer).cast("B")
        written = 0
        while written < len(out) and self._pos < self._size:
            index = bisect.bisect_right(self._starts, self._pos) - 1
            part = self._parts[index]
            offset = self._pos - self._starts[index]
            n = min(len(out) - written, len(part) - offset)
            out[written : written + n] = part[offset : offset + n]
            written += n
            self._pos += n
        return written


@dataclass
class ReceivedInstance:
    """One received C-STORE dataset, kept encoded exactly as the peer sent it.

    Valid only during the sink's ``store()`` call: its bytes are a view of pynetdicom's receive buffer.
    """

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    calling_aet: str
    assoc_id: int
    _preamble_and_meta: bytes = field(repr=False)
    _data: memoryview | None = field(default=None, repr=False)
    _path: Path | None = field(default=None, repr=False)
    _stream: io.BytesIO | None = field(default=None, repr=False)
    _header: Dataset | None = field(default=None, repr=False)
    _full_header: Dataset | None = field(default=None, repr=False)
    _values: dict[int, tuple[str | None, bytes]] | None = field(default=None, repr=False)
    _deferred: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @classmethod
    def from_event(cls, event: Event, calling_aet: str, assoc_id: int) -> ReceivedInstance:
        from pynetdicom.dimse_primitives import C_STORE

        request = cast(C_STORE, event.request)
        sop_class = str(request.AffectedSOPClassUID)
        sop_instance = str(request.AffectedSOPInstanceUID)
        transfer_syntax = str(event.context.transfer_syntax)
        path = getattr(request, "_dataset_path", None)
        if isinstance(path, Path):
            # Chunked mode: pynetdicom already wrote a Part-10 temp file (meta included).
            return cls(sop_class, sop_instance, transfer_syntax, calling_aet, assoc_id, b"", _path=path)
        stream = cast(io.BytesIO, request.DataSet)
        return cls(
            sop_class,
            sop_instance,
            transfer_syntax,
            calling_aet,
            assoc_id,
            encode_file_meta(sop_class, sop_instance, transfer_syntax, calling_aet),
            _data=stream.getbuffer(),
            _stream=stream,
        )

    def defer(self, work: Callable[[], None]) -> None:
        """Run `work` once the C-STORE is answered, while the peer prepares its next request.

        For work the answer must not wait for but that should not pile up either (moving a spooled instance
        into storage). Where the SCP cannot run it after answering (pynetdicom's own path: a C-GET,
        chunked mode), it runs right after ``store()`` returns. It runs on the association's thread;
        exceptions are logged, never raised.
        """
        self._deferred.append(work)

    def release(self) -> None:
        """Drop the view of the receive buffer (done by the SCP once the sink has answered)."""
        if self._data is not None:
            try:
                self._data.release()
            except BufferError:
                pass  # a stream from open() still uses it; it goes when that stream does
            self._data = None
        self._stream = None

    @property
    def size(self) -> int:
        """Size in bytes of the Part-10 file (preamble and file meta included)."""
        if self._path is not None:
            return self._path.stat().st_size
        return len(self._preamble_and_meta) + len(cast(memoryview, self._data))

    def header(self, full: bool = False) -> Dataset:
        """The dataset's identifying attributes, cached.

        By default only the attributes sinks file and index instances by are read (patient, study
        and series identity and descriptions, SOP UIDs, Modality, ProtocolName: see
        ``_part10.IDENTIFYING_TAGS``), at a fraction of the cost of a full parse.
        ``full=True`` decodes every element but the pixel data.
        """
        if full:
            if self._full_header is None:
                self._full_header = dcmread(self.open(), stop_before_pixels=True)
            return self._full_header
        if self._header is None:
            values = self._scanned()
            if values is not None:
                self._header = identifying_dataset(values, UID(self.transfer_syntax_uid).is_implicit_VR)
            else:
                self._header = read_identifying_header_part10(self.open())
        return self._header

    def _scanned(self) -> dict[int, tuple[str | None, bytes]] | None:
        """The raw identifying values from the fast scan, or None where pydicom must read the header."""
        if self._values is None and self._stream is not None:
            try:
                self._values = scan_identifying_values(self._stream, self.transfer_syntax_uid) or {}
            except ValueError as exc:
                # Odd but maybe legal encoding: let pydicom, the reference parser, judge it.
                log.debug("fast header scan failed for %s (%s); using pydicom", self.sop_instance_uid, exc)
                self._values = {}
        return self._values or None

    def series_uids(self) -> tuple[str, str]:
        """(StudyInstanceUID, SeriesInstanceUID), '' where absent: what a sink files every instance by.

        Read straight from the raw values when the fast scan applies (a UID needs no character set),
        which is several times cheaper than decoding them through :meth:`header`.
        """
        values = self._scanned()
        if values is not None:
            study, series = values.get(_STUDY_UID), values.get(_SERIES_UID)
            return uid_text(study[1]) if study else "", uid_text(series[1]) if series else ""
        header = self.header()
        return (str(header.get("StudyInstanceUID") or "").strip(), str(header.get("SeriesInstanceUID") or "").strip())

    def dataset(self) -> Dataset:
        """The whole dataset, decoded (costly for big instances: sinks rarely need it)."""
        return dcmread(self.open())

    def open(self) -> BinaryIO:
        """A fresh binary stream of the Part-10 file."""
        if self._path is not None:
            return self._path.open("rb")
        parts = [memoryview(self._preamble_and_meta), cast(memoryview, self._data)]
        return cast(BinaryIO, io.BufferedReader(_ConcatReader(parts)))

    def write_to(self, dest: Path) -> None:
        """Write the Part-10 file at `dest`, atomically (a reader never sees a partial file)."""
        tmp = dest.with_name(f".{dest.name}.{threading.get_ident()}.part")
        if self._path is not None:
            try:
                # Same filesystem: the temp file pynetdicom wrote simply moves into place.
                os.replace(self._path, dest)
                self._path = dest
                return
            except OSError:
                shutil.copyfile(self._path, tmp)
        else:
            with open(tmp, "wb") as fh:
                fh.write(self._preamble_and_meta)
                fh.write(cast(memoryview, self._data))
        os.replace(tmp, dest)


@dataclass
class SeriesReceipt:
    """What one association delivered of one series: enough to register it in bulk."""

    assoc_id: int
    calling_aet: str
    series_instance_uid: str
    metadata: dict[str, JSONValue]
    instances: int = 0
    duplicates: int = 0
    location: str = ""


class SeriesTally:
    """Thread-safe per-association, per-series counts, drained when the association ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_assoc: dict[int, dict[str, SeriesReceipt]] = {}

    def add(self, instance: ReceivedInstance, header: Dataset, location: str = "", duplicate: bool = False) -> None:
        series_uid = str(header.get("SeriesInstanceUID", ""))
        with self._lock:
            per_series = self._by_assoc.setdefault(instance.assoc_id, {})
            receipt = per_series.get(series_uid)
            if receipt is None:
                receipt = SeriesReceipt(
                    assoc_id=instance.assoc_id,
                    calling_aet=instance.calling_aet,
                    series_instance_uid=series_uid,
                    metadata=dataset_to_dict(header, SERIES_INDEX_KEYS),
                    location=location,
                )
                per_series[series_uid] = receipt
            receipt.instances += 1
            if duplicate:
                receipt.duplicates += 1

    def pop(self, assoc_id: int) -> list[SeriesReceipt]:
        with self._lock:
            return list(self._by_assoc.pop(assoc_id, {}).values())

    def __iter__(self) -> Iterator[SeriesReceipt]:
        with self._lock:
            receipts = [r for per in self._by_assoc.values() for r in per.values()]
        return iter(receipts)


# The DUL-thread C-STORE path puts a list here on the request: work deferred by the sink runs after the answer.
AFTER_ANSWER = "_cube_after_answer"


def run_deferred(work: list[Callable[[], None]]) -> None:
    for item in work:
        try:
            item()
        except Exception:
            log.exception("work deferred after a C-STORE answer failed")


def _hand_over(event: Event, work: list[Callable[[], None]]) -> None:
    if not work:
        return
    after = getattr(event.request, AFTER_ANSWER, None)
    if isinstance(after, list):
        after.extend(work)
    else:
        run_deferred(work)


def handle_store_event(event: Event, sink: StorageSink, calling_aet: str, assoc_id: int) -> int:
    """Turn a pynetdicom EVT_C_STORE into a sink call; never raises, always answers a status."""
    try:
        instance = ReceivedInstance.from_event(event, calling_aet, assoc_id)
    except Exception:
        log.exception("C-STORE from %s: could not read the request; answering 0xC000", calling_aet)
        return STATUS_CANNOT_UNDERSTAND
    try:
        status = sink.store(instance)
    except OSError:
        log.exception(
            "C-STORE from %s of %s: storage failed; answering 0xA700", calling_aet, instance.sop_instance_uid
        )
        return STATUS_OUT_OF_RESOURCES
    except Exception:
        log.exception(
            "C-STORE from %s of %s: sink failed; answering 0x0110", calling_aet, instance.sop_instance_uid
        )
        return STATUS_PROCESSING_FAILURE
    finally:
        instance.release()
        _hand_over(event, instance._deferred)
    if not isinstance(status, int):
        log.error("sink %r returned %r instead of a status; answering 0x0110", sink, status)
        return STATUS_PROCESSING_FAILURE
    return status
