"""OpenAPI schema, and errors in the client's media type."""

from __future__ import annotations

import pytest
import yaml
from openapi_spec_validator import validate

from tests.conftest import json_of


@pytest.mark.django_db
def test_schema_is_valid_openapi_3_without_collection_json(api):
    r = api.get("/schema/")
    assert r.status_code == 200
    spec = yaml.safe_load(r.content)
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/plugins/" in spec["paths"]
    assert "application/vnd.collection+json" not in r.content.decode()
    assert api.get("/schema/swagger-ui/").status_code == 200


@pytest.mark.django_db
def test_unknown_api_urls_are_404_in_the_client_media_type(api):
    r = api.get("/api/v1/no-such-thing/")
    assert r.status_code == 404
    assert json_of(r)["collection"]["error"]["message"]
    r = api.get("/api/v1/no-such-thing/", HTTP_ACCEPT="application/json")
    assert r.status_code == 404 and json_of(r)["detail"]
    r = api.get("/api/v1/plugins/999999/", HTTP_ACCEPT="application/json")
    assert r.status_code == 404 and "detail" in json_of(r)


@pytest.mark.django_db
def test_unsatisfiable_accept_falls_back_to_collection_json(api):
    r = api.get("/api/v1/plugins/", HTTP_ACCEPT="application/octet-stream")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.collection+json")
    r = api.get("/api/v1/plugins/", HTTP_ACCEPT="application/json, */*;q=0.5")  # httpie
    assert r["Content-Type"].startswith("application/json")
