"""PACS ingest into Swift storage (a real all-in-one): imports run in the sink's pool of threads, and still
every instance is stored and registered before the association's end is done with it, or left in the spool
when Swift fails, never registered without its object.

The module overrides ``storage_root`` (every fixture that stores builds on it) to point the storage at a fresh
Swift container, and ``pacs_server`` to get an Orthanc of its own holding a bigger series than the shared one.
"""

from __future__ import annotations

import io
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmread

from pacs.dicom import store
from tests.pacs.conftest import LoadedOrthanc, register_orthanc, run_query, wait_for
from tests.pacs.dicom.synth import PatientSpec, SeriesSpec, StudySpec, build_all, sample_patients
from tests.pacs.test_pacs_ingest import MODALITY, datasets, sender
from tests.pacs.test_pacs_register_journal import database_refused, postgres, quick  # noqa: F401 - fixtures
from tests.support.orthanc import Orthanc, find_orthanc
from tests.support.swift_aio import SwiftAIO, require_service

BIG = SeriesSpec("MR", "SWIFT MANY", 48)
BIG_STUDY = StudySpec("20240301", "SWIFT", "SW1", [BIG])
BIG_PATIENT = PatientSpec("SWIFT-001", "SWIFT^PAT", "19900101", "F", [BIG_STUDY])


@pytest.fixture
def storage_root(swift_aio: SwiftAIO, settings: Any) -> Iterator[str]:
    """Swift instead of the filesystem: a fresh container; quick to give up when the proxy is stopped."""
    from cube.storage import reset_storage_cache

    container = f"pacs-{uuid.uuid4().hex[:12]}"
    settings.CUBE_STORAGE = {"BACKEND": "cube.storage.swift.SwiftStorage", "OPTIONS": swift_aio.storage_options(
        container=container, retries=1, starting_backoff=0.1, max_backoff=0.2, timeout=10)}
    reset_storage_cache()
    yield container
    reset_storage_cache()


@pytest.fixture(scope="module")
def pacs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedOrthanc]:
    if find_orthanc() is None:
        require_service("Orthanc is not installed (run .ci/setup-pacs.sh)")
    orthanc = Orthanc(tmp_path_factory.mktemp("orthanc-swift"), modalities={"cubeapi": ("CUBEAPI", "127.0.0.1", 9)})
    orthanc.start()
    try:
        patients = [*sample_patients(), BIG_PATIENT]
        for blob in build_all(patients):
            assert orthanc.upload(blob)["Status"] in ("Success", "AlreadyStored")
        yield LoadedOrthanc(orthanc, patients)
    finally:
        orthanc.stop()


def concurrency_probe(sink: Any, on_import: Callable[[int], None] | None = None) -> dict[str, int]:
    """Counts the sink's imports going on at once (the real import runs unchanged in between)."""
    storage = sink._storage
    real = storage.import_file
    lock = threading.Lock()
    seen = {"now": 0, "max": 0, "calls": 0}

    def import_file(local_path: str, key: str) -> Any:
        with lock:
            seen["now"] += 1
            seen["calls"] += 1
            seen["max"] = max(seen["max"], seen["now"])
            calls = seen["calls"]
        if on_import is not None:
            on_import(calls)
        try:
            return real(local_path, key)
        finally:
            with lock:
                seen["now"] -= 1

    storage.import_file = import_file
    return seen


def registered_keys() -> dict[str, int]:
    from uploads.models import ChrisFile

    return dict(ChrisFile.objects.filter(fname__startswith="SERVICES/PACS/").values_list("fname", "size"))


def assert_stored(keys: dict[str, int]) -> None:
    """Every registered instance has its object in Swift, of its size."""
    from cube.storage import get_storage

    storage = get_storage()
    for key, size in keys.items():
        assert storage.stat(key).size == size, key


