"""JSON 404/500 pages, so clients never get Django's HTML error pages."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def _error(request: Any, status: int, message: str) -> JsonResponse:
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "collection+json" not in accept:
        return JsonResponse({"detail": message}, status=status)
    body = {"collection": {"version": "1.0", "href": request.build_absolute_uri(), "error": {"message": message}}}
    return JsonResponse(body, status=status, content_type="application/vnd.collection+json")


def not_found(request: Any, exception: Any = None) -> JsonResponse:
    return _error(request, 404, "Not found.")


def server_error(request: Any) -> JsonResponse:
    return _error(request, 500, "Internal server error.")
