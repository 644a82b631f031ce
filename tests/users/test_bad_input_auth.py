"""Credentials PostgreSQL cannot compare (a NUL in the Basic auth username): a 401, never a 500."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import CJ, json_of


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("cache_seconds", [0, 60])
def test_basic_auth_with_nul_is_a_401_in_the_client_media_type(api: Any, make_user: Any, settings: Any,
                                                               cache_seconds: int) -> None:
    settings.CUBE_BASIC_AUTH_CACHE_SECONDS = cache_seconds
    make_user("alice", password="alice-pass-1234")
    for credentials in (b"al\x00ice:alice-pass-1234", b"alice\x00:alice-pass-1234", b"alice:alice-pass\x001234"):
        r = api.get("/api/v1/userfiles/", HTTP_AUTHORIZATION=basic(credentials), HTTP_ACCEPT="application/json")
        assert r.status_code == 401, (credentials, r.content)
        assert "detail" in json_of(r)
        r = api.get("/api/v1/userfiles/", HTTP_AUTHORIZATION=basic(credentials), HTTP_ACCEPT=CJ)
        assert r.status_code == 401 and r["Content-Type"].startswith(CJ)
    r = api.get("/api/v1/userfiles/", HTTP_AUTHORIZATION=basic(b"alice:alice-pass-1234"), HTTP_ACCEPT="application/json")
    assert r.status_code == 200, r.content