def spooled_keys(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*.dcm") if not p.name.startswith(".")}


def start_listener(sink: Any, *, first: bool = True) -> Any:
    from cube.core.services import system_setup
    from pacs.services.listener import listener_start
    from pacs.services.nodes import pacs_create

    if first:
        system_setup(admin_password="chris1234")
        pacs_create(identifier="SCANNER", aet=MODALITY, host="127.0.0.1", port=104)
    return listener_start(aet="CUBEAPI", port=0, bind="127.0.0.1", sink=sink)


def test_listener_imports_into_swift_in_parallel_and_registers_every_instance_at_association_end(
        transactional_db: Any, storage_root: str, dicom_settings: Any) -> None:
    from pacs.models import PACSSeries
    from pacs.services.ingest import RegistrySink

    # One batch per association: only its end registers, so an end that did not wait for the imports still
    # in flight would leave the last instances unregistered (nothing here flushes before the checks).
    sink = RegistrySink(batch_size=10_000, batch_seconds=3600, import_threads=4)
    assert sink._importer is not None  # Swift says its imports are remote
    probe = concurrency_probe(sink)
    running = start_listener(sink)
    try:
        specs = [SeriesSpec("MR", f"S{i}", 30) for i in range(2)]
        study = StudySpec("20240101", "BRAIN", "A1", specs)
        patient = PatientSpec("P5", "A^B", "19800101", "M", [study])
        sent = {spec.uid: datasets(patient, study, spec, spec.instances) for spec in specs}
        results: dict[str, list[int]] = {}
        # Two associations at once, as two retrieves would deliver.
        threads = [threading.Thread(target=lambda uid=uid: results.__setitem__(uid, store(sender(running), sent[uid])))
                   for uid in sent]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert all(results[uid] == [0] * 30 for uid in sent)
        # What a retrieve waits for: the series index counting every instance (its end registers them).
        def counts() -> list[int]:
            return sorted(PACSSeries.objects.filter(SeriesInstanceUID__in=list(sent)).values_list("ndicom", flat=True))

        deadline = time.monotonic() + 60
        while counts() != [30, 30] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert counts() == [30, 30]
        assert probe["max"] > 1 and probe["calls"] == 60  # in parallel, each instance once
    finally:
        running.stop()
    keys = registered_keys()
    assert len(keys) == 60 and sink.registered == 60 and sink.registration_errors == 0
    assert_stored(keys)
    from cube.storage import get_storage

    assert set(get_storage().ls("SERVICES/PACS")) == set(keys)  # no object without its record
    assert spooled_keys(sink._spool.root) == set()


def test_an_instance_sent_again_while_its_first_copy_is_being_imported_is_stored_once(
        transactional_db: Any, storage_root: str, dicom_settings: Any) -> None:
    """Both copies share one spool file: the second waits for the first's import instead of replacing it."""
    from pacs.models import PACSSeries
    from pacs.services.ingest import RegistrySink

    sink = RegistrySink(import_threads=4)
    concurrency_probe(sink, on_import=lambda calls: time.sleep(0.2))  # imports slower than the transfer
    running = start_listener(sink)
    spec = SeriesSpec("MR", "T1", 6)
    study = StudySpec("20240101", "BRAIN", "A1", [spec])
    sent = datasets(PatientSpec("P7", "A^B", "19800101", "M", [study]), study, spec, 6)
    try:
        burst = [sent[0], sent[0], sent[1], sent[0], *sent[2:], sent[5], sent[5]]
        assert store(sender(running), burst) == [0] * len(burst)
        running.sink.flush()
    finally:
        running.stop()
    assert sink.registration_errors == 0 and sink.stored == len(burst)
    keys = registered_keys()
    assert len(keys) == 6 and PACSSeries.objects.get(SeriesInstanceUID=spec.uid).ndicom == 6
    assert_stored(keys)


def test_swift_stopped_mid_transfer_leaves_no_half_registered_instance_and_the_spool_recovers_the_rest(
        transactional_db: Any, storage_root: str, dicom_settings: Any, swift_aio: SwiftAIO) -> None:
    from cube.storage import get_storage
    from pacs.models import PACSSeries
    from pacs.services.ingest import RegistrySink

    sink = RegistrySink(batch_size=7, batch_seconds=3600, import_threads=4)
    stop = threading.Event()
    stopped = threading.Event()

    def stopper() -> None:
        stop.wait(120)
        swift_aio.stop_proxy()
        stopped.set()

    def on_import(calls: int) -> None:
        if calls >= 15:  # from the 15th import on, each starts once the proxy is gone
            stop.set()
            stopped.wait(60)

    concurrency_probe(sink, on_import=on_import)
    killer = threading.Thread(target=stopper)
    killer.start()
    running = start_listener(sink)
    spec = SeriesSpec("MR", "T1", 60)
    study = StudySpec("20240101", "BRAIN", "A1", [spec])
    sent = datasets(PatientSpec("P6", "A^B", "19800101", "M", [study]), study, spec, 60)
    try:
        # Every instance is answered success (it is safe in the spool) whatever Swift does afterwards.
        assert store(sender(running), sent) == [0] * 60
        running.sink.flush()
        assert stopped.is_set()
        keys, spooled = registered_keys(), spooled_keys(sink._spool.root)
        # Each instance is either registered (its object stored) or still in the spool: never both, never lost.
        assert len(spooled) > 0 and not set(keys) & spooled and len(keys) + len(spooled) == 60
        assert sink.registration_errors == len(spooled)
        assert PACSSeries.objects.get(SeriesInstanceUID=spec.uid).ndicom == len(keys)
    finally:
        stop.set()
        killer.join(30)
        swift_aio.start_proxy()
        running.stop()  # the spool keeps what was not imported
    assert_stored(keys)  # nothing registered without its object

    # The listener's process ends (the kernel drops its lock on the spool folder), and the next listener
    # imports and registers what the spool kept.
    os.close(sink._spool._lock)
    again = start_listener(RegistrySink(), first=False)
    try:
        again.sink.recover().result(timeout=120)
    finally:
        again.stop()
    keys = registered_keys()
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == sorted(f"{ds.SOPInstanceUID}.dcm" for ds in sent)
    assert PACSSeries.objects.get(SeriesInstanceUID=spec.uid).ndicom == 60
    assert_stored(keys)
    assert set(get_storage().ls("SERVICES/PACS")) == set(keys)  # no object without its record either
    assert not sink._spool.root.exists()


@pytest.mark.django_db(transaction=True)
def test_retrieve_into_swift_succeeds_with_every_instance_stored_and_registered(api_live: Any, listener: Any) -> None:
    assert listener.sink._importer is not None
    pacs = register_orthanc(api_live)
    query = run_query(api_live.alice, pacs, "swift", {"PatientID": BIG_PATIENT.patient_id})
    assert query["status"] == "succeeded", query
    r = api_live.alice.post(query["retrieve_list"])
    assert r.status_code == 201, r.text
    done = wait_for(lambda: api_live.alice.get(r.json()["url"]).json(),
                    lambda b: b["status"] in ("succeeded", "errored"), timeout=120)
    assert done["status"] == "succeeded", done
    assert done["expected"] == done["received"] == BIG.instances
    keys = registered_keys()
    assert len(keys) == BIG.instances
    assert_stored(keys)
    from cube.storage import get_storage

    storage = get_storage()
    assert set(storage.ls("SERVICES/PACS")) == set(keys)
    key = sorted(keys)[0]
    assert dcmread(io.BytesIO(b"".join(storage.open(key)))).SOPInstanceUID in BIG.sop_uids


def test_swift_journal_a_stopped_listener_left_is_registered_by_the_next_without_sending_it_again(
        postgres: None, quick: None, storage_root: str, dicom_settings: Any) -> None:  # noqa: F811
    """Stored in Swift, then the database refused the registration and the listener stopped: the next one
    registers the journalled instances, and a HEAD finding each object already there replaces a second PUT."""
    from cube.storage import get_storage
    from pacs.models import PACSSeries
    from pacs.services.ingest import RegistrySink

    sink = RegistrySink(batch_size=100, batch_seconds=60, import_threads=4)
    running = start_listener(sink)
    spec = SeriesSpec("MR", "T2", 4)
    study = StudySpec("20240101", "BRAIN", "A1", [spec])
    sent = datasets(PatientSpec("P8", "A^B", "19800101", "M", [study]), study, spec, 4)
    stopped = False
    try:
        assert store(sender(running), sent[:1]) == [0]
        sink.flush()
        with database_refused():
            assert store(sender(running), sent[1:]) == [0] * 3
            sink.flush()
            assert sink.waiting_registration == 3
            running.stop()
            stopped = True
    finally:
        if not stopped:
            running.stop()
    journalled = spooled_keys(sink._spool.root)
    assert len(journalled) == 3 and not journalled & set(registered_keys())
    storage = get_storage()
    stamps = {key: storage.stat(key).mtime for key in journalled}  # each is in Swift already
    os.close(sink._spool._lock)  # the process ends: the kernel drops its lock
    again = start_listener(RegistrySink(import_threads=4), first=False)
    try:
        again.sink.recover().result(timeout=60)
        again.sink.flush()
    finally:
        again.stop()
    keys = registered_keys()
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == sorted(f"{ds.SOPInstanceUID}.dcm" for ds in sent)
    assert {key: storage.stat(key).mtime for key in journalled} == stamps  # not PUT a second time
    assert_stored(keys)
    assert PACSSeries.objects.get(SeriesInstanceUID=spec.uid).ndicom == 4
    assert set(storage.ls("SERVICES/PACS")) == set(keys)
    assert not sink._spool.root.exists()
