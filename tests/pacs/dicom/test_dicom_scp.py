"""Our storage SCP on its own: C-ECHO, C-STORE into a FileSink, and peers that misbehave."""

from __future__ import annotations

import io
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread

from pacs.dicom import FileSink, PacsNode, ReceivedInstance, StorageSCP, echo, run_scp, store
from pacs.dicom.filesink import safe_path_component

from .synth import build_all, sample_patients


@pytest.fixture
def scp(tmp_path: Path) -> Iterator[StorageSCP]:
    server = run_scp("CUBESCP", 0, FileSink(tmp_path / "in"))
    try:
        yield server
    finally:
        server.shutdown()


def _node(server: StorageSCP) -> PacsNode:
    return PacsNode(aet=server.ae_title, host="127.0.0.1", port=server.port, calling_aet="SENDER")


def _sink(server: StorageSCP) -> FileSink:
    assert isinstance(server.sink, FileSink)
    return server.sink


def _wait(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def test_echo_our_scp(scp: StorageSCP) -> None:
    results = [echo(_node(scp)) for _ in range(5)]
    assert all(r.ok for r in results), results
    # Best of five: a loaded machine can stall one exchange; Nagle would stall every one by ~40 ms.
    assert min(r.rtt_ms for r in results) < 30, results


def test_store_writes_files_as_received(scp: StorageSCP, tmp_path: Path) -> None:
    blobs = build_all(sample_patients())[:6]
    statuses = store(_node(scp), blobs)
    assert statuses == [0] * len(blobs)
    sink = _sink(scp)
    assert sink.stored == len(blobs) and sink.duplicates == 0
    for blob in blobs:
        sent = dcmread(io.BytesIO(blob))
        path = sink.path_for(sent.PatientID, sent.StudyInstanceUID, sent.SeriesInstanceUID, sent.SOPInstanceUID)
        got = dcmread(path)
        assert got.SOPInstanceUID == sent.SOPInstanceUID
        assert got.PixelData == sent.PixelData
        assert str(got.file_meta.SourceApplicationEntityTitle).strip() == "SENDER"
    assert _wait(lambda: len(sink.completed) == 2)
    assert sorted(r.instances for r in sink.completed) == [1, 5]
    assert all(r.calling_aet == "SENDER" for r in sink.completed)


def test_duplicates_are_acknowledged_not_rewritten(scp: StorageSCP) -> None:
    blobs = build_all(sample_patients())[:3]
    assert store(_node(scp), blobs) == [0, 0, 0]
    sink = _sink(scp)
    before = {p: p.stat().st_mtime_ns for p in sink.root.rglob("*.dcm")}
    assert store(_node(scp), blobs) == [0, 0, 0]
    assert (sink.stored, sink.duplicates) == (3, 3)
    assert {p: p.stat().st_mtime_ns for p in sink.root.rglob("*.dcm")} == before


def test_dataset_without_series_uid_gets_a_failure_status(scp: StorageSCP) -> None:
    good, bad = (dcmread(io.BytesIO(b)) for b in build_all(sample_patients())[:2])
    del bad.SeriesInstanceUID
    assert store(_node(scp), [bad, good]) == [0xA900, 0]
    assert _sink(scp).rejected == 1 and _sink(scp).stored == 1


def test_hostile_identifiers_stay_inside_the_root(scp: StorageSCP) -> None:
    ds = dcmread(io.BytesIO(build_all(sample_patients())[0]))
    ds.PatientID = "../../../../etc"
    assert store(_node(scp), [ds]) == [0]
    sink = _sink(scp)
    files = list(sink.root.rglob("*.dcm"))
    assert len(files) == 1
    assert files[0].resolve().is_relative_to(sink.root)
    assert safe_path_component("..") == "UNKNOWN"
    assert safe_path_component("a/b\\c") == "a_b_c"
    assert safe_path_component("") == "UNKNOWN"


def test_a_failing_sink_answers_processing_failure_and_keeps_serving(tmp_path: Path) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.calls = 0
            self.ended: list[tuple[int, str, bool]] = []

        def store(self, instance: ReceivedInstance) -> int:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("boom")
            if self.calls == 2:
                raise OSError(28, "No space left on device")
            return 0

        def association_ended(self, assoc_id: int, calling_aet: str, aborted: bool) -> None:
            self.ended.append((assoc_id, calling_aet, aborted))

    sink = Flaky()
    with run_scp("FLAKY", 0, sink) as server:
        blobs = build_all(sample_patients())[:3]
        assert store(_node(server), blobs) == [0x0110, 0xA700, 0]
        assert _wait(lambda: len(sink.ended) == 1)
        assert sink.ended[0][1:] == ("SENDER", False)
        assert echo(_node(server)).ok


def _garbage_clients(port: int) -> None:
    payloads = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        os.urandom(4096),
        # An A-ASSOCIATE-RQ header announcing 1 GB, then nothing.
        struct.pack(">BBL", 0x01, 0, 1 << 30) + b"\x00" * 10,
        b"",
    ]
    for payload in payloads:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            if payload:
                conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
            try:
                conn.recv(1024)
            except OSError:
                pass


def test_garbage_clients_do_not_kill_the_listener(scp: StorageSCP) -> None:
    threads = [threading.Thread(target=_garbage_clients, args=(scp.port,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert echo(_node(scp)).ok
    assert store(_node(scp), build_all(sample_patients())[:1]) == [0]
    assert _wait(lambda: scp.active_associations == 0)


def test_chunked_mode_moves_the_temp_file_into_place(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "chunked")
    with run_scp("CHUNKED", 0, sink, chunked=True) as server:
        blobs = build_all(sample_patients())[:4]
        assert store(_node(server), blobs) == [0] * 4
    assert sink.stored == 4
    for path in sink.root.rglob("*.dcm"):
        assert dcmread(path).PixelData


def test_port_in_use_is_an_error(scp: StorageSCP, tmp_path: Path) -> None:
    with pytest.raises(OSError):
        run_scp("OTHER", scp.port, FileSink(tmp_path / "other"))


def test_shutdown_frees_the_port(tmp_path: Path) -> None:
    server = run_scp("SHORT", 0, FileSink(tmp_path / "s"))
    port = server.port
    server.shutdown()
    result = echo(PacsNode("SHORT", "127.0.0.1", port))
    assert not result.ok and "refused" in result.message.lower()
    again = run_scp("SHORT", port, FileSink(tmp_path / "s"))
    again.shutdown()


@pytest.mark.parametrize("max_pdu", [128, 4096, 0])
def test_any_pdu_size_stores_the_bytes_as_sent(tmp_path: Path, max_pdu: int) -> None:
    # 128: every command set is split over fragments (pynetdicom's own path); 4096: each data set spans
    # dozens of PDUs (the DUL-thread path gathers them); 0: no limit, one PDU per data set.
    sink = FileSink(tmp_path / "in")
    blobs = build_all(sample_patients())[:4]
    with run_scp("PDUS", 0, sink, max_pdu=max_pdu) as server:
        assert store(_node(server), blobs) == [0] * len(blobs)
        assert echo(_node(server)).ok
    assert sink.stored == len(blobs)
    for blob in blobs:
        sent = dcmread(io.BytesIO(blob))
        got = dcmread(sink.path_for(sent.PatientID, sent.StudyInstanceUID, sent.SeriesInstanceUID, sent.SOPInstanceUID))
        assert [(e.tag, e.value) for e in got] == [(e.tag, e.value) for e in sent]
    assert _wait(lambda: sum(r.instances for r in sink.completed) == len(blobs))
