"""Registering instances nobody is receiving: spool files a stopped listener left (the ingest sink's start-up
recovery) and objects found in storage without a registry record (:func:`pacs_reconcile`).

Both are placed the same way as a received instance: the node is the key's third component
(``SERVICES/PACS/<node>/...``), the series and its index metadata come from the instance's header.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from cube.storage import ObjectNotFound, Storage, StoredObject, clean_key, get_storage
from cube.storage.base import HashingReader
from pacs.dicom import SERIES_INDEX_KEYS, dataset_to_dict, read_identifying_header_part10
from uploads.models import ChrisFile
from uploads.paths import parent_of

from ..models import PACS
from ..selectors import PACS_ROOT
from .registry import NodeRef, _Batch, _SeriesBatch, register_batch

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Placement:
    """Where an instance belongs: its node, its series, and the series' index metadata."""

    node: NodeRef
    series_uid: str
    meta: dict[str, Any]


def node_of_key(key: str, cache: dict[str, NodeRef | None]) -> NodeRef | None:
    """The PACS node a key under SERVICES/PACS/<node>/ belongs to (one query per node, through ``cache``)."""
    parts = key.split("/")
    if len(parts) <= 3 or "/".join(parts[:2]) != PACS_ROOT:
        return None
    if parts[2] not in cache:
        row = PACS.objects.filter(identifier=parts[2]).values_list("id", "identifier").first()
        cache[parts[2]] = NodeRef(*row) if row else None
    return cache[parts[2]]


def placement(stream: BinaryIO, node: NodeRef) -> Placement | None:
    """The instance's series from its Part-10 header; None if it is not a readable DICOM instance."""
    try:
        header = read_identifying_header_part10(stream)
    except Exception:
        return None
    if header is None or not str(header.get("SeriesInstanceUID") or "").strip():
        return None
    return Placement(node, str(header.SeriesInstanceUID).strip(), dataset_to_dict(header, SERIES_INDEX_KEYS))


def already_stored(storage: Storage, path: Path, key: str) -> StoredObject | None:
    """The stored object at ``key`` if it already holds this spool file's bytes (same size and md5: an object
    store's etag), so that recovery need not send it again; None if it must be imported."""
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            md5.update(chunk)
            size += len(chunk)
    try:
        stat = storage.stat(key)
    except ObjectNotFound:
        return None
    if stat.size != size or stat.etag != md5.hexdigest():
        return None
    return StoredObject(key=key, size=size, md5=stat.etag)


def stored_placement(storage: Storage, key: str, node: NodeRef) -> tuple[Placement | None, StoredObject]:
    """A stored object's placement, size and md5, in one streamed pass through a temporary file (the header
    reader seeks; nothing holds the whole object in memory)."""
    with tempfile.TemporaryFile() as fh:
        reader = HashingReader(storage.open(key))
        for chunk in reader:
            fh.write(chunk)
        fh.seek(0)
        return placement(fh, node), StoredObject(key=key, size=reader.size, md5=reader.md5)


# --- reconciling storage with the registry ---------------------------------------------------------------


@dataclass
class ReconcileReport:
    """What ``pacs_reconcile`` found: objects registered (or that would be, in a dry run), objects left alone."""

    registered: list[tuple[str, str]] = field(default_factory=list)  # (key, SeriesInstanceUID)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    checked: int = 0


def pacs_reconcile(*, dry_run: bool = False, node: str | None = None, chunk: int = 500) -> ReconcileReport:
    """Register every object under SERVICES/PACS/ (one node's, with ``node``) that has no file record.

    For any drift the spool journal cannot know about (an object restored from a backup, a registration
    lost some other way). Each unregistered object is read once, through the storage contract (so Swift as
    well as the filesystem), for its header and md5; it is registered where it is stored, and its series'
    index row is created or recounted. A dry run reads and reports, and writes nothing.
    """
    storage = get_storage()
    report = ReconcileReport()
    nodes: dict[str, NodeRef | None] = {}
    prefix = f"{PACS_ROOT}/{clean_key(node)}" if node else PACS_ROOT
    keys = storage.ls(prefix)
    while page := list(islice(keys, chunk)):
        report.checked += len(page)
        known = set(ChrisFile.objects.filter(fname__in=page).values_list("fname", flat=True))
        batch = _Batch()
        for key in page:
            if key in known:
                continue
            owner = node_of_key(key, nodes)
            if owner is None:
                report.skipped.append((key, f"no PACS node is named {key.split('/')[2]!r}"))
                continue
            where, stored = stored_placement(storage, key, owner)
            if where is None:
                report.skipped.append((key, "not a DICOM instance with a SeriesInstanceUID"))
                continue
            report.registered.append((key, where.series_uid))
            entry = batch.series.get((owner.id, where.series_uid))
            if entry is None:
                entry = batch.series[(owner.id, where.series_uid)] = _SeriesBatch(owner, parent_of(key), where.meta)
            entry.objects[key] = (key, stored.size, stored.md5)
            batch.count += 1
        if batch.count and not dry_run:
            register_batch(batch)
    return report
