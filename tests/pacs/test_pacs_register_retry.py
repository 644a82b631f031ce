"""A registration batch whose database connection dies (a PostgreSQL restart or failover, here the backend
killed by pg_terminate_backend) is registered once the registrar reconnects, instead of leaving stored
instances unregistered."""

from __future__ import annotations

from typing import Any

import pytest

from pacs.dicom import store
from tests.pacs.dicom.synth import PatientSpec, SeriesSpec, StudySpec
from tests.pacs.test_pacs_ingest import MODALITY, datasets, sender


def _kill_other_backends() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_a_batch_is_registered_after_its_connection_is_killed(transactional_db: Any, storage_root: str,
                                                              dicom_settings: Any, caplog: Any) -> None:
    import logging

    from django.db import connection

    from cube.core.services import system_setup
    from pacs.models import PACSSeries
    from pacs.services.ingest import RegistrySink
    from pacs.services.listener import listener_start
    from pacs.services.nodes import pacs_create
    from uploads.models import ChrisFile

    if connection.vendor != "postgresql":
        pytest.skip("kills the registrar's PostgreSQL backend; run with DATABASE_URL=postgres://... (CI does)")
    system_setup(admin_password="chris1234")
    pacs_create(identifier="SCANNER", aet=MODALITY, host="127.0.0.1", port=104)
    sink = RegistrySink(batch_size=100, batch_seconds=60)
    running = listener_start(aet="CUBEAPI", port=0, bind="127.0.0.1", sink=sink)
    spec = SeriesSpec("MR", "T1", 5)
    study = StudySpec("20240101", "BRAIN", "A1", [spec])
    sent = datasets(PatientSpec("P3", "A^B", "19800101", "M", [study]), study, spec, 5)
    try:
        assert store(sender(running), sent[:2]) == [0, 0]
        sink.flush()  # the registrar thread now holds an open connection
        assert _kill_other_backends() >= 1
        with caplog.at_level(logging.WARNING, logger="pacs.services.ingest"):
            assert store(sender(running), sent[2:]) == [0, 0, 0]
            sink.flush()
    finally:
        running.stop()
    assert any("the database is unavailable" in r.getMessage() for r in caplog.records)
    assert sink.registration_errors == 0
    assert ChrisFile.objects.filter(fname__startswith="SERVICES/PACS/SCANNER/").count() == 5
    assert PACSSeries.objects.get(SeriesInstanceUID=spec.uid).ndicom == 5
