"""Fast paths for received instances: the Part-10 file meta, and the few header attributes sinks need.

Building the file meta through pydicom (validated FileMetaDataset, then encode) and parsing a whole
header cost ~10 ms per instance: more than receiving and writing it. The meta group is six fixed
elements, and everything a sink files an instance by sits before (0020,0011).
"""

from __future__ import annotations

import functools
import io
import struct
from typing import BinaryIO

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag
from pydicom.uid import UID
from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION

PREAMBLE = b"\x00" * 128 + b"DICM"
# Last tag a sink needs: SeriesNumber. PatientID, study/series UIDs, dates, descriptions,
# Modality and ProtocolName (0018,1030) all come before it.
IDENTIFYING_HEADER_END = 0x00200011


def _element(group_elem: int, vr: bytes, value: bytes) -> bytes:
    tag = struct.pack("<HH", group_elem >> 16, group_elem & 0xFFFF)
    if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT"):
        return tag + vr + b"\x00\x00" + struct.pack("<L", len(value)) + value
    return tag + vr + struct.pack("<H", len(value)) + value


def _text(value: str, pad: bytes) -> bytes:
    raw = value.encode("ascii", "replace")
    return raw + pad if len(raw) % 2 else raw


def encode_file_meta(sop_class_uid: str, sop_instance_uid: str, transfer_syntax_uid: str, source_aet: str) -> bytes:
    """Preamble, 'DICM' and the File Meta Information group (explicit VR little endian)."""
    body = b"".join(
        (
            _element(0x00020001, b"OB", b"\x00\x01"),
            _element(0x00020002, b"UI", _text(sop_class_uid, b"\x00")),
            _element(0x00020003, b"UI", _text(sop_instance_uid, b"\x00")),
            _element(0x00020010, b"UI", _text(transfer_syntax_uid, b"\x00")),
            _element(0x00020012, b"UI", _text(PYNETDICOM_IMPLEMENTATION_UID, b"\x00")),
            _element(0x00020013, b"SH", _text(PYNETDICOM_IMPLEMENTATION_VERSION, b" ")),
            # Provenance: which node sent the file (PS3.10 allows it; pynetdicom leaves it out).
            _element(0x00020016, b"AE", _text(source_aet[:16], b" ")) if source_aet else b"",
        )
    )
    return PREAMBLE + _element(0x00020000, b"UL", struct.pack("<L", len(body))) + body


def _past_identifying_header(tag: BaseTag, vr: str | None, length: int) -> bool:
    return bool(tag > IDENTIFYING_HEADER_END)


# What sinks file and index an instance by (query.SERIES_INDEX_KEYS plus SOP identity and charset).
IDENTIFYING_TAGS = frozenset(
    {
        0x00080005,  # SpecificCharacterSet
        0x00080016,  # SOPClassUID
        0x00080018,  # SOPInstanceUID
        0x00080020,  # StudyDate
        0x00080030,  # StudyTime
        0x00080050,  # AccessionNumber
        0x00080060,  # Modality
        0x00081030,  # StudyDescription
        0x0008103E,  # SeriesDescription
        0x00100010,  # PatientName
        0x00100020,  # PatientID
        0x00100030,  # PatientBirthDate
        0x00100040,  # PatientSex
        0x00101010,  # PatientAge
        0x00181030,  # ProtocolName
        0x0020000D,  # StudyInstanceUID
        0x0020000E,  # SeriesInstanceUID
        0x00200010,  # StudyID
        0x00200011,  # SeriesNumber
    }
)

# Explicit VR encodings with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"})
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD


def _element_header(buf: memoryview, pos: int, implicit: bool) -> tuple[int, bytes | None, int, int]:
    """(tag, VR or None, value length, value offset) of the element at `pos`."""
    group, elem = struct.unpack_from("<HH", buf, pos)
    tag = (group << 16) | elem
    if implicit or group == 0xFFFE:  # item and delimiter tags never carry a VR
        return tag, None, struct.unpack_from("<L", buf, pos + 4)[0], pos + 8
    vr = bytes(buf[pos + 4 : pos + 6])
    if vr in _LONG_VRS:
        return tag, vr, struct.unpack_from("<L", buf, pos + 8)[0], pos + 12
    return tag, vr, struct.unpack_from("<H", buf, pos + 6)[0], pos + 8


