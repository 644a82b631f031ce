"""A PACS node whose host does not resolve: echo answers ``ok: false`` with the reason, as it does for a
host that refuses the connection, instead of letting socket.gaierror out as a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CJ, json_of


@pytest.mark.django_db
def test_echo_of_a_node_whose_host_does_not_resolve_is_an_answer(system: Any) -> None:
    from rest_framework.test import APIClient

    admin = APIClient()
    admin.force_authenticate(system)
    r = admin.post("/chris-admin/api/v1/pacs/", {"identifier": "NOWHERE", "host": "no-such-host.invalid",
                                                 "port": 4242, "aec": "ORTHANC", "aet": "NOWHERE"},
                   format="json", HTTP_ACCEPT="application/json")
    assert r.status_code == 201, r.content
    echo_url = json_of(r)["echo"]
    for method in ("get", "post"):
        r = getattr(admin, method)(echo_url, HTTP_ACCEPT="application/json")
        assert r.status_code == 200, r.content
        body = json_of(r)
        assert body["ok"] is False and body["host"] == "no-such-host.invalid"
        assert body["message"]
    r = admin.get(echo_url, HTTP_ACCEPT=CJ)
    assert r.status_code == 200
