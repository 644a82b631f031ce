"""The API home (GET /api/v1/) until feeds provide it, and JSON 404/500 pages for the API."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from rest_framework import generics
from rest_framework.response import Response

from .root import root_links
from .views import CJViewMixin


class ApiHome(CJViewMixin, generics.GenericAPIView):
    """The feed list is the API home in CUBE; feeds/ replaces this view's queryset when installed."""

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return Response({"count": 0, "next": None, "previous": None, "results": []})

    def get_cj_links(self) -> dict[str, str]:
        return root_links(self.request)


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
