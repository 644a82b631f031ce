"""CORS for browser clients (the ChRIS UI on another origin)."""

from __future__ import annotations

from corsheaders.defaults import default_headers

from .. import env

_origins = env.get_list("CORS_ALLOWED_ORIGINS", "")
CORS_ALLOW_ALL_ORIGINS = not _origins
CORS_ALLOWED_ORIGINS = _origins
CORS_ALLOW_HEADERS = (*default_headers, "range", "if-none-match", "if-range")
CORS_EXPOSE_HEADERS = ["Allow", "Content-Disposition", "Content-Range", "Accept-Ranges", "ETag", "Location"]
CORS_URLS_REGEX = r"^/(api|chris-admin/api|schema)/.*$"
