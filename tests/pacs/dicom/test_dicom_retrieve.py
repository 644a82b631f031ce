"""C-MOVE into our storage SCP and C-GET over our own association, against a real Orthanc."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from pydicom import dcmread

from pacs.dicom import DicomAssociationError, FileSink, RetrieveProgress, get, move

from .conftest import LoadedPacs, Receiver


def _wait(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def _received_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.dcm"))


def test_move_series_into_our_scp(pacs: LoadedPacs, receiver: Receiver) -> None:
    patient, study, series = pacs.series("T1 SAG")
    progress: list[RetrieveProgress] = []
    result = move(
        pacs.node,
        receiver.aet,
        {"StudyInstanceUID": study.uid, "SeriesInstanceUID": series.uid},
        on_progress=progress.append,
    )
    assert result.ok, result.message
    assert (result.status, result.completed, result.failed) == (0, series.instances, 0)
    assert receiver.sink.stored == series.instances
    assert progress and progress[-1].completed <= series.instances
    assert [p.completed for p in progress] == sorted(p.completed for p in progress)

    files = _received_files(receiver.root)
    assert len(files) == series.instances
    series_dir = receiver.root / patient.patient_id / study.uid / series.uid
    assert {f.parent for f in files} == {series_dir}
    read_back = {}
    for path in files:
        ds = dcmread(path)
        assert path.name == f"{ds.SOPInstanceUID}.dcm"
        assert ds.SeriesInstanceUID == series.uid
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert len(ds.PixelData) == ds.Rows * ds.Columns * 2
        read_back[str(ds.SOPInstanceUID)] = ds
    assert sorted(read_back) == sorted(series.sop_uids)

    # The series is reported once the delivering association has ended.
    assert _wait(lambda: len(receiver.sink.completed) == 1), receiver.sink.completed
    receipt = receiver.sink.completed[0]
    assert receipt.series_instance_uid == series.uid
    assert receipt.instances == series.instances and receipt.duplicates == 0
    assert receipt.calling_aet == pacs.orthanc.aet
    assert receipt.metadata["PatientID"] == patient.patient_id
    assert receipt.metadata["SeriesDescription"] == "T1 SAG"
    assert receipt.metadata["Modality"] == "MR"
    assert receipt.location == f"{patient.patient_id}/{study.uid}/{series.uid}"


def test_move_twice_is_idempotent(pacs: LoadedPacs, receiver: Receiver) -> None:
    _, study, series = pacs.series("CHEST 5MM")
    keys = {"StudyInstanceUID": study.uid, "SeriesInstanceUID": series.uid}
    assert move(pacs.node, receiver.aet, keys).ok
    first = {p: p.stat().st_mtime_ns for p in _received_files(receiver.root)}
    second = move(pacs.node, receiver.aet, keys)
    assert second.ok and second.completed == series.instances
    assert receiver.sink.stored == series.instances
    assert receiver.sink.duplicates == series.instances
    assert {p: p.stat().st_mtime_ns for p in _received_files(receiver.root)} == first
    assert _wait(lambda: len(receiver.sink.completed) == 2)
    assert sorted(r.duplicates for r in receiver.sink.completed) == [0, series.instances]


def test_move_several_series_in_one_request(pacs: LoadedPacs, receiver: Receiver) -> None:
    _, study, _ = pacs.series("T1 SAG")
    uids = [s.uid for s in study.series]
    result = move(pacs.node, receiver.aet, {"StudyInstanceUID": study.uid, "SeriesInstanceUID": uids})
    assert result.ok, result.message
    assert result.completed == sum(s.instances for s in study.series)
    assert _wait(lambda: len(receiver.sink.completed) == 2)
    assert {r.series_instance_uid for r in receiver.sink.completed} == set(uids)


def test_move_to_unknown_destination_fails_with_a_reason(pacs: LoadedPacs) -> None:
    _, study, series = pacs.series("T2 AX")
    result = move(pacs.node, "NOSUCHAE", {"StudyInstanceUID": study.uid, "SeriesInstanceUID": series.uid})
    assert not result.ok
    assert result.status in (0xA801, 0xC000) or 0xC000 <= result.status <= 0xCFFF
    assert "NOSUCHAE" in result.message
    assert "registered" in result.message
    assert f"0x{result.status:04X}" in result.message


def test_move_from_an_unknown_calling_aet_says_the_pacs_aborted_and_why(pacs: LoadedPacs, receiver: Receiver) -> None:
    _, _, series = pacs.series("T2 AX")
    started = time.monotonic()
    with pytest.raises(DicomAssociationError, match="aborted the association during C-MOVE.*'NOBODY'"):
        move(replace(pacs.node, calling_aet="NOBODY"), receiver.aet, {"SeriesInstanceUID": series.uid})
    assert time.monotonic() - started < 5  # told at once, not after a DIMSE timeout
    assert receiver.sink.stored == 0


def test_move_of_an_unknown_series_moves_nothing_and_says_so(pacs: LoadedPacs, receiver: Receiver) -> None:
    result = move(pacs.node, receiver.aet, {"SeriesInstanceUID": "1.2.3.4.5.6.7.8.9"})
    assert result.completed == 0
    assert receiver.sink.stored == 0
    assert result.message  # success with 0 instances, or a failure status: either way it is explicit
    assert ("0 instance(s)" in result.message) or not result.ok


def test_get_series_over_our_association(pacs: LoadedPacs, tmp_path: Path) -> None:
    patient, study, series = pacs.series("PD COR")
    sink = FileSink(tmp_path / "got")
    progress: list[RetrieveProgress] = []
    result = get(
        pacs.node,
        {"StudyInstanceUID": study.uid, "SeriesInstanceUID": series.uid},
        sink,
        on_progress=progress.append,
    )
    assert result.ok, result.message
    assert result.completed == series.instances == sink.stored
    files = _received_files(tmp_path / "got")
    assert sorted(dcmread(f).SOPInstanceUID for f in files) == sorted(series.sop_uids)
    # C-GET ends its own association before returning, so the receipt is already there.
    assert [r.instances for r in sink.completed] == [series.instances]
    assert sink.completed[0].metadata["PatientName"] == patient.name


def test_get_into_a_failing_sink_reports_failures(pacs: LoadedPacs) -> None:
    _, study, series = pacs.series("ABD 3MM")

    class Broken:
        ended: list[bool] = []

        def store(self, instance):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk on fire")

        def association_ended(self, assoc_id: int, calling_aet: str, aborted: bool) -> None:
            self.ended.append(aborted)

    sink = Broken()
    result = get(pacs.node, {"StudyInstanceUID": study.uid, "SeriesInstanceUID": series.uid}, sink)
    assert not result.ok
    assert result.failed == series.instances
    assert result.completed == 0
    assert sink.ended == [False]
