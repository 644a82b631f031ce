"""The fast Part-10 paths agree with pydicom: file meta we write, headers we scan."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacs.dicom._part10 import IDENTIFYING_TAGS, encode_file_meta, read_identifying_header
from pacs.dicom.query import SERIES_INDEX_KEYS, dataset_to_dict

from .synth import build_all, sample_patients

REPO = Path(__file__).resolve().parents[3]


def _shared_sag() -> list[Path]:
    base = os.environ.get("CUBE_SHARED_DIR")
    root = (Path(base) if base else REPO.parent / "shared") / "data" / "SAG-anon"
    return sorted(root.glob("*.dcm"))[:12]


def _encode(ds: Dataset, implicit: bool) -> io.BytesIO:
    """The dataset as it travels in a C-STORE: no preamble, no file meta."""
    buf = DicomBytesIO()
    buf.is_implicit_VR = implicit
    buf.is_little_endian = True
    write_dataset(buf, ds)
    return io.BytesIO(buf.getvalue())


def _reference(ds: Dataset) -> dict[str, object]:
    """What pydicom itself decodes for the identifying tags."""
    return {e.keyword: dataset_to_dict(ds, [e.keyword])[e.keyword] for e in ds if e.tag in IDENTIFYING_TAGS}


def _with_nested_sequences() -> Dataset:
    ds = dcmread(io.BytesIO(build_all(sample_patients())[0]))
    inner = Dataset()
    inner.ReferencedSOPInstanceUID = "1.2.3"
    deeper = Dataset()
    deeper.CodeValue = "X"
    inner.PurposeOfReferenceCodeSequence = Sequence([deeper])
    ds.ReferencedImageSequence = Sequence([inner, Dataset()])  # (0008,1140): before (0020,0011)
    ds.ReferencedStudySequence = Sequence([])
    ds.PatientName = "Müller^Jürgen"
    ds.SpecificCharacterSet = "ISO_IR 100"
    return ds


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit", "implicit"])
def test_scanned_header_matches_pydicom(implicit: bool) -> None:
    datasets = [_with_nested_sequences()] + [dcmread(io.BytesIO(b)) for b in build_all(sample_patients())[:3]]
    for ds in datasets:
        stream = _encode(ds, implicit)
        ts = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        fast = read_identifying_header(stream, ts)
        assert fast is not None
        assert dataset_to_dict(fast, SERIES_INDEX_KEYS) == dataset_to_dict(ds, SERIES_INDEX_KEYS)
        non_sq = {k: v for k, v in _reference(ds).items()}
        assert {k: dataset_to_dict(fast, [k])[k] for k in non_sq} == non_sq
        assert "Rows" not in fast and "PixelData" not in fast


def test_scanned_header_of_real_scanner_data() -> None:
    files = _shared_sag()
    if not files:
        pytest.skip("shared SAG-anon data not found")
    for path in files:
        ref = dcmread(path, stop_before_pixels=True)
        stream = io.BytesIO(path.read_bytes()[ref.file_meta.get("FileMetaInformationGroupLength", 0) + 144 :])
        fast = read_identifying_header(stream, str(ref.file_meta.TransferSyntaxUID))
        assert fast is not None
        assert dataset_to_dict(fast, SERIES_INDEX_KEYS) == dataset_to_dict(ref, SERIES_INDEX_KEYS)
        assert fast.SOPInstanceUID == ref.SOPInstanceUID


def test_truncated_data_raises_and_deflated_is_declined() -> None:
    whole = _encode(_with_nested_sequences(), False).getvalue()
    full = read_identifying_header(io.BytesIO(whole), ExplicitVRLittleEndian)
    assert full is not None
    raised = 0
    for cut in range(50, len(whole) // 2, 13):
        try:
            part = read_identifying_header(io.BytesIO(whole[:cut]), ExplicitVRLittleEndian)
        except ValueError:
            raised += 1
            continue
        # A cut on an element boundary gives a prefix of the header, never garbage.
        assert part is not None
        assert [e.tag for e in part] == [e.tag for e in full][: len(part)]
        assert all(part[e.tag].value == full[e.tag].value for e in part)
    assert raised > 0
    assert read_identifying_header(io.BytesIO(whole), DeflatedExplicitVRLittleEndian) is None


def test_file_meta_we_write_is_what_pydicom_reads() -> None:
    ds = dcmread(io.BytesIO(build_all(sample_patients())[0]))
    body = _encode(ds, False).getvalue()
    blob = encode_file_meta(str(ds.SOPClassUID), str(ds.SOPInstanceUID), ExplicitVRLittleEndian, "ORTHANC") + body
    back = dcmread(io.BytesIO(blob))
    meta = back.file_meta
    assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert str(meta.SourceApplicationEntityTitle).strip() == "ORTHANC"
    assert meta.FileMetaInformationGroupLength == len(blob) - len(body) - 132 - 12
    assert back.PixelData == ds.PixelData


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian])
def test_series_uids_read_raw_agree_with_the_header(syntax: str) -> None:
    from pydicom.filewriter import dcmwrite

    from pacs.dicom import ReceivedInstance

    for ds in [_with_nested_sequences(), *(dcmread(io.BytesIO(b)) for b in build_all(sample_patients())[:2])]:
        if syntax == DeflatedExplicitVRLittleEndian:
            # Not scanned: the instance reads its header through pydicom from the Part-10 bytes.
            ds.file_meta.TransferSyntaxUID = syntax
            whole = DicomBytesIO()
            dcmwrite(whole, ds, enforce_file_format=True)
            meta_end = 132 + 12 + int.from_bytes(whole.getvalue()[140:144], "little")
            stream = io.BytesIO(whole.getvalue()[meta_end:])
        else:
            stream = _encode(ds, syntax == ImplicitVRLittleEndian)
        instance = ReceivedInstance(
            str(ds.SOPClassUID), str(ds.SOPInstanceUID), syntax, "ORTHANC", 1,
            encode_file_meta(str(ds.SOPClassUID), str(ds.SOPInstanceUID), syntax, "ORTHANC"),
            _data=stream.getbuffer(), _stream=stream,
        )
        assert instance.series_uids() == (ds.StudyInstanceUID, ds.SeriesInstanceUID)
        assert instance.header().SeriesInstanceUID == ds.SeriesInstanceUID
        instance.release()
    del ds.SeriesInstanceUID
    stream = _encode(ds, False)
    bare = ReceivedInstance(str(ds.SOPClassUID), str(ds.SOPInstanceUID), ExplicitVRLittleEndian, "X", 1, b"",
                            _data=stream.getbuffer(), _stream=stream)
    assert bare.series_uids() == (ds.StudyInstanceUID, "")
