"""The command decoders of the DUL-thread paths (C-STORE-RQ for our SCP, C-MOVE/C-GET-RSP for our SCU): what
they take, and what they leave to pynetdicom (which then decodes, serves or aborts as it always did)."""

from __future__ import annotations

import struct

from pacs.dicom._fastpath import decode_retrieve_response, decode_store_request

MR = "1.2.840.10008.5.1.4.1.1.4"
INSTANCE = "1.2.826.0.1.3680043.8.498.1234567890"


def _element(tag: int, value: bytes) -> bytes:
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value)) + value


def _ui(uid: str) -> bytes:
    raw = uid.encode()
    return raw + b"\x00" if len(raw) % 2 else raw


def _us(value: int) -> bytes:
    return struct.pack("<H", value)


def _command(*, field: int = 0x0001, sop_class: str = MR, instance: str = INSTANCE, data_set: int = 0x0000,
             extra: bytes = b"") -> bytes:
    body = b"".join((
        _element(0x00000002, _ui(sop_class)),
        _element(0x00000100, _us(field)),
        _element(0x00000110, _us(7)),
        _element(0x00000700, _us(0)),
        _element(0x00000800, _us(data_set)),
        _element(0x00001000, _ui(instance)),
        extra,
    ))
    return _element(0x00000000, struct.pack("<L", len(body))) + body


def test_a_c_store_request_is_decoded() -> None:
    # Non-conformant but accepted, as pynetdicom accepts it (unless ENFORCE_UID_CONFORMANCE is set).
    assert decode_store_request(_command(instance="1.2.3.abc"), 1) is not None
    extra = _element(0x00001030, b"ORTHANC ") + _element(0x00001031, _us(3))
    request = decode_store_request(_command(extra=extra), 5)
    assert request is not None
    assert (request.AffectedSOPClassUID, request.AffectedSOPInstanceUID) == (MR, INSTANCE)
    assert (request.MessageID, request.Priority, request._context_id) == (7, 0, 5)
    assert request.MoveOriginatorApplicationEntityTitle == "ORTHANC"
    assert request.MoveOriginatorMessageID == 3


def test_everything_else_is_left_to_pynetdicom() -> None:
    assert decode_store_request(_command(field=0x0030, sop_class="1.2.840.10008.1.1", data_set=0x0101), 1) is None
    assert decode_store_request(_command(data_set=0x0101), 1) is None  # a C-STORE without a data set
    assert decode_store_request(_command(instance="1." * 40), 1) is None  # too long: pynetdicom aborts
    assert decode_store_request(_command(instance=""), 1) is None
    assert decode_store_request(_command(sop_class="1.2.840.10008.1.1"), 1) is None  # not a storage class
    assert decode_store_request(_command(extra=_element(0x00000902, b"COMMENT ")), 1) is None  # unknown element
    assert decode_store_request(_command()[:-5], 1) is None  # truncated
    assert decode_store_request(_command().replace(_us(7), b"\x07\x00\x00\x00", 1), 1) is None  # odd length


def _response(field: int = 0x8021, status: int = 0xFF00, data_set: int = 0x0101, extra: bytes = b"",
              counts: tuple[int, ...] = (5, 2, 0, 1)) -> bytes:
    body = b"".join((
        _element(0x00000002, _ui("1.2.840.10008.5.1.4.1.2.2.2")),
        _element(0x00000100, _us(field)),
        _element(0x00000120, _us(9)),
        _element(0x00000800, _us(data_set)),
        _element(0x00000900, _us(status)),
        *(_element(0x00001020 + i, _us(n)) for i, n in enumerate(counts)),
        extra,
    ))
    return _element(0x00000000, struct.pack("<L", len(body))) + body


def test_retrieve_responses_without_identifier_are_decoded() -> None:
    move = decode_retrieve_response(_response(), 3)
    assert move is not None and type(move).__name__ == "C_MOVE"
    assert (move.MessageIDBeingRespondedTo, move.Status, move._context_id) == (9, 0xFF00, 3)
    assert (move.NumberOfRemainingSuboperations, move.NumberOfCompletedSuboperations,
            move.NumberOfFailedSuboperations, move.NumberOfWarningSuboperations) == (5, 2, 0, 1)
    final = decode_retrieve_response(_response(field=0x8010, status=0x0000, counts=()), 1)
    assert final is not None and type(final).__name__ == "C_GET" and final.Status == 0
    assert final.NumberOfCompletedSuboperations is None


def test_other_responses_are_left_to_pynetdicom() -> None:
    assert decode_retrieve_response(_response(data_set=0x0000), 1) is None  # an identifier follows
    assert decode_retrieve_response(_response(extra=_element(0x00000902, b"WHY ")), 1) is None  # error comment
    assert decode_retrieve_response(_response(field=0x8020), 1) is None  # a C-FIND-RSP
    assert decode_retrieve_response(_command(), 1) is None  # a request
    assert decode_retrieve_response(_response()[:-3], 1) is None
