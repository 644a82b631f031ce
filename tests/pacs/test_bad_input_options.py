"""OPTIONS on a PACS query: an answer, not a 500. DRF's OPTIONS asks the view's get_object() whether the
PUT it describes is allowed; PacsQueryDetail reached its query through selectors.access_query_by_id in
get/put only, so GenericAPIView's get_object asserted a queryset the view does not have. Its own
get_object asks the selector for write access: the owner is offered PUT, another PACS user is not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db
def test_options_on_a_pacs_query_is_an_answer(system: Any, make_user: Any) -> None:
    from rest_framework.test import APIClient

    from pacs.models import PACSQuery
    from pacs.services.nodes import pacs_create

    alice, carol = make_user("alice"), make_user("carol")
    node = pacs_create(identifier="ORTHANC", aet="ORTHANC", host="127.0.0.1", port=4242)
    query = PACSQuery.objects.create(title="q", query={"PatientID": "1"}, execute=False, pacs=node, owner=alice)
    offered = {}
    for who, user in (("alice", alice), ("carol", carol), ("chris", system), ("anon", None)):
        client = APIClient()
        client.force_authenticate(user)
        # DRF describes the view to whoever asks; only the PUT it offers depends on the object.
        for pk in (query.id, 10**6):
            r = client.options(f"/api/v1/pacs/queries/{pk}/", HTTP_ACCEPT="application/json")
            assert r.status_code == 200, (who, pk, r.status_code, r.content)
            assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
            offered[who, pk == query.id] = "PUT" in r.json().get("actions", {})
    assert offered == {("alice", True): True, ("carol", True): False, ("chris", True): True, ("anon", True): False,
                       ("alice", False): False, ("carol", False): False, ("chris", False): False,
                       ("anon", False): False}