def _skip_undefined(buf: memoryview, pos: int, implicit: bool) -> int:
    """Position just after an undefined-length value (a sequence of items) starting at `pos`."""
    while True:
        tag, _vr, length, start = _element_header(buf, pos, True)
        if tag == _SEQUENCE_END:
            return start
        if tag != _ITEM:
            raise ValueError(f"expected an item at offset {pos}, found tag {tag:08X}")
        if length != _UNDEFINED:
            pos = start + length
            continue
        pos = start
        while True:  # elements of an undefined-length item, up to its delimiter
            tag, vr, length, start = _element_header(buf, pos, implicit)
            if tag == _ITEM_END:
                pos = start
                break
            # Undefined-length UN content is implicit VR (PS3.5 6.2.2).
            pos = _skip_undefined(buf, start, implicit or vr == b"UN") if length == _UNDEFINED else start + length


# (group, element, VR, 16-bit length) of an explicit VR element; (group, element, 32-bit length) of an implicit.
_EXPLICIT = struct.Struct("<HH2sH")
_IMPLICIT = struct.Struct("<HHL")
_LENGTH32 = struct.Struct("<L")


@functools.lru_cache(maxsize=64)
def _scan_mode(transfer_syntax_uid: str) -> bool | None:
    """Whether the syntax is implicit VR, or None for syntaxes not scanned (deflated, big endian)."""
    ts = UID(transfer_syntax_uid)
    if ts.is_deflated or not ts.is_transfer_syntax or not ts.is_little_endian:
        return None
    return bool(ts.is_implicit_VR)


def scan_identifying_values(stream: io.BytesIO, transfer_syntax_uid: str) -> dict[int, tuple[str | None, bytes]] | None:
    """tag -> (VR, raw value) of the IDENTIFYING_TAGS present in a dataset encoded without file meta.

    Steps over element headers up to (0020,0011); undefined-length sequences are skipped. None for
    transfer syntaxes it does not scan (deflated, big endian). ValueError for a truncated dataset.
    Called once per received instance, so the loop is written out rather than shared with the helpers above.
    """
    implicit = _scan_mode(transfer_syntax_uid)
    if implicit is None:
        return None
    buf = stream.getbuffer()
    try:
        found: dict[int, tuple[str | None, bytes]] = {}
        pos, end = 0, len(buf)
        while pos + 8 <= end:
            group = buf[pos] | (buf[pos + 1] << 8)
            if implicit or group == 0xFFFE:
                group, elem, length = _IMPLICIT.unpack_from(buf, pos)
                vr, start = None, pos + 8
            else:
                group, elem, raw_vr, length = _EXPLICIT.unpack_from(buf, pos)
                vr = raw_vr.decode("latin-1")
                if raw_vr in _LONG_VRS:
                    length, start = _LENGTH32.unpack_from(buf, pos + 8)[0], pos + 12
                else:
                    start = pos + 8
            tag = (group << 16) | elem
            if tag > IDENTIFYING_HEADER_END:
                break
            if length == _UNDEFINED:
                pos = _skip_undefined(buf, start, implicit or vr == "UN")
                continue
            if start + length > end:
                raise ValueError(f"element {tag:08X} runs past the end of the dataset")
            if tag in IDENTIFYING_TAGS:
                found[tag] = (vr, bytes(buf[start : start + length]))
            pos = start + length
    except struct.error as exc:
        raise ValueError(f"dataset ends inside an element header: {exc}") from exc
    finally:
        buf.release()
    return found


def identifying_dataset(values: dict[int, tuple[str | None, bytes]], implicit: bool) -> Dataset:
    """A Dataset of raw elements (pydicom decodes each on access) from :func:`scan_identifying_values`."""
    elements: dict[BaseTag, DataElement | RawDataElement] = {}
    for tag, (vr, value) in values.items():
        key = BaseTag(tag)
        elements[key] = RawDataElement(key, vr, len(value), value, 0, implicit, True)
    return Dataset(elements)


def read_identifying_header(stream: io.BytesIO, transfer_syntax_uid: str) -> Dataset | None:
    """The IDENTIFYING_TAGS elements of a dataset encoded without file meta, undecoded.

    None for transfer syntaxes it does not scan (deflated, big endian): the caller then uses
    :func:`read_identifying_header_part10`.
    """
    values = scan_identifying_values(stream, transfer_syntax_uid)
    if values is None:
        return None
    return identifying_dataset(values, bool(_scan_mode(transfer_syntax_uid)))


def uid_text(raw: bytes) -> str:
    """A UI value as pydicom reads it: ASCII, trailing NUL padding and spaces removed."""
    return raw.decode("ascii", "replace").rstrip("\x00 ")


def read_identifying_header_part10(stream: BinaryIO) -> Dataset:
    """The same from a whole Part-10 file (any transfer syntax, deflated included)."""
    return read_partial(stream, stop_when=_past_identifying_header, specific_tags=list(IDENTIFYING_TAGS))
