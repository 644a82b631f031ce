"""The file API on OpenStack Swift (a real all-in-one, started once per session): uploads streamed into
Swift, ranged downloads streamed out of it, moves, zips, and deletions that leave no object behind."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import json_of
from tests.uploads.conftest import multipart, upload

JSON = "application/json"


@pytest.fixture
def storage_root(swift_aio: Any, settings: Any, tmp_path: Any) -> Iterator[str]:
    """Overrides the filesystem storage of tests/conftest.py for this module: everything, the system's own
    folders included, lives in a fresh Swift container."""
    from cube.storage import reset_storage_cache

    settings.CUBE_STORAGE = {"BACKEND": "cube.storage.swift.SwiftStorage",
                             "OPTIONS": swift_aio.storage_options(container=f"t-{uuid.uuid4().hex[:12]}")}
    reset_storage_cache()
    yield str(tmp_path)
    reset_storage_cache()


def keys(prefix: str = "") -> list[str]:
    from cube.storage import get_storage

    return list(get_storage().ls(prefix))


@pytest.mark.django_db
def test_upload_download_range_zip_move_and_delete_on_swift(actors, eager_celery,
                                                            django_capture_on_commit_callbacks):
    alice = actors.client("alice")
    data = os.urandom(3 * 1024 * 1024 + 5)
    r = upload(alice, "home/alice/uploads/sw/a.bin", data)
    assert r.status_code == 201, r.content
    item = json_of(r)
    assert "home/alice/uploads/sw/a.bin" in keys("home/alice")
    r = alice.get(item["file_resource"])
    assert r.status_code == 200 and b"".join(r.streaming_content) == data
    r = alice.get(item["file_resource"], HTTP_RANGE="bytes=1048570-1048589")
    assert r.status_code == 206 and b"".join(r.streaming_content) == data[1048570:1048590]
    folder = json_of(alice.get("/api/v1/filebrowser/search/?path=home/alice/uploads/sw",
                               HTTP_ACCEPT=JSON))["results"][0]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(alice.get(f"{folder['url']}download/").streaming_content)))
    assert archive.read("sw/a.bin") == data
    r = alice.put(folder["url"], {"path": "home/alice/uploads/sw2"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200, r.content
    assert keys("home/alice/uploads/sw2") == ["home/alice/uploads/sw2/a.bin"]
    assert keys("home/alice/uploads/sw/") == []
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.delete(folder["url"]).status_code == 202
    assert keys("home/alice/uploads/sw2") == []


@pytest.mark.django_db
def test_an_interrupted_upload_leaves_no_object_in_swift(actors):
    from uploads.models import ChrisFile

    body, ctype = multipart([("upload_path", "home/alice/uploads/cut.bin", None),
                             ("fname", os.urandom(2 * 1024 * 1024), "f")])
    r = actors.client("alice").generic("POST", "/api/v1/userfiles/", body[: len(body) // 2], content_type=ctype,
                                       HTTP_ACCEPT=JSON)
    assert r.status_code == 400
    assert "home/alice/uploads/cut.bin" not in keys("home/alice")
    assert not ChrisFile.objects.filter(fname="home/alice/uploads/cut.bin").exists()
