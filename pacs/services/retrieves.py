"""Retrieves: fetch every series a query found, by C-MOVE to our listener or by C-GET, in a Celery task.

The row shows how many instances are expected (what the PACS announced at query time) and how many of
them are registered so far (the series index's count, which the ingest sink keeps current in batches),
overall and per series, and ends ``succeeded`` only once every series is registered in full, or
``errored`` with the reason in words: the PACS's own status (an unknown move destination, a failed
sub-operation), a connection failure, or instances that never arrived. (CUBE's retrieves never reach
``succeeded``, and its registration errors stay in a worker log: its issue #709.)
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pacs.dicom import DicomError, RetrieveProgress, RetrieveResult, get, move

from ..models import PACSQuery, PACSRetrieve, PACSSeries, RetrieveMethod, Status
from .ingest import RegistrySink
from .nodes import pacs_node
from .queries import query_series
from .registry import NodeRef

log = logging.getLogger(__name__)

# Per-series states shown in ``series`` (and over SSE).
PENDING, RETRIEVING, REGISTERING, DONE, ERROR = "pending", "retrieving", "registering", "done", "error"
SAVE_EVERY = 0.5  # seconds between progress writes while instances flow
# Waiting for the registry after the transfer: first and longest pause between reads (seconds).
POLL_FIRST, POLL_LAST = 0.002, 0.1


class RetrieveError(ValueError):
    """A retrieve that cannot be created; the message says why (a 400)."""


class Cancelled(Exception):  # noqa: N818 - a signal, not an error
    """The retrieve row went away (deleted) while it ran."""


def retrieve_create(*, owner: Any, query: PACSQuery) -> PACSRetrieve:
    if query.status != Status.SUCCEEDED:
        raise RetrieveError(
            f"The query is {query.status}; a retrieve fetches the series a succeeded query found"
            + (f" (the query failed: {query.status_message})" if query.status == Status.ERRORED else "."))
    from ..tasks import retrieve_task

    with transaction.atomic():
        row = PACSRetrieve.objects.create(pacs_query=query, owner=owner)
        transaction.on_commit(lambda: retrieve_task.apply_async(args=[row.id], queue=settings.CUBE_QUEUE_JOBS))
    return row


class _Tracker:
    """Keeps the row's counts in step with the registry, writing at most every SAVE_EVERY seconds."""

    def __init__(self, retrieve_id: int, pacs_id: int, series: list[dict[str, Any]]) -> None:
        self.retrieve_id = retrieve_id
        self.pacs_id = pacs_id
        self.series = series
        self._saved = 0.0

    def refresh(self) -> None:
        uids = [s["SeriesInstanceUID"] for s in self.series]
        counts = dict(PACSSeries.objects.filter(pacs_id=self.pacs_id, SeriesInstanceUID__in=uids)
                      .values_list("SeriesInstanceUID", "ndicom"))
        for entry in self.series:
            entry["received"] = counts.get(entry["SeriesInstanceUID"], 0)
            if entry["status"] == REGISTERING and entry["expected"] is not None \
                    and entry["received"] >= entry["expected"]:
                entry["status"] = DONE

    def save(self, force: bool = False, **extra: Any) -> None:
        now = time.monotonic()
        if not force and now - self._saved < SAVE_EVERY:
            return
        self._saved = now
        self.refresh()
        expected = sum(s["expected"] or 0 for s in self.series)
        received = sum(min(s["received"], s["expected"]) if s["expected"] is not None else s["received"]
                       for s in self.series)
        updated = PACSRetrieve.objects.filter(pk=self.retrieve_id, status=Status.SENT).update(
            series=self.series, expected=expected, received=received, **extra)
        if not updated:
            raise Cancelled()

    def tick(self, _progress: RetrieveProgress) -> None:
        self.save()

    def wait_registered(self, timeout: float) -> None:
        """Wait until the listener has registered every series in full (the caller then saves the end state).

        The listener registers the last instances within milliseconds of the transfer's end, so the registry
        is read often at first and less often as the wait goes on; the row is written only as progress is
        (at most every SAVE_EVERY seconds), never once per read.
        """
        deadline = time.monotonic() + timeout
        delay = POLL_FIRST
        while any(s["status"] == REGISTERING for s in self.series):
            self.refresh()
            if not any(s["status"] == REGISTERING for s in self.series):
                return
            self.save()
            if time.monotonic() > deadline:
                for s in self.series:
                    if s["status"] == REGISTERING:
                        s["status"] = ERROR
                        s["message"] = (f"only {s['received']} of {s['expected']} instance(s) were received and "
                                        f"registered within {timeout:g} s of the PACS finishing the transfer "
                                        "(see the DICOM listener's log)")
                return
            time.sleep(delay)
            delay = min(delay * 2, POLL_LAST)


