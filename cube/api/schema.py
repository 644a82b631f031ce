"""OpenAPI post-processing: the schema describes plain JSON (as CUBE's PR #580 does), so generated
clients work out of the box."""

from __future__ import annotations

from typing import Any

CJ = "application/vnd.collection+json"


def strip_collection_json(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict[str, Any]:
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            body = operation.get("requestBody", {}).get("content", {})
            body.pop(CJ, None)
            for response in operation.get("responses", {}).values():
                response.get("content", {}).pop(CJ, None)
    return result


try:
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class TokenAuthScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
        target_class = "cube.users.authentication.TokenAuthentication"
        name = "tokenAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
            return {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "Token-based authentication: `Token <key>` from POST /api/v1/auth-token/"}

    class BasicAuthScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
        target_class = "cube.users.authentication.CachedBasicAuthentication"
        name = "basicAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
            return {"type": "http", "scheme": "basic"}
except ImportError:  # pragma: no cover - drf-spectacular is a pinned requirement
    pass
