"""A remote DICOM node and the association handling shared by every SCU operation.

Turns pynetdicom's silent failure modes (a False ``is_established``, an empty status dataset) into
exceptions whose message names the peer and the likely cause.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset
from pynetdicom.presentation import PresentationContext

from ._transport import TunedAE, TunedAssociationSocket, cheap_copy_contexts, keep_responses_for_the_caller
from .errors import DicomAssociationError, DicomConnectionError, DicomError
from .scp import DEFAULT_MAX_PDU

if TYPE_CHECKING:
    from pynetdicom.association import Association


@dataclass(frozen=True)
class PacsNode:
    """A remote DICOM node and how we talk to it. Timeouts are in seconds."""

    aet: str
    host: str
    port: int
    calling_aet: str = "CHRIS"
    connect_timeout: float = 10.0
    acse_timeout: float = 30.0
    # Per response: a C-MOVE may wait this long between two pending responses.
    dimse_timeout: float = 120.0
    network_timeout: float = 120.0
    max_pdu: int = DEFAULT_MAX_PDU

    def __str__(self) -> str:
        return f"PACS {self.aet} at {self.host}:{self.port}"


def make_ae(node: PacsNode) -> TunedAE:
    ae = TunedAE(ae_title=node.calling_aet)
    ae.connection_timeout = node.connect_timeout
    ae.acse_timeout = node.acse_timeout
    ae.dimse_timeout = node.dimse_timeout
    ae.network_timeout = node.network_timeout
    ae.maximum_pdu_size = node.max_pdu
    return ae


def association_failure(node: PacsNode, assoc: Association, services: str) -> DicomError:
    sock = assoc.dul.socket
    connect_error = getattr(sock, "connect_error", None) if isinstance(sock, TunedAssociationSocket) else None
    if connect_error is not None:
        if isinstance(connect_error, TimeoutError):
            reason = f"no answer within {node.connect_timeout:g} s"
        else:
            reason = connect_error.strerror or str(connect_error)
        return DicomConnectionError(f"could not connect to {node}: {reason}")
    primitive = assoc.acceptor.primitive
    if assoc.is_rejected and primitive is not None:
        reason = str(primitive.reason_str)
        hint = ""
        if "calling AE title" in reason.lower() or "calling ae title" in reason.lower():
            hint = f" (is our AE title {node.calling_aet!r} registered on the PACS?)"
        elif "called ae title" in reason.lower():
            hint = f" (the PACS does not answer to AE title {node.aet!r})"
        return DicomAssociationError(
            f"{node} refused the association: {primitive.result_str}, {primitive.source_str}: "
            f"{reason}{hint}"
        )
    if primitive is not None and getattr(primitive, "result", None) == 0x00:
        return DicomAssociationError(
            f"{node} accepted the association but none of the requested services ({services}); "
            "it may not support them for our AE title"
        )
    if primitive is None:
        return DicomAssociationError(
            f"{node} did not answer the association request within {node.acse_timeout:g} s "
            "(is it a DICOM node on that port?)"
        )
    return DicomAssociationError(f"{node} aborted the association request")


@contextmanager
def association(
    node: PacsNode,
    contexts: list[PresentationContext],
    services: str,
    ext_neg: list[Any] | None = None,
    handlers: list[Any] | None = None,
) -> Iterator[Association]:
    ae = make_ae(node)
    assoc = ae.associate(
        node.host,
        node.port,
        contexts=cheap_copy_contexts(contexts),
        ae_title=node.aet,
        max_pdu=node.max_pdu,
        ext_neg=ext_neg,
        evt_handlers=handlers,
    )
    if not assoc.is_established:
        raise association_failure(node, assoc, services)
    keep_responses_for_the_caller(assoc)
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


def lost(node: PacsNode, op: str, assoc: Association | None = None, waited: float = 0.0) -> DicomAssociationError:
    """Why a DIMSE exchange ended without a response: the peer's timeout or its abort."""
    if waited >= node.dimse_timeout * 0.9:
        return DicomAssociationError(f"{node} sent no response within {node.dimse_timeout:g} s during {op}")
    if assoc is not None:
        # pynetdicom hands over the empty response a moment before it flags the abort.
        deadline = time.monotonic() + 1.0
        while not assoc.is_aborted and assoc.is_established and time.monotonic() < deadline:
            time.sleep(0.01)
        if assoc.is_aborted:
            return DicomAssociationError(
                f"{node} aborted the association during {op} (is our AE title {node.calling_aet!r} "
                "registered on it and allowed to do this?)"
            )
    return DicomAssociationError(f"{node} ended the association unexpectedly during {op}")


def status_text(table: Mapping[int, tuple[str, str]], code: int, status: Dataset) -> str:
    description = table.get(code, ("Failure", "unknown status"))[1] or "failure"
    comment = status.get("ErrorComment")
    if comment:
        description += f": {str(comment).strip()}"
    return f"{description} (0x{code:04X})"

