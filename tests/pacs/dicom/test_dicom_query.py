"""Identifiers built from plain dicts, and datasets turned back into JSON-able dicts (no network)."""

from __future__ import annotations

import json

import pytest
from pydicom.dataset import Dataset

from pacs.dicom.query import RETURN_KEYS, build_identifier, dataset_to_dict, split_query
from pacs.dicom.scu import retrieve_identifier


def test_identifier_has_level_matching_keys_and_return_keys() -> None:
    ds = build_identifier("SERIES", {"PatientID": "P1", "Modality": "MR"})
    assert ds.QueryRetrieveLevel == "SERIES"
    assert ds.PatientID == "P1"
    assert ds.Modality == "MR"
    assert "NumberOfSeriesRelatedInstances" in ds
    assert ds.NumberOfSeriesRelatedInstances in ("", None)
    for keyword in RETURN_KEYS["SERIES"]:
        assert keyword in ds


def test_unknown_keys_are_named_in_the_error() -> None:
    with pytest.raises(ValueError) as info:
        build_identifier("STUDY", {"PatientID": "x", "PatientShoeSize": "42", "Colour": "red"})
    message = str(info.value)
    assert "PatientShoeSize" in message and "Colour" in message
    assert "PatientID," not in message.split(";")[0]


@pytest.mark.parametrize("value", ["20240101", "20240101-20240131", "20240101-", "-20240131"])
def test_dicom_date_forms_are_accepted(value: str) -> None:
    assert build_identifier("STUDY", {"StudyDate": value}).StudyDate == value


@pytest.mark.parametrize("value", ["2024-01-01", "yesterday", "20240101--20240102", "2024010"])
def test_malformed_dates_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="StudyDate"):
        build_identifier("STUDY", {"StudyDate": value})


def test_list_values_become_list_matches() -> None:
    ds = build_identifier("SERIES", {"SeriesInstanceUID": ["1.2.3", "1.2.4"]})
    assert list(ds.SeriesInstanceUID) == ["1.2.3", "1.2.4"]


def test_bad_level_and_bad_value_type() -> None:
    with pytest.raises(ValueError, match="level"):
        build_identifier("PATIENT", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="PatientID"):
        build_identifier("STUDY", {"PatientID": {"nested": 1}})


def test_dataset_to_dict_is_json_able_with_typed_values() -> None:
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientName = "DOE^JOHN"
    ds.NumberOfStudyRelatedInstances = "12"
    ds.ModalitiesInStudy = "MR"
    ds.StudyDescription = ""
    out = dataset_to_dict(ds)
    assert out == {
        "PatientName": "DOE^JOHN",
        "NumberOfStudyRelatedInstances": 12,
        "ModalitiesInStudy": ["MR"],
        "StudyDescription": None,
    }
    json.dumps(out)
    wanted = dataset_to_dict(ds, ["PatientName", "PatientID"])
    assert wanted == {"PatientName": "DOE^JOHN", "PatientID": None}


def test_split_query_routes_keys_and_narrows_studies_by_modality() -> None:
    study, series = split_query({"PatientID": "P1", "StudyDate": "20240101-", "Modality": "CT"})
    assert study == {"PatientID": "P1", "StudyDate": "20240101-", "ModalitiesInStudy": "CT"}
    assert series == {"Modality": "CT"}
    with pytest.raises(ValueError, match="SOPInstanceUID"):
        split_query({"SOPInstanceUID": "1.2"})


def test_retrieve_identifier_takes_unique_keys_only() -> None:
    ds = retrieve_identifier("SERIES", {"StudyInstanceUID": "1.2", "SeriesInstanceUID": "1.2.3"})
    assert (ds.QueryRetrieveLevel, ds.StudyInstanceUID, ds.SeriesInstanceUID) == ("SERIES", "1.2", "1.2.3")
    assert "PatientName" not in ds
    with pytest.raises(ValueError, match="SeriesInstanceUID"):
        retrieve_identifier("SERIES", {"StudyInstanceUID": "1.2"})
    with pytest.raises(ValueError, match="PatientID"):
        retrieve_identifier("SERIES", {"SeriesInstanceUID": "1.2.3", "PatientID": "P1"})
