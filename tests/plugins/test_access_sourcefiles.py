"""A locked pipeline is a draft only its owner (and the superuser) can see; the file it was uploaded from
said everything about it (name, authors, the whole tree) to anyone, anonymous included, through the
source-file list, search, detail and download and through the file browser. Finding of the access
audit: the file is now as visible as its pipeline, and becomes public when the pipeline is unlocked."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.plugins.test_pipelines import plugins, users  # noqa: F401 - fixtures

JSON = "application/json"
DRAFT = b"""\
name: Secret study pipeline
authors: Ann
category: mri
description: a draft
plugin_tree:
  - title: only
    plugin: pl-simpledsapp v2.1.0
    previous: null
"""


def _as(api: Any, user: Any) -> Any:
    api.force_authenticate(user)
    return api


@pytest.mark.django_db
def test_a_draft_pipelines_source_file_is_its_owners(api: Any, plugins: Any, users: Any) -> None:  # noqa: F811
    alice, bob, admin = users["alice"], users["bob"], users["chris"]
    r = _as(api, alice).post("/api/v1/pipelines/sourcefiles/", {"fname": SimpleUploadedFile("draft.yml", DRAFT)},
                             format="multipart", HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
    body = r.json()
    sid, pid = body["id"], body["pipeline_id"]
    urls = {"detail": f"/api/v1/pipelines/sourcefiles/{sid}/", "bytes": f"/api/v1/pipelines/sourcefiles/{sid}/draft.yml",
            "file browser": f"/api/v1/filebrowser/files/{sid}/",
            "file browser bytes": f"/api/v1/filebrowser/files/{sid}/draft.yml"}
    lists = ("/api/v1/pipelines/sourcefiles/", "/api/v1/pipelines/sourcefiles/search/?pipeline_name=secret")

    def seen_by(user: Any) -> dict[str, Any]:
        client = _as(api, user)
        out: dict[str, Any] = {name: client.get(url, HTTP_ACCEPT=JSON).status_code for name, url in urls.items()}
        for url in lists:
            out[url] = [row["id"] for row in client.get(url, HTTP_ACCEPT=JSON).json()["results"]]
        return out

    hidden = {**dict.fromkeys(urls, 404), **dict.fromkeys(lists, [])}
    shown = {**dict.fromkeys(urls, 200), **dict.fromkeys(lists, [sid])}
    assert _as(api, alice).get(f"/api/v1/pipelines/{pid}/", HTTP_ACCEPT=JSON).json()["locked"] is True
    assert seen_by(bob) == hidden
    assert seen_by(None) == hidden
    assert seen_by(alice) == shown
    assert seen_by(admin) == shown
    # The uploader's PIPELINES/ folder does not list it to others either.
    folder = _as(api, alice).get("/api/v1/filebrowser/search/?path=PIPELINES/alice", HTTP_ACCEPT=JSON).json()
    files_url = f"/api/v1/filebrowser/{folder['results'][0]['id']}/files/"
    for user in (bob, None):
        r = _as(api, user).get(files_url, HTTP_ACCEPT=JSON)
        assert r.status_code == 404 or r.json()["results"] == [], r.content
    # Published, the pipeline and its file are everyone's.
    assert _as(api, alice).put(f"/api/v1/pipelines/{pid}/", {"locked": False}, format="json").status_code == 200
    assert seen_by(bob) == shown
    assert seen_by(None) == shown
