"""A Swift outage seen through the API: an upload while the proxy is down is a 503 saying to try again, in
the client's media type, with nothing registered; the same upload succeeds once Swift is back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.swift_aio import SwiftAIO


@pytest.fixture
def swift_storage(swift_aio: SwiftAIO, settings: Any) -> Iterator[None]:
    from cube.storage import reset_storage_cache

    settings.CUBE_STORAGE = {"BACKEND": "cube.storage.swift.SwiftStorage", "OPTIONS": swift_aio.storage_options(
        container="api-outage", retries=1, starting_backoff=0.1, max_backoff=0.2, timeout=10)}
    reset_storage_cache()
    yield
    reset_storage_cache()


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/json", "application/vnd.collection+json"])
def test_an_upload_while_swift_is_down_is_a_503_and_registers_nothing(
        api: Any, make_user: Any, swift_aio: SwiftAIO, swift_storage: None, accept: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from uploads.models import ChrisFile

    alice = make_user("alice")
    api.force_authenticate(alice)

    def upload(name: str) -> Any:
        return api.post("/api/v1/userfiles/", {"upload_path": f"home/alice/uploads/{name}",
                                               "fname": SimpleUploadedFile("f", b"bytes of a scan")},
                        format="multipart", HTTP_ACCEPT=accept)

    assert upload("before.txt").status_code == 201  # authenticated and the container made
    swift_aio.stop_proxy()
    try:
        r = upload("during.txt")
    finally:
        swift_aio.start_proxy()
    assert r.status_code == 503, r.content
    assert r["Content-Type"].startswith(accept), r["Content-Type"]
    assert r["Retry-After"] == "5"
    assert b"Try again" in r.content
    assert b"127.0.0.1" not in r.content  # the backend's addresses stay in the log
    assert not ChrisFile.objects.filter(fname="home/alice/uploads/during.txt").exists()
    r = upload("during.txt")
    assert r.status_code == 201, r.content
