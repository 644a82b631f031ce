"""Fixtures: one real Orthanc per session loaded with synthetic patients, and per-test storage SCPs.

Under CI=true a missing Orthanc fails the tests; elsewhere they skip with the reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pacs.dicom import FileSink, PacsNode, StorageSCP, run_scp
from tests.conftest import in_ci
from tests.support.orthanc import Orthanc, find_orthanc

from .synth import PatientSpec, SeriesSpec, StudySpec, build_all, find_series, sample_patients

OUR_AET = "CUBETEST"
_receiver_ids = itertools.count(1)


@dataclass
class LoadedPacs:
    orthanc: Orthanc
    node: PacsNode
    patients: list[PatientSpec]

    def series(self, description: str) -> tuple[PatientSpec, StudySpec, SeriesSpec]:
        return find_series(self.patients, description)


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    if find_orthanc() is None:
        message = "Orthanc is not installed (run .ci/setup-pacs.sh)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    # Our calling AE must be known to Orthanc for C-FIND/C-MOVE/C-GET; its port is a placeholder
    # until a test's SCP registers the real one as a move destination.
    server = Orthanc(
        tmp_path_factory.mktemp("orthanc"),
        modalities={"cubetest": (OUR_AET, "127.0.0.1", 9)},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pacs(orthanc: Orthanc) -> LoadedPacs:
    patients = sample_patients()
    for blob in build_all(patients):
        answer = orthanc.upload(blob)
        assert answer["Status"] in ("Success", "AlreadyStored"), answer
    node = PacsNode(aet=orthanc.aet, host=orthanc.host, port=orthanc.dicom_port, calling_aet=OUR_AET)
    return LoadedPacs(orthanc, node, patients)


@dataclass
class Receiver:
    scp: StorageSCP
    sink: FileSink
    aet: str
    root: Path


@pytest.fixture
def receiver(tmp_path: Path, orthanc: Orthanc) -> Iterator[Receiver]:
    """Our storage SCP with a FileSink on a free port, registered in Orthanc under a unique AET."""
    sink = FileSink(tmp_path / "received")
    aet = f"RCV{next(_receiver_ids)}"
    scp = run_scp(aet, 0, sink)
    orthanc.add_modality(aet.lower(), aet, "127.0.0.1", scp.port)
    try:
        yield Receiver(scp, sink, aet, tmp_path / "received")
    finally:
        scp.shutdown()
        orthanc.remove_modality(aet.lower())
