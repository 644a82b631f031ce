"""The listener's ingest sink, driven by real C-STOREs from pynetdicom: who may send, where instances go
(names sanitised, never outside SERVICES/PACS/<node>/), what is indexed, and that repeats are idempotent."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from pacs.dicom import PacsNode, store
from tests.pacs.dicom.synth import PatientSpec, SeriesSpec, StudySpec, make_instance

MODALITY = "MODALITY1"


def datasets(patient: PatientSpec, study: StudySpec, series: SeriesSpec, n: int, **attrs: Any) -> list[Dataset]:
    out: list[Dataset] = []
    for i in range(1, n + 1):
        ds = dcmread(io.BytesIO(make_instance(patient, study, series, i)))
        for key, value in attrs.items():
            setattr(ds, key, value)
        out.append(ds)
    return out


@pytest.fixture
def scp(transactional_db: Any, storage_root: str, dicom_settings: Any) -> Iterator[Any]:
    from cube.core.services import system_setup
    from pacs.services.listener import listener_start

    system_setup(admin_password="chris1234")
    running = listener_start(aet="CUBEAPI", port=0, bind="127.0.0.1")
    try:
        yield running
    finally:
        running.stop()


def sender(scp: Any, calling: str = MODALITY) -> PacsNode:
    return PacsNode(aet="CUBEAPI", host="127.0.0.1", port=scp.port, calling_aet=calling)


def test_unknown_or_inactive_callers_are_refused_and_logged(scp: Any, caplog: Any) -> None:
    from pacs.models import PACSSeries
    from pacs.services.nodes import pacs_create, pacs_update
    from uploads.models import ChrisFile

    scp.sink.cache_seconds = 0  # see node changes at once
    spec = SeriesSpec("MR", "T1", 3)
    study = StudySpec("20240101", "BRAIN", "A1", [spec])
    patient = PatientSpec("P1", "DOE^J", "19800101", "M", [study])
    with caplog.at_level(logging.WARNING, logger="pacs.services.ingest"):
        statuses = store(sender(scp), datasets(patient, study, spec, 3))
    assert statuses == [0x0124] * 3
    refusals = [r for r in caplog.records if "refusing instances from AE title 'MODALITY1'" in r.getMessage()]
    assert len(refusals) == 1  # one line per association, not per instance
    assert not ChrisFile.objects.filter(fname__startswith="SERVICES/PACS/").exists()

    node = pacs_create(identifier="SCANNER", aet=MODALITY, host="127.0.0.1", port=104)
    pacs_update(pacs=node, active=False)
    assert store(sender(scp), datasets(patient, study, spec, 1)) == [0x0124]
    pacs_update(pacs=node, active=True)
    assert store(sender(scp), datasets(patient, study, spec, 1)) == [0]
    scp.sink.flush()
    assert PACSSeries.objects.get(SeriesInstanceUID=spec.uid).ndicom == 1


def test_instances_are_filed_sanitised_indexed_and_idempotent(scp: Any, storage_root: str) -> None:
    from pathlib import Path

    from pacs.models import PACSSeries
    from pacs.services.nodes import pacs_create
    from uploads.models import ChrisFile, ChrisFolder

    node = pacs_create(identifier="SCANNER", aet=MODALITY, host="127.0.0.1", port=104)
    spec = SeriesSpec("CT", "AX, 5mm / soft", 4, "proto/../x")
    study = StudySpec("20230215", "CHEST/../../etc", "ACC 9", [spec])
    patient = PatientSpec("../../evil,id", "O'Brien^Pat", "19781231", "F", [study])
    sent = datasets(patient, study, spec, 4, PatientAge="045Y")
    assert store(sender(scp), sent) == [0] * 4
    scp.sink.flush()

    series = PACSSeries.objects.select_related("folder", "pacs").get(SeriesInstanceUID=spec.uid)
    assert series.pacs == node and series.ndicom == 4
    assert series.PatientID == "../../evil,id" and series.PatientName == "O'Brien^Pat"
    assert series.PatientAge == round(45 * 365.24) and series.PatientSex == "F"
    assert str(series.StudyDate) == "2023-02-15" and str(series.PatientBirthDate) == "1978-12-31"
    assert series.Modality == "CT" and series.SeriesNumber == 1
    folder = series.folder.path
    assert folder.startswith("SERVICES/PACS/SCANNER/")
    parts = folder.split("/")
    assert len(parts) == 6 and all(p and p not in (".", "..") and "," not in p and " " not in p for p in parts)
    assert parts[3] == "_.._evil_id-O_Brien_Pat-19781231-045Y"
    files = list(ChrisFile.objects.filter(parent_folder=series.folder).order_by("fname"))
    assert [f.name for f in files] == sorted(f"{ds.SOPInstanceUID}.dcm" for ds in sent)
    root = Path(storage_root).resolve()
    for f in files:
        on_disk = (root / f.fname).resolve()
        assert on_disk.is_relative_to(root / "SERVICES" / "PACS" / "SCANNER")
        assert dcmread(on_disk).SOPInstanceUID == f.name[:-4]
        assert on_disk.stat().st_size == f.size
    # The folders exist in the registry (the file browser can walk them), owned by the superuser.
    assert ChrisFolder.objects.filter(path=folder, owner__username="chris").exists()

    # The same instances again plus one more: nothing registered twice, the count follows.
    more = datasets(patient, study, spec, 1, PatientAge="045Y")
    assert store(sender(scp), [*sent, *more]) == [0] * 5
    scp.sink.flush()
    series.refresh_from_db()
    assert series.ndicom == 5 and ChrisFile.objects.filter(parent_folder=series.folder).count() == 5


def test_instances_without_series_identity_are_refused(scp: Any) -> None:
    from pacs.services.nodes import pacs_create
    from uploads.models import ChrisFile

    pacs_create(identifier="SCANNER", aet=MODALITY, host="127.0.0.1", port=104)
    spec = SeriesSpec("MR", "T1", 1)
    study = StudySpec("20240101", "BRAIN", "A1", [spec])
    ds = datasets(PatientSpec("P9", "X^Y", "19800101", "M", [study]), study, spec, 1)[0]
    del ds.SeriesInstanceUID
    assert store(sender(scp), [ds]) == [0xA900]
    assert not ChrisFile.objects.filter(fname__startswith="SERVICES/PACS/").exists()


def test_registration_follows_a_transfer_in_batches(transactional_db: Any, storage_root: str,
                                                    dicom_settings: Any) -> None:
    """Small batches: the index counts instances while the association is still open."""
    import threading

    from cube.core.services import system_setup
    from pacs.models import PACSSeries
    from pacs.services.ingest import RegistrySink
    from pacs.services.listener import listener_start
    from pacs.services.nodes import pacs_create

    system_setup(admin_password="chris1234")
    pacs_create(identifier="SCANNER", aet=MODALITY, host="127.0.0.1", port=104)
    sink = RegistrySink(batch_size=3, batch_seconds=60)
    seen: list[int] = []
    original = sink._register

    def spy(batch: Any) -> int:
        created = original(batch)
        seen.append(created)
        return created

    sink._register = spy  # type: ignore[method-assign]
    running = listener_start(aet="CUBEAPI", port=0, bind="127.0.0.1", sink=sink)
    try:
        spec = SeriesSpec("MR", "T1", 7)
        study = StudySpec("20240101", "BRAIN", "A1", [spec])
        sent = datasets(PatientSpec("P2", "A^B", "19800101", "M", [study]), study, spec, 7)
        done = threading.Event()

        def send() -> None:
            assert store(sender(running), sent) == [0] * 7
            done.set()

        thread = threading.Thread(target=send)
        thread.start()
        thread.join(60)
        assert done.is_set()
        sink.flush()
    finally:
        running.stop()
    assert seen[:2] == [3, 3] and sum(seen) == 7  # two full batches during the association, the rest at its end
    assert PACSSeries.objects.get(SeriesInstanceUID=spec.uid).ndicom == 7


def test_instances_a_stopped_listener_answered_are_registered_when_the_next_starts(
        transactional_db: Any, storage_root: str, dicom_settings: Any) -> None:
    from pathlib import Path

    from cube.core.services import system_setup
    from pacs.models import PACSSeries
    from pacs.services.listener import listener_start
    from pacs.services.nodes import pacs_create
    from pacs.services.spool import spool_root
    from uploads.models import ChrisFile

    system_setup(admin_password="chris1234")
    pacs_create(identifier="SCANNER", aet=MODALITY, host="127.0.0.1", port=104)
    spec = SeriesSpec("MR", "T1", 4)
    study = StudySpec("20240101", "BRAIN", "A1", [spec])
    patient = PatientSpec("P3", "A^B", "19800101", "M", [study])
    sent = datasets(patient, study, spec, 4)
    # A listener wrote three instances to its spool, answered them, and was killed before importing them.
    # Its folder names our own pid, as a restarted container's listener often has its predecessor's: what
    # counts is that no live process holds the folder's lock.
    folder = "SERVICES/PACS/SCANNER/P3-A_B-19800101/BRAIN-A1-20240101/00001-T1-1a2b3c4d"
    left = spool_root() / f"{os.getpid()}-0badf00d"
    (left / folder).mkdir(parents=True)
    for ds in sent[:3]:
        ds.save_as(left / folder / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
    (left / folder / ".half-written.part").write_bytes(b"\0" * 10)

    running = listener_start(aet="CUBEAPI", port=0, bind="127.0.0.1")
    try:
        running.sink.recover().result(timeout=60)  # after the start's own recovery (one registrar, in order)
        assert not left.exists()
        series = PACSSeries.objects.select_related("folder").get(SeriesInstanceUID=spec.uid)
        assert series.folder.path == folder and series.ndicom == 3
        # The fourth instance arrives the usual way and joins the recovered series' folder.
        assert store(sender(running), sent[3:]) == [0]
        running.sink.flush()
    finally:
        running.stop()
    series.refresh_from_db()
    assert series.ndicom == 4
    names = sorted(ChrisFile.objects.filter(parent_folder=series.folder).values_list("fname", flat=True))
    assert names == sorted(f"{folder}/{ds.SOPInstanceUID}.dcm" for ds in sent)
    root = Path(storage_root).resolve()
    assert all(dcmread(root / name).SOPInstanceUID for name in names)
    assert list(spool_root().iterdir()) == []  # the stopped listener's folder and this one's are gone


def test_a_spool_is_recovered_only_once_no_live_process_holds_it(tmp_path):
    import subprocess
    import sys
    import time

    from pacs.services.spool import LOCK_NAME, orphans

    folder = tmp_path / "12345-cafe0001"
    (folder / "S/x").mkdir(parents=True)
    (folder / "S/x/1.dcm").write_bytes(b"DICM")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(folder / LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert list(orphans(tmp_path)) == []  # its owner is alive (whatever pid the name says)
        assert (folder / "S/x/1.dcm").exists()
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    keys = []
    for path, key in orphans(tmp_path):  # as the listener does: import, then the spooled file goes
        keys.append(key)
        path.unlink()
    assert keys == ["S/x/1.dcm"]
    assert not folder.exists()
