"""The wiki's PACS workflow over HTTP against a real Orthanc, a real Celery worker and our listener:
register the PACS, query by PatientID, retrieve (C-MOVE and C-GET), find the series by PatientID and by
Modality, list its files, download one and read it back as DICOM; then the failures, with their reasons
visible through the API."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from pydicom import dcmread

from .conftest import OUR_AET, Api, register_orthanc, run_query, wait_for


def finished(body: dict[str, Any]) -> bool:
    return body["status"] in ("succeeded", "errored")


def retrieve(api: Api, query: dict[str, Any], client: Any = None) -> dict[str, Any]:
    client = client or api.alice
    r = client.post(query["retrieve_list"])
    assert r.status_code == 201, r.text
    assert r.json()["status"] in ("created", "sent", "succeeded")
    return wait_for(lambda: client.get(r.json()["url"]).json(), finished)


@pytest.mark.django_db(transaction=True)
def test_query_retrieve_find_download_by_move_then_get(api_live: Api) -> None:
    loaded = api_live.orthanc
    pacs = register_orthanc(api_live)
    assert pacs["folder_path"] == "SERVICES/PACS/ORTHANC" and pacs["retrieve_method"] == "move"
    listed = api_live.alice.get("/api/v1/pacs/").json()
    assert [p["identifier"] for p in listed["results"]] == ["ORTHANC"]
    echo = api_live.alice.get(pacs["echo"]).json()
    assert echo["ok"] is True, echo

    # Query by PatientID: two studies, three series, as loaded.
    patient, study, t1 = loaded.series("T1 SAG")
    query = run_query(api_live.alice, pacs, "doe john", {"PatientID": patient.patient_id})
    assert query["status"] == "succeeded", query
    studies = query["result_json"]
    assert sorted(s["StudyInstanceUID"] for s in studies) == sorted(s.uid for s in patient.studies)
    assert sum(len(s["series"]) for s in studies) == 3
    assert json.loads(query["query"]) == {"PatientID": patient.patient_id}

    # Retrieve by C-MOVE: every series of the query, expected and received counts equal at the end.
    done = retrieve(api_live, query)
    assert done["status"] == "succeeded", done
    assert done["expected"] == done["received"] == 12
    assert {s["status"] for s in done["series"]} == {"done"}

    # Find the series by PatientID and by Modality.
    by_patient = api_live.alice.get(f"/api/v1/pacs/series/search/?PatientID={patient.patient_id}").json()
    assert by_patient["count"] == 3
    mr = api_live.alice.get(f"/api/v1/pacs/series/search/?PatientID={patient.patient_id}&Modality=MR").json()
    assert sorted(s["SeriesDescription"] for s in mr["results"]) == ["T1 SAG", "T2 AX"]
    series = next(s for s in mr["results"] if s["SeriesInstanceUID"] == t1.uid)
    assert series["ndicom"] == 5 and series["pacs_identifier"] == "ORTHANC"
    assert series["StudyDate"] == "2024-01-10" and series["PatientName"] == "DOE^JOHN"
    assert series["folder_path"].startswith("SERVICES/PACS/ORTHANC/CUBETEST-001-DOE_JOHN-19700101/")

    # List its files (current search, and the classic one by DICOM field), download one, read it back.
    files = api_live.alice.get(series["files"]).json()
    assert files["count"] == 5
    classic = api_live.alice.get(f"/api/v1/pacsfiles/search/?SeriesInstanceUID={t1.uid}").json()
    assert sorted(f["fname"] for f in classic["results"]) == sorted(f["fname"] for f in files["results"])
    item = files["results"][0]
    assert item["PatientID"] == patient.patient_id and item["SeriesInstanceUID"] == t1.uid
    blob = api_live.alice.get(item["file_resource"])
    assert blob.status_code == 200
    ds = dcmread(io.BytesIO(blob.content))
    assert ds.SOPInstanceUID in t1.sop_uids
    assert item["fname"].endswith(f"/{ds.SOPInstanceUID}.dcm")

    # The same node by C-GET: another patient's series arrive without our listener being involved.
    r = api_live.admin.put(f"/chris-admin/api/v1/pacs/{pacs['id']}/", {"retrieve_method": "get"})
    assert r.status_code == 200 and r.json()["retrieve_method"] == "get", r.text
    jane, _, pd = loaded.series("PD COR")
    query2 = run_query(api_live.alice, pacs, "jane", {"PatientID": jane.patient_id})
    done2 = retrieve(api_live, query2)
    assert done2["status"] == "succeeded" and done2["received"] == done2["expected"] == 2, done2
    got = api_live.alice.get(f"/api/v1/pacs/files/search/?SeriesInstanceUID={pd.uid}").json()
    assert got["count"] == 2

    # Retrieving again is idempotent: nothing is registered twice.
    again = retrieve(api_live, query2)
    assert again["status"] == "succeeded"
    assert api_live.alice.get(f"/api/v1/pacs/files/search/?SeriesInstanceUID={pd.uid}").json()["count"] == 2


@pytest.mark.django_db(transaction=True)
def test_failing_retrieves_say_why(api_live: Api, settings: Any) -> None:
    loaded = api_live.orthanc
    pacs = register_orthanc(api_live)
    smith, _, _ = loaded.series("ABD 3MM")
    query = run_query(api_live.alice, pacs, "smith", {"PatientID": smith.patient_id})
    assert query["status"] == "succeeded"

    # Unknown destination: we call the PACS as a known AE but ask it to move to an AE it does not know.
    api_live.admin.put(f"/chris-admin/api/v1/pacs/{pacs['id']}/", {"calling_aet": OUR_AET})
    settings.CUBE_DICOM_AET = "NOSUCHDEST"
    failed = retrieve(api_live, query)
    assert failed["status"] == "errored"
    assert "NOSUCHDEST" in failed["status_message"] and "registered on the PACS" in failed["status_message"]
    assert failed["series"][0]["status"] == "error"

    # A destination the PACS knows, where no listener runs: the PACS cannot deliver, and we say so.
    from tests.support.orthanc import free_port

    loaded.orthanc.add_modality("deadscp", "DEADSCP", "127.0.0.1", free_port())
    settings.CUBE_DICOM_AET = "DEADSCP"
    undelivered = retrieve(api_live, query)
    assert undelivered["status"] == "errored"
    assert "is the DICOM listener" in undelivered["status_message"], undelivered
    settings.CUBE_DICOM_AET = OUR_AET

    # PACS down: nothing listens where the node says it is.
    api_live.admin.put(f"/chris-admin/api/v1/pacs/{pacs['id']}/", {"port": free_port()})
    down = retrieve(api_live, query)
    assert down["status"] == "errored"
    assert "could not connect" in down["status_message"] and "refused" in down["status_message"].lower()
    down_query = run_query(api_live.alice, pacs, "smith again", {"PatientID": smith.patient_id})
    assert down_query["status"] == "errored" and "could not connect" in down_query["status_message"]
    echo = api_live.alice.get(pacs["echo"]).json()
    assert echo["ok"] is False and "could not connect" in echo["message"]

    # A retrieve of a query that did not succeed is refused at once, with the query's reason.
    r = api_live.alice.post(down_query["retrieve_list"])
    assert r.status_code == 400 and "could not connect" in r.text


@pytest.mark.django_db(transaction=True)
def test_progress_stream_and_permissions(api_live: Api) -> None:
    loaded = api_live.orthanc
    pacs = register_orthanc(api_live)
    _, _, chest = loaded.series("CHEST 5MM")
    query = run_query(api_live.alice, pacs, "chest", {"SeriesInstanceUID": chest.uid,
                                                      "StudyInstanceUID": loaded.series("CHEST 5MM")[1].uid})
    assert query["status"] == "succeeded" and len(query["result_json"][0]["series"]) == 1

    # Opened as soon as the retrieve is created: the series' LONK messages as they change, then the
    # retrieve's outcome, then the stream ends by itself.
    created = api_live.alice.post(query["retrieve_list"]).json()
    r = api_live.alice.get(created["progress"], headers={"Accept": "text/event-stream"}, stream=True)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    events = [line for line in r.iter_lines(decode_unicode=True) if line.startswith(("data:", "event:"))]
    payloads = [json.loads(line[5:]) for line in events if line.startswith("data:")]
    assert {"pacs_name": "ORTHANC", "SeriesInstanceUID": chest.uid, "message": {"done": True}} in payloads
    assert "event: retrieve" in events
    assert payloads[-1]["status"] == "succeeded" and payloads[-1]["received"] == 4
    done = api_live.alice.get(created["url"]).json()
    assert done["status"] == "succeeded"
    # CUBE's form, by series; a one-time download token works where headers cannot be sent.
    token = api_live.alice.post("/api/v1/downloadtokens/").json()["token"]
    r = api_live.anon.get(f"/api/v1/pacs/sse/?pacs_name=ORTHANC&series_uids={chest.uid}&download_token={token}",
                          stream=True, headers={"Accept": "text/event-stream"})
    assert r.status_code == 200
    assert any('"done": true' in line for line in r.iter_lines(decode_unicode=True))

    # Someone outside pacs_users is refused everywhere; anonymous users must sign in.
    for path in ("/api/v1/pacs/", f"/api/v1/pacs/{pacs['id']}/", "/api/v1/pacs/series/", "/api/v1/pacs/files/",
                 "/api/v1/pacsfiles/", query["url"], done["url"], f"{done['progress']}",
                 "/api/v1/pacs/series/search/?PatientID=CUBETEST-001"):
        assert api_live.bob.get(path).status_code == 403, path
        assert api_live.anon.get(path).status_code == 401, path
    assert api_live.bob.post(pacs["query_list"], {"title": "x", "query": {"PatientID": "1"}}).status_code == 403
    # alice may not delete series (only the superuser), nor change another user's query.
    series = api_live.alice.get(f"/api/v1/pacs/series/search/?SeriesInstanceUID={chest.uid}").json()["results"][0]
    assert api_live.alice.delete(series["url"]).status_code == 403
    mine = api_live.admin.post(pacs["query_list"], {"title": "chris's", "query": {"PatientID": "x"},
                                                    "execute": False}).json()
    assert api_live.alice.put(mine["url"], {"title": "taken over"}).status_code == 403
    assert api_live.alice.get(mine["url"]).status_code == 200  # pacs_users read every query, as CUBE

    # The superuser deletes a series: 202, then its files and its index row are gone.
    assert api_live.admin.delete(series["url"]).status_code == 202
    wait_for(lambda: {"code": api_live.admin.get(series["url"]).status_code}, lambda b: b["code"] == 404)
    assert api_live.alice.get(f"/api/v1/pacs/files/search/?SeriesInstanceUID={chest.uid}").json()["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_feed_from_a_retrieved_series(api_live: Api) -> None:
    loaded = api_live.orthanc
    pacs = register_orthanc(api_live)
    jane, _, pd = loaded.series("PD COR")
    done = retrieve(api_live, run_query(api_live.alice, pacs, "jane", {"PatientID": jane.patient_id}))
    assert done["status"] == "succeeded"
    series = api_live.alice.get(f"/api/v1/pacs/series/search/?SeriesInstanceUID={pd.uid}").json()["results"][0]
    dircopy = api_live.alice.get("/api/v1/plugins/search/?name_exact=pl-dircopy").json()["results"][0]["id"]
    r = api_live.alice.post(f"/api/v1/plugins/{dircopy}/instances/", {"dir": series["folder_path"],
                                                                       "title": "from PACS"})
    assert r.status_code == 201, r.text
    inst = wait_for(lambda: api_live.alice.get(r.json()["url"]).json(),
                    lambda b: b["status"] in ("finishedSuccessfully", "finishedWithError"))
    assert inst["status"] == "finishedSuccessfully", inst
    outputs = api_live.alice.get(f"/api/v1/plugins/instances/{inst['id']}/files/").json()
    dcms = [f for f in outputs["results"] if f["fname"].endswith(".dcm")]
    assert len(dcms) == 2
    blob = api_live.alice.get(dcms[0]["file_resource"]).content
    assert dcmread(io.BytesIO(blob)).SOPInstanceUID in pd.sop_uids
    # bob (not in pacs_users) cannot use the PACS folder as input.
    bob_try = api_live.bob.post(f"/api/v1/plugins/{dircopy}/instances/", {"dir": series["folder_path"]})
    assert bob_try.status_code == 400 and "permission" in bob_try.text
