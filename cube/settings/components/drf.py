"""Django REST framework and drf-spectacular: Collection+JSON first, JSON on request."""

from __future__ import annotations

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "cube.api.renderers.CollectionJsonRenderer",
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "cube.api.parsers.CollectionJsonParser",
        "cube.api.parsers.TemplateAwareJSONParser",
        "cube.api.parsers.CubeFormParser",
        "cube.api.parsers.CubeMultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "feeds.jobtokens.JobTokenAuthentication",  # before TokenAuthentication: job tokens are not DRF tokens
        "cube.users.authentication.TokenAuthentication",
        "cube.users.authentication.CachedBasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "cube.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 10,
    "DEFAULT_FILTER_BACKENDS": [],
    "EXCEPTION_HANDLER": "cube.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "cube.api.negotiation.ContentNegotiation",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "cube API",
    "DESCRIPTION": "A ChRIS-compatible backend for medical image analysis (CUBE /api/v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cube.api.schema.strip_collection_json",
    ],
}
