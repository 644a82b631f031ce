"""The DICOM index: series search with CUBE's filters plus Modality and StudyDate ranges, file search by
path (CUBE 6) and by DICOM fields (classic), both on the files' one representation, and list pages whose
query count does not grow with their size."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import json_of

JSON = "application/json"

SERIES = [
    # PatientID, name, birth, age, sex, study date, accession, modality, protocol, study, series desc, n files
    ("P1", "DOE^JOHN", "19700101", "054Y", "M", "20240110", "ACC1", "MR", "t1_mprage", "BRAIN MRI", "T1 SAG", 3),
    ("P1", "DOE^JOHN", "19700101", "054Y", "M", "20240110", "ACC1", "MR", "t2_tse", "BRAIN MRI", "T2 AX", 2),
    ("P1", "DOE^JOHN", "19700101", "054Y", "M", "20240305", "ACC2", "CT", "chest", "CHEST CT", "CHEST 5MM", 2),
    ("P2", "ROE^JANE", "19850615", "038Y", "F", "20230615", "ACC3", "MR", "pd", "KNEE MRI", "PD COR", 1),
    ("P3", "SMITH^ALICE", "20200101", "030M", "F", "20221231", "ACC4", "CT", "abd", "ABDOMEN CT", "ABD 3MM", 4),
]


@pytest.fixture
def index(system: Any) -> dict[str, Any]:
    """Five series in two nodes, registered through the ingest code path (storage + register_batch)."""
    from pydicom.uid import generate_uid

    from cube.storage import get_storage
    from pacs.services.nodes import pacs_create
    from pacs.services.registry import NodeRef, _Batch, _SeriesBatch, register_batch, series_folder_path

    nodes = [pacs_create(identifier=name, aet=name, host="127.0.0.1", port=104) for name in ("NODE_A", "NODE_B")]
    storage = get_storage()
    batch = _Batch()
    uids = {}
    for i, row in enumerate(SERIES):
        pid, name, birth, age, sex, date, acc, modality, protocol, study, desc, n = row
        node = nodes[0] if i < 4 else nodes[1]
        meta = {"PatientID": pid, "PatientName": name, "PatientBirthDate": birth, "PatientAge": age,
                "PatientSex": sex, "StudyDate": date, "AccessionNumber": acc, "Modality": modality,
                "ProtocolName": protocol, "StudyInstanceUID": f"1.2.{pid}.{date}", "StudyDescription": study,
                "SeriesInstanceUID": generate_uid(), "SeriesDescription": desc, "SeriesNumber": i + 1}
        uids[desc] = meta["SeriesInstanceUID"]
        folder = series_folder_path(node.identifier, meta)
        entry = _SeriesBatch(NodeRef(node.id, node.identifier), folder, meta)
        for k in range(n):
            key = f"{folder}/{generate_uid()}.dcm"
            stored = storage.save(key, [b"DICM" * (k + 1)])
            entry.objects[key] = (key, stored.size, stored.md5)
        batch.series[(node.id, str(meta["SeriesInstanceUID"]))] = entry
    assert register_batch(batch) == 12
    return {"nodes": nodes, "uids": uids}


@pytest.fixture
def alice(api: Any, make_user: Any) -> Any:
    api.force_authenticate(make_user("alice"))
    return api


def descs(api: Any, qs: str, url: str = "/api/v1/pacs/series/search/") -> list[str]:
    r = api.get(f"{url}?{qs}", HTTP_ACCEPT=JSON)
    assert r.status_code == 200, r.content
    return sorted(s["SeriesDescription"] for s in json_of(r)["results"])


def test_series_search(alice: Any, index: dict[str, Any]) -> None:
    api = alice
    assert descs(api, "PatientID=P1") == ["CHEST 5MM", "T1 SAG", "T2 AX"]
    assert descs(api, "PatientName=doe") == ["CHEST 5MM", "T1 SAG", "T2 AX"]
    assert descs(api, "PatientID=P1&Modality=mr") == ["T1 SAG", "T2 AX"]
    assert descs(api, "Modality=CT") == ["ABD 3MM", "CHEST 5MM"]
    assert descs(api, "PatientSex=F") == ["ABD 3MM", "PD COR"]
    assert descs(api, "StudyDate=2024-01-10") == descs(api, "StudyDate=20240110") == ["T1 SAG", "T2 AX"]
    assert descs(api, "min_StudyDate=20230101&max_StudyDate=2024-01-31") == ["PD COR", "T1 SAG", "T2 AX"]
    assert descs(api, "PatientBirthDate=19850615") == ["PD COR"]
    # PatientAge in days, as CUBE: 30 months is about 913 days, 38 years about 13879.
    assert descs(api, "max_PatientAge=1000") == ["ABD 3MM"]
    assert descs(api, "min_PatientAge=13000&max_PatientAge=14000") == ["PD COR"]
    assert descs(api, "AccessionNumber=ACC2") == ["CHEST 5MM"]
    assert descs(api, "ProtocolName=MPRAGE") == ["T1 SAG"]
    assert descs(api, "StudyDescription=mri") == ["PD COR", "T1 SAG", "T2 AX"]
    assert descs(api, "SeriesDescription=5mm") == ["CHEST 5MM"]
    assert descs(api, f"SeriesInstanceUID={index['uids']['PD COR']}") == ["PD COR"]
    assert descs(api, "StudyInstanceUID=1.2.P1.20240305") == ["CHEST 5MM"]
    assert descs(api, "pacs_identifier=NODE_B") == ["ABD 3MM"]
    assert descs(api, f"pacs_id={index['nodes'][0].id}&Modality=CT") == ["CHEST 5MM"]
    assert descs(api, "deletion_status=inactive&PatientID=P2") == ["PD COR"]
    assert descs(api, "unknown_parameter=1&PatientID=P3") == ["ABD 3MM"]
    r = api.get("/api/v1/pacs/series/search/?StudyDate=10/01/2024", HTTP_ACCEPT=JSON)
    assert r.status_code == 400
    node_a = index["nodes"][0]
    by_node = json_of(api.get(f"/api/v1/pacs/{node_a.id}/series/", HTTP_ACCEPT=JSON))
    assert by_node["count"] == 4
    one = json_of(api.get("/api/v1/pacs/series/search/?SeriesDescription=T1", HTTP_ACCEPT=JSON))["results"][0]
    assert one["ndicom"] == 3 and one["PatientAge"] == round(54 * 365.24) and one["SeriesNumber"] == 1
    assert one["folder_path"] == "SERVICES/PACS/NODE_A/P1-DOE_JOHN-19700101-054Y/BRAIN_MRI-ACC1-20240110/" \
        f"00001-T1_SAG-{one['folder_path'][-8:]}"


def test_file_search_both_generations(alice: Any, index: dict[str, Any]) -> None:
    api = alice
    t1 = json_of(api.get("/api/v1/pacs/series/search/?SeriesDescription=T1", HTTP_ACCEPT=JSON))["results"][0]
    current = json_of(api.get(f"/api/v1/pacs/files/search/?fname={t1['folder_path']}/", HTTP_ACCEPT=JSON))
    assert current["count"] == 3
    item = current["results"][0]
    # One representation: CUBE 6's fields and the classic DICOM ones.
    assert {"fname", "fsize", "public", "owner_username", "file_resource", "parent_folder", "owner"} <= set(item)
    assert item["PatientID"] == "P1" and item["Modality"] == "MR" and item["pacs_identifier"] == "NODE_A"
    assert item["StudyDate"] == "2024-01-10" and item["owner_username"] == "chris"
    assert item["series"] == t1["url"]
    classic = json_of(api.get(f"/api/v1/pacsfiles/search/?SeriesInstanceUID={t1['SeriesInstanceUID']}",
                              HTTP_ACCEPT=JSON))
    assert sorted(f["id"] for f in classic["results"]) == sorted(f["id"] for f in current["results"])
    assert classic["results"][0]["url"].endswith(f"/api/v1/pacsfiles/{classic['results'][0]['id']}/")
    # Path filters and DICOM filters on both URLs.
    for url in ("/api/v1/pacs/files/search/", "/api/v1/pacsfiles/search/"):
        def count(qs: str, url: str = url) -> int:
            r = api.get(f"{url}?{qs}", HTTP_ACCEPT=JSON)
            assert r.status_code == 200, r.content
            return int(json_of(r)["count"])

        assert count("PatientID=P1") == 7
        assert count("PatientID=P1&Modality=CT") == 2
        assert count("fname_icontains=doe_john") == 7
        assert count("fname_icontains_multiple=knee pd_cor") == 1
        assert count("pacs_identifier=NODE_B") == 4
        assert count("min_StudyDate=20240101") == 7
        assert count(f"fname_exact={item['fname']}") == 1
        assert count("fname_nslashes=6") == 12
        # One file per patient folder: P1 and P2 under NODE_A.
        assert count("fname_icontains_topdir_unique=NODE_A") == 2
    service = json_of(api.get("/api/v1/servicefiles/search/?service_identifier=PACS", HTTP_ACCEPT=JSON))
    assert service["count"] == 12 and service["results"][0]["service_identifier"] == "PACS"


def test_download_and_bounded_queries(alice: Any, index: dict[str, Any]) -> None:
    api = alice
    page = json_of(api.get("/api/v1/pacs/files/?limit=2", HTTP_ACCEPT=JSON))
    r = api.get(page["results"][0]["file_resource"])
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"DICM")
    r = api.get(page["results"][0]["file_resource"].replace("/pacs/files/", "/pacsfiles/"))
    assert r.status_code == 200

    # Pages (ids first, then their rows) follow the list's order (by path) without gaps or repeats.
    whole = [f["fname"] for f in json_of(api.get("/api/v1/pacs/files/?limit=12", HTTP_ACCEPT=JSON))["results"]]
    paged = [f["fname"] for offset in range(0, 12, 5) for f in
             json_of(api.get(f"/api/v1/pacs/files/?limit=5&offset={offset}", HTTP_ACCEPT=JSON))["results"]]
    assert whole == paged == sorted(whole) and len(whole) == 12

    def queries_for(url: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert api.get(url, HTTP_ACCEPT=JSON).status_code == 200
        return len(ctx.captured_queries)

    for base in ("/api/v1/pacs/files/", "/api/v1/pacsfiles/", "/api/v1/pacs/series/", "/api/v1/pacs/queries/",
                 "/api/v1/pacs/"):
        sep = "&" if "?" in base else "?"
        assert queries_for(f"{base}{sep}limit=2") == queries_for(f"{base}{sep}limit=12"), base
