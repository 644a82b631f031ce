"""OpenAPI description of the download-token authentication (loaded by UploadsConfig.ready)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DownloadTokenScheme(OpenApiAuthenticationExtension):
    target_class = "uploads.tokens.DownloadTokenAuthentication"
    name = "downloadToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "query", "name": "download_token",
                "description": "A one-time token from POST /api/v1/downloadtokens/ (valid 10 minutes)."}
