"""A database outage longer than the sink's attempts leaves no instance stored but unregistered: the batches
stay journalled in the spool and are registered once the database is back, by the running listener or by
the next one; ``pacs_reconcile`` registers whatever else is in storage without a record.

The outage is real: the test database refuses new connections (ALTER DATABASE ... ALLOW_CONNECTIONS false,
from a connection to the ``postgres`` database) and the sink's backends are terminated; only the test's
own connection stays, to look. Attempts and backoff are shrunk through the modules' constants.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from pacs.dicom import store
from tests.conftest import in_ci
from tests.pacs.dicom.synth import PatientSpec, SeriesSpec, StudySpec
from tests.pacs.test_pacs_ingest import MODALITY, datasets, sender

PREFIX = "SERVICES/PACS/SCANNER/"


@pytest.fixture
def postgres(transactional_db: Any) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        message = "needs PostgreSQL to refuse connections; run with DATABASE_URL=postgres://..."
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def quick(monkeypatch: Any) -> None:
    """Two attempts 50 ms apart, then retries every 0.1 s doubling to 0.4 s: the same behaviour, in seconds."""
    from pacs.services import ingest, journal

    monkeypatch.setattr(ingest, "REGISTER_ATTEMPTS", 2)
    monkeypatch.setattr(ingest, "REGISTER_FIRST_DELAY", 0.05)
    monkeypatch.setattr(journal, "RETRY_FIRST_DELAY", 0.1)
    monkeypatch.setattr(journal, "RETRY_MAX_DELAY", 0.4)


@contextmanager
def database_refused() -> Iterator[None]:
    """The test database refuses every new connection and loses every one but ours, until the block ends."""
    import psycopg2
    from django.db import connection

    conf = connection.settings_dict
    admin = psycopg2.connect(dbname="postgres", user=conf["USER"], password=conf.get("PASSWORD") or None,
                             host=conf["HOST"] or "127.0.0.1", port=conf["PORT"] or 5432)
    admin.autocommit = True
    name = conf["NAME"]
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        yield
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()


def until(check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not true after {timeout} s"
        time.sleep(0.05)


def spooled(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.dcm") if p.is_file())


def assert_registered_once_and_stored(uids: list[str], series_uid: str) -> None:
    from cube.storage import get_storage
    from pacs.models import PACSSeries
    from uploads.models import ChrisFile

    rows = list(ChrisFile.objects.filter(fname__startswith=PREFIX).values_list("fname", "size"))
    names = sorted(name.rsplit("/", 1)[1] for name, _ in rows)
    assert names == sorted(f"{uid}.dcm" for uid in uids)  # each once: no duplicate, none missing
    storage = get_storage()
    assert all(storage.stat(name).size == size > 0 for name, size in rows)
    assert set(storage.ls(PREFIX.rstrip("/"))) == {name for name, _ in rows}
    assert PACSSeries.objects.get(SeriesInstanceUID=series_uid).ndicom == len(uids)


def _setup() -> None:
    from cube.core.services import system_setup
    from pacs.services.nodes import pacs_create

    system_setup(admin_password="chris1234")
    pacs_create(identifier="SCANNER", aet=MODALITY, host="127.0.0.1", port=104)


def test_an_outage_longer_than_the_attempts_is_registered_once_the_database_is_back(
        postgres: None, quick: None, storage_root: str, dicom_settings: Any, caplog: Any) -> None:
    from pacs.services.ingest import RegistrySink
    from pacs.services.listener import listener_start
    from uploads.models import ChrisFile

    _setup()
    sink = RegistrySink(batch_size=100, batch_seconds=60)
    running = listener_start(aet="CUBEAPI", port=0, bind="127.0.0.1", sink=sink)
    spec = SeriesSpec("MR", "T1", 8)
    study = StudySpec("20240101", "BRAIN", "A1", [spec])
    sent = datasets(PatientSpec("P7", "A^B", "19800101", "M", [study]), study, spec, 8)
    try:
        assert store(sender(running), sent[:3]) == [0] * 3
        sink.flush()
        assert ChrisFile.objects.filter(fname__startswith=PREFIX).count() == 3
        sink.cache_seconds = 0  # every instance now asks the database for its caller: it is away
        with caplog.at_level(logging.WARNING, logger="pacs.services"), database_refused():
            # Received, answered and stored during the outage; each association's batch fails its attempts.
            assert store(sender(running), sent[3:6]) == [0] * 3
            sink.flush()
            assert store(sender(running), sent[6:]) == [0] * 2
            sink.flush()
            assert sink.registration_errors == 2 and sink.waiting_registration == 5
            time.sleep(1.5)  # several retry rounds, all refused, far longer than the attempts took
            assert sink.waiting_registration == 5
            assert len(spooled(sink._spool.root)) == 5  # the journal: one spool file per waiting instance
            assert ChrisFile.objects.filter(fname__startswith=PREFIX).count() == 3
            outage_lines = [r for r in caplog.records if "they stay in storage and in the spool" in r.getMessage()]
            assert len(outage_lines) == 1  # once per outage, not per batch, instance or retry
        until(lambda: sink.waiting_registration == 0)
        assert [r for r in caplog.records if "the database is back" in r.getMessage()]
        assert spooled(sink._spool.root) == []
        assert_registered_once_and_stored([ds.SOPInstanceUID for ds in sent], spec.uid)
        assert sink.registered == 8
    finally:
        running.stop()
    assert not sink._spool.root.exists()


def test_a_listener_stopped_during_an_outage_leaves_its_journal_to_the_next_one(
        postgres: None, quick: None, storage_root: str, dicom_settings: Any) -> None:
    from pacs.services.ingest import RegistrySink
    from pacs.services.listener import listener_start
    from pacs.services.spool import spool_root
    from uploads.models import ChrisFile

    _setup()
    first = RegistrySink(batch_size=100, batch_seconds=60)
    running = listener_start(aet="CUBEAPI", port=0, bind="127.0.0.1", sink=first)
    spec = SeriesSpec("CT", "CHEST", 5)
    study = StudySpec("20240202", "THORAX", "A2", [spec])
    sent = datasets(PatientSpec("P8", "C^D", "19700101", "F", [study]), study, spec, 5)
    stopped = False
    try:
        assert store(sender(running), sent[:2]) == [0, 0]
        first.flush()
        with database_refused():
            assert store(sender(running), sent[2:]) == [0] * 3
            first.flush()
            assert first.waiting_registration == 3
            running.stop()  # gives up waiting for the database; the spool keeps the journal
            stopped = True
            assert len(spooled(first._spool.root)) == 3
            os.close(first._spool._lock)  # the process ends: the kernel drops its lock on the spool folder
            # The next listener starts while the database is still away: its recovery waits for it.
            again = listener_start(aet="CUBEAPI", port=0, bind="127.0.0.1", sink=RegistrySink())
            try:
                time.sleep(0.5)
                assert ChrisFile.objects.filter(fname__startswith=PREFIX).count() == 2
            except BaseException:
                again.stop()
                raise
        try:
            until(lambda: ChrisFile.objects.filter(fname__startswith=PREFIX).count() == 5)
            until(lambda: spooled(spool_root()) == [])
            assert not first._spool.root.exists()  # adopted, then the dead listener's folder went
        finally:
            again.stop()
    finally:
        if not stopped:
            running.stop()
    assert_registered_once_and_stored([ds.SOPInstanceUID for ds in sent], spec.uid)
    assert list(spool_root().iterdir()) == []


def test_reconcile_registers_stored_objects_the_registry_lacks_and_dry_run_changes_nothing(
        transactional_db: Any, storage_root: str, dicom_settings: Any) -> None:
    from django.core.management import call_command

    from cube.storage import get_storage
    from pacs.models import PACSSeries
    from pacs.services.listener import listener_state_write
    from pacs.services.registry import series_folder_path
    from pacs.services.spool import spool_root
    from uploads.models import ChrisFile

    _setup()
    spec = SeriesSpec("CT", "ABDOMEN", 3)
    study = StudySpec("20240303", "ABDO", "A3", [spec])
    patient = PatientSpec("P9", "E^F", "19600101", "M", [study])
    sent = datasets(patient, study, spec, 3)
    storage = get_storage()
    # Put into storage behind the registry's back, where the listener would have: the folder named as it is.
    folder = series_folder_path("SCANNER", {"PatientID": "P9", "PatientName": "E^F", "PatientBirthDate": "19600101",
                                            "StudyDescription": "ABDO", "AccessionNumber": "A3",
                                            "StudyDate": "20240303", "SeriesNumber": 1, "SeriesDescription": "ABDOMEN",
                                            "SeriesInstanceUID": spec.uid})
    keys = []
    for ds in sent:
        buffer = _part10(ds)
        keys.append(f"{folder}/{ds.SOPInstanceUID}.dcm")
        storage.save(keys[-1], [buffer])
    storage.save(f"{PREFIX}junk/readme.txt", [b"not DICOM"])
    storage.save("SERVICES/PACS/NOSUCHNODE/x/y/1.dcm", [_part10(sent[0])])

    listener_state_write({"waiting_registration": 4})  # as a listener in an outage reports it
    out = StringIO()
    call_command("pacs_reconcile", "--dry-run", stdout=out)
    text = out.getvalue()
    assert '"waiting_registration": 4' in text
    assert all(f"would register {key} (series {spec.uid})" in text for key in keys)
    assert f"skipped {PREFIX}junk/readme.txt: not a DICOM instance" in text
    assert "skipped SERVICES/PACS/NOSUCHNODE/x/y/1.dcm: no PACS node is named 'NOSUCHNODE'" in text
    assert "3 object(s) would register, 2 skipped, 5 checked (dry run: nothing changed)" in text
    assert not ChrisFile.objects.filter(fname__startswith="SERVICES/PACS/").exists()
    assert not PACSSeries.objects.exists()

    out = StringIO()
    call_command("pacs_reconcile", stdout=out)
    assert "3 object(s) registered, 2 skipped, 5 checked" in out.getvalue()
    rows = {f.fname: f for f in ChrisFile.objects.filter(fname__startswith="SERVICES/PACS/")}
    assert sorted(rows) == sorted(keys)
    for key in keys:
        data = b"".join(storage.open(key))
        assert rows[key].size == len(data)
        assert rows[key].md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    series = PACSSeries.objects.select_related("folder").get(SeriesInstanceUID=spec.uid)
    assert series.folder.path == folder and series.ndicom == 3
    assert series.PatientID == "P9" and series.Modality == "CT" and series.StudyInstanceUID == study.uid

    out = StringIO()  # a second run finds nothing left to do
    call_command("pacs_reconcile", "--node", "SCANNER", stdout=out)
    assert "0 object(s) registered, 1 skipped, 4 checked" in out.getvalue()
    assert ChrisFile.objects.filter(fname__startswith="SERVICES/PACS/").count() == 3
    assert spooled(spool_root()) == []  # the command never touches a listener's spool


def test_reconcile_refuses_a_node_name_that_is_not_a_clean_path(transactional_db: Any, storage_root: str) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="invalid --node"):
        call_command("pacs_reconcile", "--node", "../etc", stdout=StringIO())


def _part10(ds: Any) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
