"""Request bodies no endpoint can use (nested too deeply, NUL characters, arrays or bare values instead of
objects, numbers beyond a column): a 400 in the client's media type, never a 500, and nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CJ, json_of

JSON = "application/json"


def assert_400(response: Any, accept: str, field: str | None = None) -> None:
    assert response.status_code == 400, response.content
    if accept == JSON:
        assert response["Content-Type"].startswith(JSON)
        assert field is None or field in json_of(response), response.content
    else:
        assert response["Content-Type"].startswith(CJ)
        message = json_of(response)["collection"]["error"]["message"]
        assert field is None or field in message, message


@pytest.fixture
def alice(api: Any, make_user: Any) -> Any:
    user = make_user("alice")
    api.force_authenticate(user)
    return user


@pytest.mark.django_db
def test_json_nested_thousands_deep_is_a_400(api: Any, alice: Any) -> None:
    for content_type in (JSON, CJ):
        for accept in (JSON, CJ):
            r = api.generic("POST", "/api/v1/tags/", "[" * 100_000, content_type=content_type, HTTP_ACCEPT=accept)
            assert_400(r, accept)


@pytest.mark.django_db
def test_nul_anywhere_in_a_body_is_a_400_naming_the_field(api: Any, alice: Any) -> None:
    from feeds.models import Tag

    for accept in (JSON, CJ):
        r = api.post("/api/v1/tags/", json.dumps({"name": "t", "color": "a\x00"}), content_type=JSON,
                     HTTP_ACCEPT=accept)
        assert_400(r, accept, "color")
        r = api.post("/api/v1/tags/", "name=t&color=a%00", content_type="application/x-www-form-urlencoded",
                     HTTP_ACCEPT=accept)
        assert_400(r, accept, "color")
        r = api.post("/api/v1/tags/", {"name": "t\x00", "color": "red"}, format="multipart", HTTP_ACCEPT=accept)
        assert_400(r, accept, "name")
        doc = {"template": {"data": [{"name": "name", "value": "t"}, {"name": "color", "value": ["x", {"y": "\x00"}]}]}}
        r = api.post("/api/v1/tags/", json.dumps(doc), content_type=CJ, HTTP_ACCEPT=accept)
        assert_400(r, accept, "color")
    assert not Tag.objects.exists()
    r = api.post("/api/v1/tags/", json.dumps({"name": "t", "color": "red"}), content_type=JSON, HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content


@pytest.mark.django_db
def test_nul_in_a_multipart_field_is_a_400_but_nul_in_a_files_bytes_is_data(api: Any, admin_api: Any) -> None:
    from io import BytesIO

    from plugins.models import Plugin

    before = Plugin.objects.count()
    upload = BytesIO(b"{}")
    upload.name = "desc.json"
    r = admin_api.post("/chris-admin/api/v1/", {"fname": upload, "compute_names": "host\x00"}, format="multipart",
                       HTTP_ACCEPT=JSON)
    assert_400(r, JSON, "compute_names")
    upload = BytesIO(b'{"a": "\x00"}')
    upload.name = "desc.json"
    r = admin_api.post("/chris-admin/api/v1/", {"fname": upload}, format="multipart", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "Null characters" not in r.content.decode()  # the descriptor's own checks
    assert Plugin.objects.count() == before


@pytest.fixture
def admin_api(system: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(system)
    return client


@pytest.mark.django_db
def test_admin_api_bodies_that_are_not_objects_are_a_400(admin_api: Any) -> None:
    from django.core.management import call_command

    from plugins.models import ComputeResource, Plugin

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    plugin = Plugin.objects.order_by("id").first()
    assert plugin is not None
    names_before = list(plugin.compute_resources.values_list("name", flat=True))
    plugins_before = Plugin.objects.count()
    for body in ("[1, 2, 3]", "42", "null", '"text"'):
        for content_type in (JSON, CJ):
            for accept in (JSON, CJ):
                r = admin_api.generic("POST", "/chris-admin/api/v1/", body, content_type=content_type,
                                      HTTP_ACCEPT=accept)
                assert_400(r, accept)
                r = admin_api.generic("PUT", f"/chris-admin/api/v1/{plugin.id}/", body, content_type=content_type,
                                      HTTP_ACCEPT=accept)
                assert_400(r, accept)
    assert Plugin.objects.count() == plugins_before
    assert list(plugin.compute_resources.values_list("name", flat=True)) == names_before
    # A number beyond the 32-bit column, and NUL inside a JSON field's value.
    crs = ComputeResource.objects.count()
    for body, field in (({"name": "big", "max_job_exec_seconds": 2**31}, "max_job_exec_seconds"),
                        ({"name": "big", "max_job_exec_seconds": 10**30}, "max_job_exec_seconds"),
                        ({"name": "nul", "runner_options": {"a": "\x00"}}, "runner_options")):
        for accept in (JSON, CJ):
            r = admin_api.post("/chris-admin/api/v1/computeresources/", json.dumps(body), content_type=JSON,
                               HTTP_ACCEPT=accept)
            assert_400(r, accept, field)
    assert ComputeResource.objects.count() == crs
    r = admin_api.post("/chris-admin/api/v1/computeresources/", {"name": "ok", "max_job_exec_seconds": 2**31 - 1},
                       format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
