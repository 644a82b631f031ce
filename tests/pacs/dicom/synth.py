"""Synthetic DICOM for the tests: small MR and CT series with fresh UIDs, built with pydicom.

No binary test files are shipped; every run makes its own patients, studies and series.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

SOP_CLASS = {"MR": MRImageStorage, "CT": CTImageStorage}


@dataclass
class SeriesSpec:
    modality: str
    description: str
    instances: int
    protocol: str = ""
    uid: str = field(default_factory=generate_uid)
    sop_uids: list[str] = field(default_factory=list)


@dataclass
class StudySpec:
    date: str
    description: str
    accession: str
    series: list[SeriesSpec]
    uid: str = field(default_factory=generate_uid)


@dataclass
class PatientSpec:
    patient_id: str
    name: str
    birth_date: str
    sex: str
    studies: list[StudySpec]


def make_instance(patient: PatientSpec, study: StudySpec, series: SeriesSpec, number: int, size: int = 16) -> bytes:
    """One Part-10 file (explicit VR little endian) with a size x size 16-bit image."""
    sop_uid = generate_uid()
    series.sop_uids.append(sop_uid)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SOP_CLASS[series.modality]
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = SOP_CLASS[series.modality]
    ds.SOPInstanceUID = sop_uid
    ds.PatientID = patient.patient_id
    ds.PatientName = patient.name
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.StudyInstanceUID = study.uid
    ds.StudyDate = study.date
    ds.StudyTime = "101500"
    ds.StudyDescription = study.description
    ds.AccessionNumber = study.accession
    ds.StudyID = "1"
    ds.ReferringPhysicianName = ""
    ds.SeriesInstanceUID = series.uid
    ds.SeriesNumber = study.series.index(series) + 1
    ds.SeriesDescription = series.description
    ds.ProtocolName = series.protocol or series.description
    ds.Modality = series.modality
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [0.0, 0.0, float(number)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [1.0, 1.0]
    ds.SliceThickness = 1.0
    ds.Rows = size
    ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = struct.pack(f"<{size * size}H", *(((i + number) % 4096) for i in range(size * size)))

    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def sample_patients() -> list[PatientSpec]:
    """Three patients, four studies, five series (MR and CT), 17 instances in all."""
    return [
        PatientSpec(
            "CUBETEST-001",
            "DOE^JOHN",
            "19700101",
            "M",
            [
                StudySpec(
                    "20240110",
                    "BRAIN MRI",
                    "ACC001",
                    [SeriesSpec("MR", "T1 SAG", 5, "t1_mprage"), SeriesSpec("MR", "T2 AX", 3, "t2_tse")],
                ),
                StudySpec("20240305", "CHEST CT", "ACC002", [SeriesSpec("CT", "CHEST 5MM", 4)]),
            ],
        ),
        PatientSpec(
            "CUBETEST-002",
            "DOE^JANE",
            "19850615",
            "F",
            [StudySpec("20230615", "KNEE MRI", "ACC003", [SeriesSpec("MR", "PD COR", 2)])],
        ),
        PatientSpec(
            "CUBETEST-003",
            "SMITH^ALICE",
            "19601231",
            "F",
            [StudySpec("20240120", "ABDOMEN CT", "ACC004", [SeriesSpec("CT", "ABD 3MM", 3)])],
        ),
    ]


def find_series(patients: list[PatientSpec], description: str) -> tuple[PatientSpec, StudySpec, SeriesSpec]:
    """The (patient, study, series) whose series has this description; KeyError if none."""
    for patient in patients:
        for study in patient.studies:
            for series in study.series:
                if series.description == description:
                    return patient, study, series
    raise KeyError(description)


def build_all(patients: list[PatientSpec]) -> list[bytes]:
    files = []
    for patient in patients:
        for study in patient.studies:
            for series in study.series:
                for n in range(1, series.instances + 1):
                    files.append(make_instance(patient, study, series, n))
    return files
