"""Content negotiation: Collection+JSON unless the client asks for JSON (or the browsable API).

An Accept header we cannot satisfy (``application/octet-stream`` on a non-file endpoint, ``text/plain``)
falls back to Collection+JSON instead of 406: the clients that send such headers read the body anyway.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.utils.mediatypes import media_type_matches, order_by_precedence


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except (NotAcceptable, Http404):
            if not (format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)):
                return renderers[0], renderers[0].media_type
            # A format that names no renderer (404) or one the Accept header excludes (406). DRF asks again
            # for the error response and then takes its first renderer, Collection+JSON, whatever the client
            # accepts: that second time, answer by the Accept header alone.
            if getattr(request, "_cube_format_failed", False):
                return self._by_accept(request, renderers)
            request._cube_format_failed = True
            raise

    def _by_accept(self, request: Any, renderers: Any) -> Any:
        for media_types in order_by_precedence(self.get_accept_list(request)):
            for renderer in renderers:
                if any(media_type_matches(renderer.media_type, accepted) for accepted in media_types):
                    return renderer, renderer.media_type
        return renderers[0], renderers[0].media_type


def is_plain_json(request: Any) -> bool:
    """Whether the response goes out as plain JSON: where the strict JSON clients (aiochris, chrs) and the
    Collection+JSON ones need different shapes of the same field, this picks the JSON one."""
    renderer = getattr(request, "accepted_renderer", None)
    return renderer is not None and renderer.media_type == "application/json"
