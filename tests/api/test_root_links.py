"""The API home's link relations for each client generation and media type (reference/clients.md §0-1)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import cj_links, json_of

# Every relation a client of either generation resolves at the root (python-chrisclient, aiochris, chrs,
# chrisapi); a missing one makes that client fail before its first request of substance.
BOTH = {"chrisinstance", "public_feeds", "compute_resources", "plugin_metas", "plugins", "plugin_instances",
        "pipelines", "workflows", "tags", "pipelinesourcefiles", "pacsfiles", "filebrowser", "user",
        "files", "pipeline_instances", "servicefiles", "pacs", "pacsqueries", "pacsseries", "download_tokens",
        "groups", "uploadedfiles"}


@pytest.mark.django_db
def test_collection_json_root_carries_both_generations(api: Any, system: Any) -> None:
    api.force_authenticate(system)
    links = cj_links(api.get("/api/v1/"))
    assert BOTH | {"userfiles", "admin"} <= set(links)
    assert links["userfiles"] != links["uploadedfiles"]


@pytest.mark.django_db
def test_json_root_names_one_upload_relation(api: Any, system: Any) -> None:
    # chrs and aiochris read userfiles and uploadedfiles into one field and refuse a root with both.
    api.force_authenticate(system)
    links = json_of(api.get("/api/v1/", HTTP_ACCEPT="application/json"))["collection_links"]
    assert BOTH | {"admin"} <= set(links)
    assert "userfiles" not in links
    # Anonymous JSON clients (aiochris's AnonChrisClient) get the same public relations.
    api.force_authenticate(None)
    anon = json_of(api.get("/api/v1/", HTTP_ACCEPT="application/json"))["collection_links"]
    assert BOTH - {"user", "uploadedfiles"} <= set(anon)
