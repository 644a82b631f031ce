"""Retrieve progress as server-sent events: ``GET /api/v1/pacs/sse/``.

Two ways to ask, both authenticated (token, Basic, session, or a one-time ``?download_token=`` for a
browser's EventSource, which cannot send headers) and for pacs_users only (CUBE's view forgot to check):

- ``?retrieve_id=<id>``: the series of one retrieve, then its final state; the stream ends with it.
- ``?pacs_name=<identifier>&series_uids=<uid>,<uid>`` (CUBE's form): those series, each as the most
  recent retrieve of that node tracked it; the stream ends once each is done or failed.

Each series event is CUBE's LONK message as a default ``message`` event:
``{"pacs_name", "SeriesInstanceUID", "message": {"ndicom": n} | {"done": true} | {"error": "why"}}``;
``?retrieve_id`` streams add ``event: retrieve`` with the retrieve's status, counts and reason. Events are
sent when something changed (the registry is polled twice a second), with a comment every 15 s to keep
proxies from closing an idle stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import renderers, views
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.settings import api_settings

from uploads.tokens import DownloadTokenAuthentication

from . import selectors
from .models import FINISHED, PACS, PACSRetrieve, PACSSeries
from .services.retrieves import DONE, ERROR

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
MAX_SECONDS = 6 * 3600.0
RECENT_RETRIEVES = 50


class EventStreamRenderer(renderers.BaseRenderer):
    """Errors for an EventSource client: one ``error`` event it can read."""

    media_type = "text/event-stream"
    format = "event-stream"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return f"event: error\ndata: {json.dumps(data)}\n\n".encode()


def _lonk(pacs_name: str, uid: str, message: dict[str, Any]) -> dict[str, Any]:
    return {"pacs_name": pacs_name, "SeriesInstanceUID": uid, "message": message}


def _series_message(entry: dict[str, Any]) -> dict[str, Any]:
    if entry.get("status") == ERROR:
        return {"error": entry.get("message") or "failed"}
    if entry.get("status") == DONE:
        return {"done": True}
    return {"ndicom": int(entry.get("received") or 0)}


def retrieve_snapshot(retrieve_id: int) -> tuple[dict[str, Any], bool]:
    """(event key → payload, finished) for one retrieve."""
    row = (PACSRetrieve.objects.filter(pk=retrieve_id)
           .values("id", "status", "status_message", "expected", "received", "series",
                   "pacs_query__pacs__identifier").first())
    if row is None:
        return {"retrieve": {"id": retrieve_id, "status": "deleted"}}, True
    name = row["pacs_query__pacs__identifier"]
    events: dict[str, Any] = {}
    for entry in row["series"] or []:
        # A series keeps reporting its count until the retrieve says it is done (or failed).
        message = _series_message(entry)
        events[entry["SeriesInstanceUID"]] = _lonk(name, entry["SeriesInstanceUID"], message)
    finished = row["status"] in FINISHED
    events["retrieve"] = {k: row[k] for k in ("id", "status", "status_message", "expected", "received")}
    return events, finished


def series_snapshot(pacs: PACS, uids: list[str]) -> tuple[dict[str, Any], bool]:
    """(uid → LONK message, all finished) from the node's most recent retrieves and the series index."""
    latest: dict[str, dict[str, Any]] = {}
    rows = (PACSRetrieve.objects.filter(pacs_query__pacs=pacs).order_by("-id")
            .values_list("series", flat=True)[:RECENT_RETRIEVES])
    wanted = set(uids)
    for series in rows:
        for entry in series or []:
            uid = entry.get("SeriesInstanceUID")
            if uid in wanted and uid not in latest:
                latest[uid] = entry
    counts = dict(PACSSeries.objects.filter(pacs=pacs, SeriesInstanceUID__in=uids)
                  .values_list("SeriesInstanceUID", "ndicom"))
    events: dict[str, Any] = {}
    finished = True
    for uid in uids:
        entry = latest.get(uid)
        if entry is None:
            # Not part of any retrieve: registered already (done), or not (yet) known here.
            message: dict[str, Any] = {"done": True} if uid in counts else {"ndicom": 0}
        else:
            message = _series_message({**entry, "received": counts.get(uid, entry.get("received", 0))})
        if "ndicom" in message:
            finished = False
        events[uid] = _lonk(pacs.identifier, uid, message)
    return events, finished


def event_stream(snapshot: Any, poll: float = POLL_SECONDS, max_seconds: float = MAX_SECONDS) -> Iterator[bytes]:
    """Yield SSE frames for each change of ``snapshot()`` until it says finished."""
    yield b"retry: 2000\n\n"
    sent: dict[str, str] = {}
    started = last_write = time.monotonic()
    while True:
        events, finished = snapshot()
        for key, payload in events.items():
            text = json.dumps(payload)
            if sent.get(key) == text:
                continue
            sent[key] = text
            prefix = "event: retrieve\n" if key == "retrieve" else ""
            yield f"{prefix}data: {text}\n\n".encode()
            last_write = time.monotonic()
        if finished:
            return
        now = time.monotonic()
        if now - started > max_seconds:
            yield b"event: timeout\ndata: {}\n\n"
            return
        if now - last_write > HEARTBEAT_SECONDS:
            yield b": keep-alive\n\n"
            last_write = now
        time.sleep(poll)


class PacsProgressStream(views.APIView):
    authentication_classes = (DownloadTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    renderer_classes = (EventStreamRenderer, *api_settings.DEFAULT_RENDERER_CLASSES)

    @extend_schema(request=None, responses={(200, "text/event-stream"): OpenApiTypes.STR}, operation_id="pacs_sse")
    def get(self, request: Any) -> StreamingHttpResponse:
        selectors.require_pacs_user(request.user)
        params = request.query_params
        retrieve_id = params.get("retrieve_id")
        if retrieve_id:
            retrieve = selectors.access_retrieve_by_id(request.user, retrieve_id)

            def snapshot() -> tuple[dict[str, Any], bool]:
                return retrieve_snapshot(retrieve.pk)
        else:
            name = params.get("pacs_name")
            uids = [u.strip() for u in (params.get("series_uids") or "").split(",") if u.strip()]
            if not name or not uids:
                raise ValidationError({"detail": "Give retrieve_id, or pacs_name and series_uids (comma-separated)."})
            pacs = PACS.objects.filter(identifier=name).first()
            if pacs is None:
                raise NotFound(f"No PACS named '{name}'.")

            def snapshot() -> tuple[dict[str, Any], bool]:
                return series_snapshot(pacs, uids)

        response = StreamingHttpResponse(event_stream(snapshot), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
        return response

    @extend_schema(request=None, responses={(200, "text/event-stream"): OpenApiTypes.STR},
                   operation_id="pacs_sse_post")
    def post(self, request: Any) -> StreamingHttpResponse:
        return self.get(request)
