"""How received instances are named, indexed and registered: the series folder under SERVICES/PACS/, the
PACSSeries columns read from an instance's header, and the registration of a batch of stored objects
(one bulk insert of files, one upsert of each series' index row). Used by the ingest sink
(:mod:`pacs.services.ingest`) on its registrar thread."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from pacs.dicom import safe_path_component
from uploads.models import ChrisFile
from uploads.services import files_register, folder_get_or_create, superuser

from ..models import PACSSeries
from ..selectors import PACS_ROOT

_SQL_IN_BATCH = 500  # stay under SQLite's bound-parameter limit
# Days per unit of a DICOM age string (nnnD/W/M/Y), as CUBE and pypx count PatientAge.
_AGE_DAYS = {"D": 1.0, "W": 7.0, "M": 30.44, "Y": 365.24}


@dataclass(frozen=True)
class NodeRef:
    """A PACS node as the sink needs it (no ORM object crosses threads)."""

    id: int
    identifier: str


# --- naming and indexing -------------------------------------------------------------------------------


def _part(value: Any) -> str:
    return "" if value in (None, "") else safe_path_component(value, default="")


def _join(*values: Any) -> str:
    return "-".join(p for p in (_part(v) for v in values) if p)


def short_hash(uid: str) -> str:
    return hashlib.sha256(uid.encode()).hexdigest()[:8]


def series_folder_path(identifier: str, meta: dict[str, Any]) -> str:
    """Where a series' instances go: readable names (as pypx/oxidicom), unique through the series UID."""
    patient = _join(meta.get("PatientID") or "UNKNOWN", meta.get("PatientName"), meta.get("PatientBirthDate"),
                    meta.get("PatientAge"))
    study_uid = str(meta.get("StudyInstanceUID") or "")
    study = _join(meta.get("StudyDescription"), meta.get("AccessionNumber"), meta.get("StudyDate")) or \
        f"study-{short_hash(study_uid)}"
    number = meta.get("SeriesNumber")
    series = _join(f"{number:05d}" if isinstance(number, int) else number, meta.get("SeriesDescription"),
                   short_hash(str(meta.get("SeriesInstanceUID") or "")))
    return f"{PACS_ROOT}/{identifier}/{patient}/{study}/{series}"


def _dicom_date(value: Any) -> date | None:
    text = str(value or "").strip().replace("-", "")
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def age_in_days(value: Any) -> int | None:
    """DICOM AS ('045Y', '3W') → days; a bare number is taken as days; anything else → None."""
    text = str(value or "").strip().upper()
    if not text:
        return None
    unit = text[-1]
    number = text[:-1] if unit in _AGE_DAYS else text
    try:
        return round(float(number) * _AGE_DAYS.get(unit, 1.0))
    except ValueError:
        return None


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "\\".join(str(v) for v in value)
    return str(value).strip()[:limit]


def series_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """PACSSeries column values from the JSON header of one instance."""
    sex = _text(meta.get("PatientSex"), 1).upper()
    number = meta.get("SeriesNumber")
    return {
        "PatientID": _text(meta.get("PatientID"), 100),
        "PatientName": _text(meta.get("PatientName"), 150),
        "PatientBirthDate": _dicom_date(meta.get("PatientBirthDate")),
        "PatientAge": age_in_days(meta.get("PatientAge")),
        "PatientSex": sex if sex in ("M", "F", "O") else "",
        "StudyDate": _dicom_date(meta.get("StudyDate")),
        "AccessionNumber": _text(meta.get("AccessionNumber"), 100),
        "Modality": _text(meta.get("Modality"), 16),
        "ProtocolName": _text(meta.get("ProtocolName"), 64),
        "StudyInstanceUID": _text(meta.get("StudyInstanceUID"), 100),
        "StudyDescription": _text(meta.get("StudyDescription"), 400),
        "SeriesInstanceUID": _text(meta.get("SeriesInstanceUID"), 100),
        "SeriesDescription": _text(meta.get("SeriesDescription"), 400),
        "SeriesNumber": number if isinstance(number, int) else None,
    }


# --- batches -------------------------------------------------------------------------------------------


@dataclass
class _SeriesBatch:
    node: NodeRef
    folder: str
    meta: dict[str, Any]
    objects: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # key → (key, size, md5)


@dataclass
class _Batch:
    started: float = field(default_factory=time.monotonic)
    count: int = 0
    series: dict[tuple[int, str], _SeriesBatch] = field(default_factory=dict)
    # key → its spool file and that file's identity (inode, mtime): the instance's journal entry, removed only
    # once the batch is registered (see pacs.services.spool.discard).
    spooled: dict[str, tuple[Path, tuple[int, int]]] = field(default_factory=dict)


def register_batch(batch: _Batch, owner: Any = None) -> int:
    """Register a batch's stored objects and upsert each series' index row; returns the new file count."""
    owner = owner if owner is not None else superuser()
    objects = [obj for entry in batch.series.values() for obj in entry.objects.values()]
    created = 0
    for attempt in (1, 2):
        keys = [key for key, _, _ in objects]
        existing: set[str] = set()
        for i in range(0, len(keys), _SQL_IN_BATCH):
            existing.update(ChrisFile.objects.filter(fname__in=keys[i:i + _SQL_IN_BATCH])
                            .values_list("fname", flat=True))
        new = [obj for obj in objects if obj[0] not in existing]
        try:
            created = files_register(owner=owner, objects=new)
            break
        except IntegrityError:
            # Another association registered some of these between our check and our insert.
            if attempt == 2:
                raise
    for (node_id, uid), entry in batch.series.items():
        _series_upsert(node_id, uid, entry, owner)
    return created


def _series_upsert(node_id: int, uid: str, entry: _SeriesBatch, owner: Any) -> None:
    folder = folder_get_or_create(path=entry.folder, owner=owner)
    series = PACSSeries.objects.filter(pacs_id=node_id, SeriesInstanceUID=uid).first()
    if series is None:
        try:
            with transaction.atomic():
                series = PACSSeries.objects.create(pacs_id=node_id, folder=folder, **series_fields(entry.meta))
        except IntegrityError:
            series = PACSSeries.objects.get(pacs_id=node_id, SeriesInstanceUID=uid)
    count = ChrisFile.objects.filter(parent_folder_id=series.folder_id).count()
    PACSSeries.objects.filter(pk=series.pk).update(ndicom=count)
