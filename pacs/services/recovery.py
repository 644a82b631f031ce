"""Registering instances nobody is receiving: spool files a stopped listener left (the ingest sink's start-up
recovery), placed the same way as a received instance: the node is the key's third component
(``SERVICES/PACS/<node>/...``), the series and its index metadata come from the instance's header.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cube.storage import ObjectNotFound, Storage, StoredObject
from pacs.dicom import SERIES_INDEX_KEYS, dataset_to_dict, read_identifying_header_part10

from ..models import PACS
from ..selectors import PACS_ROOT
from .registry import NodeRef

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
