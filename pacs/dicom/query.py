"""C-FIND identifiers from plain dicts, and DICOM datasets back to JSON-able dicts.

Callers (the API's PACS queries) speak DICOM keywords with string values; this module owns which
keywords are allowed, how dates and lists are written on the wire, and which return keys each query
level asks for, so that results always carry e.g. NumberOfSeriesRelatedInstances.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydicom.datadict import dictionary_VM, dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.valuerep import PersonName

Level = Literal["STUDY", "SERIES", "IMAGE"]
LEVELS: tuple[Level, ...] = ("STUDY", "SERIES", "IMAGE")

JSONValue = str | int | float | None | list[Any]

# Patient and study attributes: matched and returned by the study-level query.
STUDY_KEYS: tuple[str, ...] = (
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "AccessionNumber",
    "StudyID",
    "ReferringPhysicianName",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)

SERIES_KEYS: tuple[str, ...] = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "ProtocolName",
    "SeriesDate",
    "SeriesTime",
    "BodyPartExamined",
    "StationName",
    "InstitutionName",
    "NumberOfSeriesRelatedInstances",
)

IMAGE_KEYS: tuple[str, ...] = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "SOPClassUID",
    "InstanceNumber",
)

# Asked for at each level when the caller does not match on them.
RETURN_KEYS: dict[Level, tuple[str, ...]] = {
    "STUDY": STUDY_KEYS,
    # Patient/study context on series rows lets the API show and index a series on its own.
    "SERIES": SERIES_KEYS
    + ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyDate", "AccessionNumber"),
    "IMAGE": IMAGE_KEYS,
}

ALLOWED_KEYS: frozenset[str] = frozenset(STUDY_KEYS + SERIES_KEYS + IMAGE_KEYS)

# The indexed columns of a registered series (what the API searches on).
SERIES_INDEX_KEYS: tuple[str, ...] = (
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientAge",
    "PatientSex",
    "StudyDate",
    "AccessionNumber",
    "Modality",
    "ProtocolName",
    "StudyInstanceUID",
    "StudyDescription",
    "SeriesInstanceUID",
    "SeriesDescription",
    "SeriesNumber",
)

_DATE_RE = re.compile(r"^(\d{8}|\d{8}-\d{8}|\d{8}-|-\d{8})$")
_TIME_RE = re.compile(r"^[0-9.]*-?[0-9.]*$")
_DATE_VRS = {"DA"}
_TIME_VRS = {"TM"}
_INT_VRS = {"IS", "SL", "SS", "UL", "US"}
_FLOAT_VRS = {"DS", "FL", "FD"}


def _vr(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    if tag is None:  # pragma: no cover - ALLOWED_KEYS only lists dictionary keywords
        raise ValueError(f"not a DICOM keyword: {keyword}")
    return str(dictionary_VR(tag))


def check_keys(query: Mapping[str, Any]) -> None:
    """Raise ValueError naming every key of `query` that is not an allowed DICOM keyword."""
    unknown = sorted(k for k in query if k not in ALLOWED_KEYS)
    if unknown:
        raise ValueError(
            "unknown query key(s): "
            + ", ".join(unknown)
            + "; allowed DICOM keywords are: "
            + ", ".join(sorted(ALLOWED_KEYS))
        )


def _wire_value(keyword: str, value: Any) -> str:
    """Render one matching value as DICOM text, validating dates so a typo is not a silent no-match."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        # List of UID matching (and multi-valued CS) travels as one backslash-separated value.
        return "\\".join(_wire_value(keyword, v) for v in value)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{keyword}: expected a string, got {type(value).__name__}")
    text = str(value).strip()
    vr = _vr(keyword)
    if text and vr in _DATE_VRS and not _DATE_RE.match(text):
        raise ValueError(
            f"{keyword}: {text!r} is not a DICOM date or range (YYYYMMDD, YYYYMMDD-YYYYMMDD, "
            "YYYYMMDD- or -YYYYMMDD)"
        )
    if text and vr in _TIME_VRS and not _TIME_RE.match(text):
        raise ValueError(f"{keyword}: {text!r} is not a DICOM time or time range")
    return text


def build_identifier(level: Level, query: Mapping[str, Any], extra_return_keys: Iterable[str] = ()) -> Dataset:
    """The C-FIND/C-MOVE/C-GET identifier for `query` at `level` (keys validated, return keys added)."""
    if level not in LEVELS:
        raise ValueError(f"query level must be one of {', '.join(LEVELS)}, not {level!r}")
    check_keys(query)
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword in (*RETURN_KEYS[level], *extra_return_keys):
        if keyword not in query:
            setattr(ds, keyword, "")
    for keyword, value in query.items():
        setattr(ds, keyword, _wire_value(keyword, value))
    return ds


def _multi_valued(keyword: str) -> bool:
    tag = tag_for_keyword(keyword)
    return tag is not None and dictionary_VM(tag) != "1"


def _json_value(vr: str, value: Any, multi: bool = False) -> JSONValue:
    if multi and not isinstance(value, (MultiValue, list, tuple)):
        # VM 1-n attributes (ModalitiesInStudy, ...) are lists even when one value came back.
        return [] if value is None or value == "" else [_json_value(vr, value)]
    if value is None or value == "":
        return None
    if isinstance(value, (MultiValue, list, tuple)):
        items = [_json_value(vr, v) for v in value]
        return [v for v in items if v is not None]
    if isinstance(value, PersonName):
        return str(value)
    if vr in _INT_VRS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return str(value)
    if vr in _FLOAT_VRS:
        try:
            return float(value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return str(value)


# Bookkeeping elements of a response that mean nothing to API users.
_SKIP_KEYWORDS = frozenset({"QueryRetrieveLevel", "SpecificCharacterSet"})


def dataset_to_dict(ds: Dataset, keywords: Iterable[str] | None = None) -> dict[str, JSONValue]:
    """Keyword -> JSON-able value for the top-level, non-sequence elements of `ds`.

    With `keywords`, exactly those keys are returned (None where absent or empty).
    """
    if keywords is not None:
        out: dict[str, JSONValue] = {}
        for keyword in keywords:
            elem = ds.get(keyword)
            value = None if elem is None else ds[keyword].value
            out[keyword] = _json_value(_vr(keyword), value, _multi_valued(keyword))
        return out
    result: dict[str, JSONValue] = {}
    for elem in ds:
        keyword = elem.keyword
        if not keyword or keyword in _SKIP_KEYWORDS or elem.VR == "SQ" or elem.tag.group == 0x0002:
            continue
        result[keyword] = _json_value(str(elem.VR), elem.value, _multi_valued(keyword))
    return result


def split_query(query: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a mixed query into (study-level matching keys, series-level matching keys).

    A series-level Modality also narrows the study query through ModalitiesInStudy, so studies with
    no such series are not listed only to be queried and dropped.
    """
    check_keys(query)
    image_only = sorted(k for k in query if k not in STUDY_KEYS and k not in SERIES_KEYS)
    if image_only:
        raise ValueError(
            "instance-level key(s) cannot be used in a study/series query: " + ", ".join(image_only)
        )
    study: dict[str, Any] = {}
    series: dict[str, Any] = {}
    for key, value in query.items():
        if key in STUDY_KEYS:
            study[key] = value
        else:
            series[key] = value
    if series.get("Modality") and "ModalitiesInStudy" not in study:
        study["ModalitiesInStudy"] = series["Modality"]
    return study, series
