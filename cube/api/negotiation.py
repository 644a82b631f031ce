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
