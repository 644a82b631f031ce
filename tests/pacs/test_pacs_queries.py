"""PACS queries: what a POST accepts (JSON, Collection+JSON and form bodies; the query as an object or a
JSON string), the 400s for malformed JSON and unknown keys, PUT's execute rule, search, and the result in
CUBE's encoding beside plain JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction

from tests.conftest import CJ, json_of

JSON = "application/json"


@pytest.fixture
def node(system: Any) -> Any:
    from pacs.services.nodes import pacs_create

    return pacs_create(identifier="ORTHANC", aet="ORTHANC", host="127.0.0.1", port=4242)


@pytest.fixture
def alice(make_user: Any) -> Any:
    return make_user("alice")


def post(api: Any, node: Any, body: Any, fmt: str = "json", **extra: Any) -> Any:
    return api.post(f"/api/v1/pacs/{node.id}/queries/", body, format=fmt, HTTP_ACCEPT=JSON, **extra)


def test_create_validates_the_query(api: Any, node: Any, alice: Any) -> None:
    api.force_authenticate(alice)
    r = post(api, node, {"title": "t", "query": {"PatientID": "1", "StudyDate": "20240101-20240131",
                                                 "Modality": "MR"}, "execute": False})
    assert r.status_code == 201, r.content
    body = json_of(r)
    assert body["status"] == "created" and body["execute"] is False and body["owner_username"] == "alice"
    assert json.loads(body["query"]) == {"PatientID": "1", "StudyDate": "20240101-20240131", "Modality": "MR"}
    assert body["pacs_identifier"] == "ORTHANC" and body["retrieve_list"].endswith(f"/{body['id']}/retrieves/")

    bad = {
        "malformed JSON": {"title": "a", "query": '{"PatientID": '},
        "not an object": {"title": "b", "query": "[1, 2]"},
        "unknown key": {"title": "c", "query": {"PatientID": "1", "Nonsense": "x"}},
        "bad date": {"title": "d", "query": {"StudyDate": "2024-01-01"}},
        "instance-level key": {"title": "e", "query": {"SOPInstanceUID": "1.2"}},
        "no query": {"title": "f"},
        "no title": {"query": {"PatientID": "1"}},
        "title taken": {"title": "t", "query": {"PatientID": "2"}, "execute": False},
        "execute not a boolean": {"title": "g", "query": {"PatientID": "1"}, "execute": "maybe"},
    }
    for case, payload in bad.items():
        r = post(api, node, payload)
        assert r.status_code == 400, (case, r.content)
    assert "Nonsense" in post(api, node, bad["unknown key"]).content.decode()
    assert "Not valid JSON" in post(api, node, bad["malformed JSON"]).content.decode()

    # What CJ and form clients send: the query as a JSON string.
    cj = {"template": {"data": [{"name": "title", "value": "cj"},
                                {"name": "query", "value": json.dumps({"PatientName": "DOE*"})},
                                {"name": "execute", "value": False}]}}
    r = api.post(f"/api/v1/pacs/{node.id}/queries/", json.dumps(cj), content_type=CJ, HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
    assert json.loads(json_of(r)["query"]) == {"PatientName": "DOE*"}
    r = post(api, node, {"title": "form", "query": '{"AccessionNumber": "A1"}', "execute": "false"}, fmt="multipart")
    assert r.status_code == 201, r.content
    assert json_of(api.get(f"/api/v1/pacs/{node.id}/queries/", HTTP_ACCEPT=JSON))["count"] == 3


def test_put_rules_and_owner_only_writes(api: Any, node: Any, alice: Any, make_user: Any,
                                         django_capture_on_commit_callbacks: Any) -> None:
    api.force_authenticate(alice)
    q = json_of(post(api, node, {"title": "later", "query": {"PatientID": "1"}, "execute": False}))
    url = f"/api/v1/pacs/queries/{q['id']}/"
    r = api.put(url, {"title": "renamed", "description": "for a study", "query": {"PatientID": "ignored"}},
                format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200
    assert json_of(r)["title"] == "renamed" and json.loads(json_of(r)["query"]) == {"PatientID": "1"}
    from pacs.tasks import query_task

    sent: list[Any] = []
    original = query_task.apply_async
    query_task.apply_async = lambda *a, **kw: sent.append((a, kw))  # type: ignore[method-assign]
    try:
        with django_capture_on_commit_callbacks(execute=True):
            r = api.put(url, {"execute": True}, format="json", HTTP_ACCEPT=JSON)
    finally:
        query_task.apply_async = original  # type: ignore[method-assign]
    assert r.status_code == 200 and json_of(r)["execute"] is True
    assert sent and sent[0][1]["args"] == [q["id"]]  # false → true runs it
    r = api.put(url, {"execute": False}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "true to false" in r.content.decode()

    carol = make_user("carol")
    api.force_authenticate(carol)
    assert api.get(url, HTTP_ACCEPT=JSON).status_code == 200  # pacs_users read every query
    assert api.put(url, {"title": "mine"}, format="json", HTTP_ACCEPT=JSON).status_code == 403
    assert api.delete(url).status_code == 403
    assert api.post(f"{url}retrieves/", {}, format="json", HTTP_ACCEPT=JSON).status_code == 403
    api.force_authenticate(alice)
    r = api.post(f"{url}retrieves/", {}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "succeeded query" in r.content.decode()  # not run yet
    assert api.delete(url).status_code == 204


def test_search(api: Any, node: Any, alice: Any, make_user: Any) -> None:
    api.force_authenticate(alice)
    for title in ("brain scan", "knee", "Brain follow-up"):
        post(api, node, {"title": title, "query": {"PatientID": "1"}, "execute": False})
    api.force_authenticate(make_user("carol"))
    post(api, node, {"title": "brain (carol)", "query": {"PatientID": "2"}, "execute": False})

    def titles(qs: str) -> list[str]:
        r = api.get(f"/api/v1/pacs/queries/search/?{qs}", HTTP_ACCEPT=JSON)
        assert r.status_code == 200
        return sorted(q["title"] for q in json_of(r)["results"])

    assert titles("title=brain") == ["Brain follow-up", "brain (carol)", "brain scan"]
    assert titles("title=brain&owner_username=alice") == ["Brain follow-up", "brain scan"]
    assert titles("title_exact=knee") == ["knee"]
    assert titles("pacs_identifier=ORTHANC&status=created") == titles(f"pacs_id={node.id}")
    assert titles("pacs_identifier=NOPE") == []


@pytest.mark.django_db(transaction=True)
def test_result_in_cube_encoding_and_plain_json(system: Any, pacs_server: Any, dicom_settings: Any) -> None:
    from pacs.models import PACSQuery
    from pacs.services.nodes import pacs_create
    from pacs.services.queries import decode_result, query_create, query_run

    orthanc = pacs_server.orthanc
    node = pacs_create(identifier="ORTHANC", aet=orthanc.aet, host=orthanc.host, port=orthanc.dicom_port)
    patient, study, series = pacs_server.series("T2 AX")
    with transaction.atomic():
        q = query_create(owner=system, pacs=node, title="t2", query={"PatientID": patient.patient_id,
                                                                     "Modality": "MR"}, execute=False)
    PACSQuery.objects.filter(pk=q.pk).update(execute=True)
    query_run(q.pk)
    q.refresh_from_db()
    assert q.status == "succeeded", q.status_message
    # Plain: one study (the CT study has no MR series), its two MR series with their instance counts.
    assert [s["StudyInstanceUID"] for s in q.result_json] == [study.uid]
    counts = {s["SeriesDescription"]: s["NumberOfSeriesRelatedInstances"] for s in q.result_json[0]["series"]}
    assert counts == {"T1 SAG": 5, "T2 AX": 3}
    # CUBE's: base64(zlib(JSON)) in pypx's shape, each attribute {tag, value, label}.
    decoded = decode_result(q.result)
    assert decoded[0]["PatientID"] == {"tag": "0x0010,0x0020", "value": patient.patient_id, "label": "PatientID"}
    uids = {s["SeriesInstanceUID"]["value"] for s in decoded[0]["series"]}
    assert series.uid in uids and len(uids) == 2
    assert {s["NumberOfSeriesRelatedInstances"]["value"] for s in decoded[0]["series"]} == {"5", "3"}


def test_event_stream_sends_changes_only_and_ends() -> None:
    from pacs import sse

    states = iter([
        ({"1.2": {"message": {"ndicom": 0}}, "retrieve": {"status": "sent"}}, False),
        ({"1.2": {"message": {"ndicom": 0}}, "retrieve": {"status": "sent"}}, False),
        ({"1.2": {"message": {"ndicom": 3}}, "retrieve": {"status": "sent"}}, False),
        ({"1.2": {"message": {"done": True}}, "retrieve": {"status": "succeeded"}}, True),
    ])
    frames = list(sse.event_stream(lambda: next(states), poll=0))
    assert frames[0] == b"retry: 2000\n\n"
    body = b"".join(frames[1:]).decode()
    assert body.count('"ndicom": 0') == 1 and body.count('"ndicom": 3') == 1  # unchanged states are not resent
    assert body.count("event: retrieve\n") == 2 and body.endswith('data: {"status": "succeeded"}\n\n')
