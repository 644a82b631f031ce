"""PACS queries: validated on the way in, run as C-FIND (study, then series level) by a Celery task.

The result is kept twice: ``result`` in CUBE's encoding (base64 of zlib of pfdcm's "pypx" JSON, where each
attribute is ``{"tag", "value", "label"}``; the ChRIS UI decodes that) and ``result_json`` as plain JSON
(studies, each with ``series``), so people and scripts need no decoding.
"""

from __future__ import annotations

import base64
import json
import logging
import zlib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from pydicom.datadict import tag_for_keyword
from pydicom.tag import Tag

from pacs.dicom import DicomError, query_studies_and_series
from pacs.dicom.query import build_identifier, split_query

from ..models import PACS, PACSQuery, Status
from .nodes import pacs_node

log = logging.getLogger(__name__)


class QueryError(ValueError):
    """Invalid query input; ``errors`` maps field → messages (a 400 by field in the API)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def query_parse(raw: Any) -> dict[str, Any]:
    """The ``query`` field as a dict of DICOM keywords: a JSON object, or a string holding one (what form,
    multipart and Collection+JSON clients send). QueryError for malformed JSON, unknown keywords, bad
    dates, or instance-level keys."""
    value = raw
    if isinstance(raw, (bytes, bytearray)):
        value = raw.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise QueryError({"query": [f"Not valid JSON: {exc}"]}) from None
    if not isinstance(value, dict):
        raise QueryError({"query": ["A JSON object of DICOM keywords is required, e.g. {\"PatientID\": \"123\"}."]})
    try:
        study, series = split_query(value)
        build_identifier("STUDY", study)
        build_identifier("SERIES", series)
    except ValueError as exc:
        raise QueryError({"query": [str(exc)]}) from None
    return value


def _enqueue(query_id: int) -> None:
    from ..tasks import query_task

    transaction.on_commit(lambda: query_task.apply_async(args=[query_id], queue=settings.CUBE_QUEUE_MAIN))


def _title_taken(pacs: PACS, title: str) -> QueryError:
    return QueryError({"title": [f"You already have a query titled '{title}' on PACS '{pacs.identifier}'."]})


def _clean_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise QueryError({"title": ["This field is required."]})
    if len(title) > 300:
        raise QueryError({"title": ["At most 300 characters."]})
    return title.strip()


def query_create(*, owner: Any, pacs: PACS, title: Any, query: Any, description: str = "",
                 execute: bool = True) -> PACSQuery:
    clean_title = _clean_title(title)
    if query is None:
        raise QueryError({"query": ["This field is required."]})
    parsed = query_parse(query)
    if PACSQuery.objects.filter(pacs=pacs, owner=owner, title=clean_title).exists():
        raise _title_taken(pacs, clean_title)
    try:
        with transaction.atomic():
            row = PACSQuery.objects.create(pacs=pacs, owner=owner, title=clean_title, query=parsed,
                                           description=description or "", execute=execute)
            if execute:
                _enqueue(row.id)
    except IntegrityError:
        raise _title_taken(pacs, clean_title) from None
    return row


def query_update(*, query: PACSQuery, title: Any = None, description: Any = None,
                 execute: bool | None = None) -> PACSQuery:
    """PUT: title, description, execute. false→true runs the query; true→false is refused (as CUBE)."""
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = _clean_title(title)
    if description is not None:
        changes["description"] = str(description)
    run = False
    if execute is not None:
        if query.execute and not execute:
            raise QueryError({"execute": ["Can not change field execute from true to false."]})
        if execute and not query.execute:
            changes["execute"] = True
            run = query.status == Status.CREATED
    try:
        with transaction.atomic():
            if changes:
                PACSQuery.objects.filter(pk=query.pk).update(**changes)
            if run:
                _enqueue(query.pk)
    except IntegrityError:
        raise _title_taken(query.pacs, changes.get("title", query.title)) from None
    query.refresh_from_db()
    return query


# --- running ---


def _tag_text(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    if tag is None:
        return ""
    t = Tag(tag)
    return f"0x{t.group:04X},0x{t.element:04X}"


def _pypx_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\\".join(_pypx_value(v) for v in value)
    return str(value)


def _pypx(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: {"tag": _tag_text(key), "value": _pypx_value(value), "label": key}
            for key, value in row.items() if key != "series"}


def to_pypx(studies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Plain studies/series → the shape pfdcm returned and the ChRIS UI reads (``study.PatientID.value``)."""
    out = []
    for study in studies:
        entry = _pypx(study)
        entry["series"] = [_pypx(series) for series in study.get("series", [])]
        out.append(entry)
    return out


def encode_result(studies: list[dict[str, Any]]) -> str:
    raw = json.dumps(to_pypx(studies), separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw)).decode("ascii")


def decode_result(encoded: str) -> Any:
    """CUBE's ``result`` back to JSON (what clients do)."""
    return json.loads(zlib.decompress(base64.b64decode(encoded)))


def query_run(query_id: int) -> None:
    """C-FIND the query's node; the row ends ``succeeded`` with the result or ``errored`` with the reason."""
    claimed = PACSQuery.objects.filter(pk=query_id, execute=True, status__in=[Status.CREATED, Status.SENT]).update(
        status=Status.SENT)
    if not claimed:
        return  # already finished, deleted, or not to be executed
    query = PACSQuery.objects.select_related("pacs").get(pk=query_id)
    try:
        studies = query_studies_and_series(pacs_node(query.pacs), query.query)
    except (DicomError, ValueError) as exc:
        log.info("PACS query %s on %s errored: %s", query_id, query.pacs.identifier, exc)
        PACSQuery.objects.filter(pk=query_id, status=Status.SENT).update(
            status=Status.ERRORED, status_message=str(exc)[:4000], end_date=timezone.now())
        return
    PACSQuery.objects.filter(pk=query_id, status=Status.SENT).update(
        status=Status.SUCCEEDED, status_message="", result=encode_result(studies), result_json=studies,
        end_date=timezone.now())


def query_series(query: PACSQuery) -> list[dict[str, Any]]:
    """The series a succeeded query found: StudyInstanceUID, SeriesInstanceUID and the instance count the
    PACS announced (None when it did not say)."""
    found = []
    for study in query.result_json or []:
        for series in study.get("series") or []:
            uid = series.get("SeriesInstanceUID")
            if not uid:
                continue
            count = series.get("NumberOfSeriesRelatedInstances")
            found.append({
                "StudyInstanceUID": series.get("StudyInstanceUID") or study.get("StudyInstanceUID"),
                "SeriesInstanceUID": uid,
                "expected": int(count) if isinstance(count, (int, float)) or (isinstance(count, str) and
                                                                               count.isdigit()) else None,
            })
    return found