def _failure(result: RetrieveResult, method: str) -> str:
    message = result.message
    if method == RetrieveMethod.MOVE and not result.completed:
        # Orthanc, for one, answers an unknown destination and an unreachable one alike (0xC000).
        message += (f"; is the DICOM listener (manage.py dicom_listener: AE title {settings.CUBE_DICOM_AET}, "
                    f"port {settings.CUBE_DICOM_PORT}) running and reachable from the PACS at the host and port "
                    "the PACS has for that AE title?")
    return message


def _finish(retrieve_id: int, tracker: _Tracker, fatal: str | None) -> None:
    errors = [s for s in tracker.series if s["status"] == ERROR]
    if fatal:
        message = fatal
    elif errors:
        reasons = list(dict.fromkeys(s["message"] for s in errors))
        message = f"{len(errors)} of {len(tracker.series)} series failed: " + "; ".join(reasons)
    else:
        message = ""
    # Counts and end state in one statement: a poll never sees the final counts with the old status.
    tracker.save(force=True, status=Status.ERRORED if (fatal or errors) else Status.SUCCEEDED,
                 status_message=message[:4000], end_date=timezone.now())


def retrieve_run(retrieve_id: int) -> None:
    """Fetch the query's series; the row ends succeeded or errored (with the reason)."""
    claimed = PACSRetrieve.objects.filter(pk=retrieve_id, status__in=[Status.CREATED, Status.SENT]).update(
        status=Status.SENT, start_date=timezone.now())
    if not claimed:
        return
    retrieve = PACSRetrieve.objects.select_related("pacs_query__pacs").get(pk=retrieve_id)
    pacs = retrieve.pacs_query.pacs
    series = [{**s, "received": 0, "status": PENDING, "message": ""} for s in query_series(retrieve.pacs_query)]
    tracker = _Tracker(retrieve_id, pacs.id, series)
    try:
        _run(retrieve_id, pacs, tracker)
    except Cancelled:
        log.info("retrieve %s was deleted while it ran", retrieve_id)


def _run(retrieve_id: int, pacs: Any, tracker: _Tracker) -> None:
    if not tracker.series:
        _finish(retrieve_id, tracker, None)
        return
    node = pacs_node(pacs)
    method = pacs.retrieve_method
    sink = RegistrySink(node=NodeRef(pacs.id, pacs.identifier)) if method == RetrieveMethod.GET else None
    fatal: str | None = None
    try:
        for entry in tracker.series:
            entry["status"] = RETRIEVING
            tracker.save(force=True)
            keys = {"StudyInstanceUID": entry["StudyInstanceUID"], "SeriesInstanceUID": entry["SeriesInstanceUID"]}
            try:
                if sink is not None:
                    result = get(node, keys, sink, on_progress=tracker.tick)
                else:
                    result = move(node, settings.CUBE_DICOM_AET, keys, on_progress=tracker.tick)
            except DicomError as exc:
                fatal = str(exc)
                entry["status"], entry["message"] = ERROR, fatal
                break
            if entry["expected"] is None:
                entry["expected"] = result.completed + result.warning
            if result.ok or (result.completed and not result.failed):
                entry["status"] = REGISTERING
            else:
                entry["status"], entry["message"] = ERROR, _failure(result, method)
            tracker.save(force=True)
    finally:
        if sink is not None:
            sink.close()  # registers what the C-GETs delivered before we count it
    for entry in tracker.series:
        if entry["status"] == PENDING:
            entry["status"], entry["message"] = ERROR, f"not retrieved: {fatal}"
    tracker.wait_registered(settings.CUBE_PACS_REGISTRATION_TIMEOUT)
    _finish(retrieve_id, tracker, fatal)
