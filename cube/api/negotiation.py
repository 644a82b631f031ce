"""Content negotiation: Collection+JSON unless the client asks for JSON (or the browsable API).

An Accept header we cannot satisfy (``application/octet-stream`` on a non-file endpoint, ``text/plain``)
falls back to Collection+JSON instead of 406: the clients that send such headers read the body anyway.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            if format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE):
                raise
            return renderers[0], renderers[0].media_type


def is_plain_json(request: Any) -> bool:
    """Whether the response goes out as plain JSON: where the strict JSON clients (aiochris, chrs) and the
    Collection+JSON ones need different shapes of the same field, this picks the JSON one."""
    renderer = getattr(request, "accepted_renderer", None)
    return renderer is not None and renderer.media_type == "application/json"
