"""OPTIONS on a PACS query: an answer, not a 500. DRF's OPTIONS asks the view's get_object() whether the
PUT it describes is allowed; PacsQueryDetail reaches its query through selectors.access_query_by_id in
get/put and has no get_object of its own, so GenericAPIView's asserts a queryset the view does not have.

Not fixed here (pacs/ is being changed by someone else; the fix is a get_object through
selectors.access_query_by_id(..., write=True) in PacsQueryDetail): strict xfail, so fixing it flips this test."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db
@pytest.mark.xfail(strict=True, reason="PacsQueryDetail has no get_object: OPTIONS is a 500 (see the docstring)")
def test_options_on_a_pacs_query_is_an_answer(system: Any) -> None:
    from rest_framework.test import APIClient

    for user in (system, None):
        client = APIClient()
        client.force_authenticate(user)
        r = client.options("/api/v1/pacs/queries/1/", HTTP_ACCEPT="application/json")
        assert r.status_code in (200, 401, 404), r.content
