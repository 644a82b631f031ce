"""C-ECHO and C-FIND against a real Orthanc, and the failures a user must be able to read."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest

from pacs.dicom import (
    DicomAssociationError,
    DicomConnectionError,
    PacsNode,
    echo,
    find,
    query_studies_and_series,
)
from pacs.dicom._transport import TunedAssociationSocket
from tests.support.orthanc import free_port

from .conftest import LoadedPacs


def test_echo_ok_with_round_trip_time(pacs: LoadedPacs) -> None:
    results = [echo(pacs.node) for _ in range(5)]
    assert all(r.ok and r.status == 0 for r in results), results
    assert "answered C-ECHO" in results[0].message
    best = min(r.rtt_ms for r in results)
    # With Nagle on (no TCP_NODELAY) every exchange costs a ~40 ms delayed ACK.
    assert 0 < best < 30, results


def test_sockets_have_tcp_nodelay(pacs: LoadedPacs) -> None:
    from pacs.dicom.node import association
    from pacs.dicom.scu import Verification, build_context

    with association(pacs.node, [build_context(Verification)], "Verification") as assoc:
        sock = assoc.dul.socket
        assert isinstance(sock, TunedAssociationSocket)
        assert sock.socket is not None
        assert sock.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_echo_to_closed_port_says_connection_refused(pacs: LoadedPacs) -> None:
    node = replace(pacs.node, port=free_port())
    result = echo(node)
    assert not result.ok
    assert result.status is None
    assert f"127.0.0.1:{node.port}" in result.message
    assert "refused" in result.message.lower()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts and never says anything: not a DICOM node."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    srv.close()


def test_echo_to_a_silent_server_times_out_with_a_reason(pacs: LoadedPacs, silent_server: int) -> None:
    node = replace(pacs.node, port=silent_server, acse_timeout=1.0)
    result = echo(node)
    assert not result.ok
    assert "did not answer the association request within 1 s" in result.message


def test_find_with_closed_port_raises_connection_error(pacs: LoadedPacs) -> None:
    with pytest.raises(DicomConnectionError, match="Connection refused"):
        find(replace(pacs.node, port=free_port()), "STUDY", {"PatientID": "*"})


def test_find_from_an_unknown_calling_aet_is_an_error_not_an_empty_list(pacs: LoadedPacs) -> None:
    node = replace(pacs.node, calling_aet="NOBODY")
    with pytest.raises(DicomAssociationError, match="'NOBODY'"):
        find(node, "STUDY", {"PatientID": "CUBETEST-001"})


def test_find_studies_by_patient_id(pacs: LoadedPacs) -> None:
    studies = find(pacs.node, "STUDY", {"PatientID": "CUBETEST-001"})
    expected = {s.uid: s for s in pacs.patients[0].studies}
    assert {s["StudyInstanceUID"] for s in studies} == set(expected)
    for study in studies:
        spec = expected[str(study["StudyInstanceUID"])]
        assert study["PatientName"] == "DOE^JOHN"
        assert study["StudyDate"] == spec.date
        assert study["NumberOfStudyRelatedSeries"] == len(spec.series)
        assert study["NumberOfStudyRelatedInstances"] == sum(s.instances for s in spec.series)
        assert study["ModalitiesInStudy"] == sorted({s.modality for s in spec.series})


def test_find_series_by_modality(pacs: LoadedPacs) -> None:
    series = find(pacs.node, "SERIES", {"Modality": "CT", "PatientID": "CUBETEST-*"})
    expected = {
        s.uid: s for p in pacs.patients for st in p.studies for s in st.series if s.modality == "CT"
    }
    assert {s["SeriesInstanceUID"] for s in series} == set(expected)
    for row in series:
        spec = expected[str(row["SeriesInstanceUID"])]
        assert row["Modality"] == "CT"
        assert row["SeriesDescription"] == spec.description
        assert row["NumberOfSeriesRelatedInstances"] == spec.instances


def test_find_by_study_date_range(pacs: LoadedPacs) -> None:
    studies = find(pacs.node, "STUDY", {"StudyDate": "20240101-20240131", "PatientID": "CUBETEST-*"})
    assert sorted(str(s["StudyDescription"]) for s in studies) == ["ABDOMEN CT", "BRAIN MRI"]
    assert all("20240101" <= str(s["StudyDate"]) <= "20240131" for s in studies)
    assert find(pacs.node, "STUDY", {"StudyDate": "19000101-19001231"}) == []


def test_find_by_patient_name_wildcard(pacs: LoadedPacs) -> None:
    studies = find(pacs.node, "STUDY", {"PatientName": "DOE*"})
    assert sorted({str(s["PatientID"]) for s in studies}) == ["CUBETEST-001", "CUBETEST-002"]
    assert len(studies) == 3
    assert find(pacs.node, "STUDY", {"PatientName": "SMITH^A*"})[0]["PatientID"] == "CUBETEST-003"


def test_find_instances_of_a_series(pacs: LoadedPacs) -> None:
    _, study, series = pacs.series("T2 AX")
    rows = find(pacs.node, "IMAGE", {"StudyInstanceUID": study.uid, "SeriesInstanceUID": series.uid})
    assert sorted(str(r["SOPInstanceUID"]) for r in rows) == sorted(series.sop_uids)
    assert {r["SOPClassUID"] for r in rows} == {"1.2.840.10008.5.1.4.1.1.4"}


def test_find_unknown_key_raises_before_any_network(pacs: LoadedPacs) -> None:
    offline = PacsNode("NOWHERE", "127.0.0.1", free_port())
    with pytest.raises(ValueError, match="Flavour"):
        find(offline, "STUDY", {"Flavour": "vanilla"})


def test_query_studies_and_series_two_levels(pacs: LoadedPacs) -> None:
    result = query_studies_and_series(pacs.node, {"PatientID": "CUBETEST-001"})
    by_desc = {s["StudyDescription"]: s for s in result}
    assert set(by_desc) == {"BRAIN MRI", "CHEST CT"}
    assert sorted(x["SeriesDescription"] for x in by_desc["BRAIN MRI"]["series"]) == ["T1 SAG", "T2 AX"]
    assert [x["NumberOfSeriesRelatedInstances"] for x in by_desc["CHEST CT"]["series"]] == [4]

    mr_only = query_studies_and_series(pacs.node, {"PatientID": "CUBETEST-*", "Modality": "MR"})
    assert sorted(s["StudyDescription"] for s in mr_only) == ["BRAIN MRI", "KNEE MRI"]
    assert all(x["Modality"] == "MR" for s in mr_only for x in s["series"])

    t2 = query_studies_and_series(pacs.node, {"PatientID": "CUBETEST-001", "SeriesDescription": "T2*"})
    assert [[x["SeriesDescription"] for x in s["series"]] for s in t2] == [["T2 AX"]]


def test_many_finds_on_one_association_lose_no_response(pacs: LoadedPacs, caplog: pytest.LogCaptureFixture) -> None:
    # pynetdicom's requestor reactor can take the first response of a request sent right after
    # another one; query_studies_and_series sends such back-to-back C-FINDs.
    expected = sorted(s.description for p in pacs.patients for s in p.studies)
    for _ in range(25):
        result = query_studies_and_series(pacs.node, {"PatientID": "CUBETEST-*"})
        assert sorted(s["StudyDescription"] for s in result) == expected
        assert all(len(s["series"]) == s["NumberOfStudyRelatedSeries"] for s in result)
    assert "unexpected" not in caplog.text
