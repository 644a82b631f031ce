"""Numbers in pipeline bodies and plugin descriptors that Python cannot convert as given: a 400 in the
client's media type, never a 500, and no pipeline or plugin made. ('²' passes str.isdigit() but not int();
int() refuses more than 4300 digits; float('9' * 400) and JSON's 1e400 are infinity, which int() refuses.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CJ, json_of

JSON = "application/json"
UNNUMBERS = ("²", "٣" * 30, "9" * 5000, "9" * 400, 1e300)


def post(api: Any, body: dict[str, Any], accept: str) -> Any:
    if accept == CJ:
        doc = {"template": {"data": [{"name": k, "value": v} for k, v in body.items()]}}
        return api.post("/api/v1/pipelines/", json.dumps(doc), content_type=CJ, HTTP_ACCEPT=CJ)
    return api.post("/api/v1/pipelines/", body, format="json", HTTP_ACCEPT=JSON)


def assert_400_naming(response: Any, field: str, accept: str) -> None:
    assert response.status_code == 400, response.content
    if accept == CJ:
        assert field in json_of(response)["collection"]["error"]["message"]
    else:
        assert field in json_of(response), response.content


@pytest.mark.django_db
def test_pipeline_ids_and_limits_python_cannot_convert_are_400s(api: Any, signed_in_alice: Any) -> None:
    from plugins.models import Pipeline, Plugin

    ds = Plugin.objects.get(meta__name="pl-simpledsapp")
    node = {"title": "a", "plugin_name": ds.meta.name, "plugin_version": ds.version, "previous_index": None}
    for accept in (JSON, CJ):
        for value in UNNUMBERS:
            bad_id = {"title": "a", "plugin_id": value, "previous_index": None}
            assert_400_naming(post(api, {"name": "p", "plugin_tree": json.dumps([bad_id])}, accept), "plugin_tree",
                              accept)
            assert_400_naming(post(api, {"name": "p", "plugin_inst_id": value}, accept), "plugin_inst_id", accept)
            for field in ("cpu_limit", "memory_limit"):
                tree = json.dumps([{**node, field: value}])
                assert_400_naming(post(api, {"name": "p", "plugin_tree": tree}, accept), "plugin_tree", accept)
    assert not Pipeline.objects.exists()
    r = post(api, {"name": "p", "plugin_tree": json.dumps([node])}, JSON)
    assert r.status_code == 201, r.content


@pytest.mark.django_db
def test_descriptor_limits_beyond_a_float_are_a_400(system: Any) -> None:
    from rest_framework.test import APIClient

    from plugins.models import Plugin

    admin = APIClient()
    admin.force_authenticate(system)
    descriptor = {
        "name": "pl-huge", "version": "0.1.0", "dock_image": "localhost/cube/pl-huge:0.1.0", "type": "ds",
        "public_repo": "https://example.org/pl-huge", "authors": "tests", "title": "huge", "category": "",
        "description": "", "documentation": "", "license": "MIT", "icon": "", "selfpath": "/usr/local/bin",
        "selfexec": "huge", "execshell": "python3", "min_number_of_workers": 1, "max_number_of_workers": 4,
        "min_memory_limit": "", "max_memory_limit": "", "min_cpu_limit": "", "max_cpu_limit": "",
        "min_gpu_limit": 0, "max_gpu_limit": 0, "parameters": []}
    # Beyond a float, and beyond the 32-bit columns the limits are stored in.
    for field, values in (("max_cpu_limit", ("9" * 400, 1e300 * 10, "2147483648m", 2**40)),
                          ("max_memory_limit", ("9" * 400, 1e300 * 10, "3000Ti", 2**31)),
                          ("max_number_of_workers", (2**31,)), ("max_gpu_limit", (2**31,))):
        for value in values:
            body = json.dumps({"fname": {**descriptor, field: value}, "compute_names": "host"}).replace(
                "Infinity", "1e400")
            r = admin.post("/chris-admin/api/v1/", body, content_type=JSON, HTTP_ACCEPT=JSON)
            assert r.status_code == 400, (field, r.content)
            assert field in r.content.decode()
    assert not Plugin.objects.filter(meta__name="pl-huge").exists()
