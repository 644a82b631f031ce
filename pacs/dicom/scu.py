"""Talking to a PACS as an SCU: C-ECHO, C-FIND, C-MOVE and C-GET (Study Root model).

Each call opens one association, does its work and releases it. Failures never look like empty
results: connection problems raise :class:`DicomConnectionError`, rejections, aborts and silences
raise :class:`DicomAssociationError`, failure statuses of a C-FIND raise :class:`DicomStatusError`,
and retrieves return a :class:`RetrieveResult` whose ``message`` says what happened.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import ALL_TRANSFER_SYNTAXES, StoragePresentationContexts, evt
from pynetdicom.dimse_primitives import C_MOVE, C_STORE
from pynetdicom.presentation import build_context, build_role
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)
from pynetdicom.status import (
    QR_FIND_SERVICE_CLASS_STATUS,
    QR_GET_SERVICE_CLASS_STATUS,
    QR_MOVE_SERVICE_CLASS_STATUS,
)

from .errors import DicomError, DicomStatusError
from .node import PacsNode, association, lost, status_text
from .query import JSONValue, Level, build_identifier, check_keys, dataset_to_dict, split_query
from .sink import StorageSink, handle_store_event, next_association_id

if TYPE_CHECKING:
    from pynetdicom.association import Association
    from pynetdicom.events import Event

log = logging.getLogger(__name__)

_PENDING = (0xFF00, 0xFF01)
_CANCEL = 0xFE00
_RETRIEVE_UID_KEYS = {"STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}
# Uncompressed first, so a peer that can send either does not need to transcode for us.
_GET_TRANSFER_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian] + [
    ts for ts in ALL_TRANSFER_SYNTAXES if ts not in (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
]


@dataclass(frozen=True)
class EchoResult:
    ok: bool
    status: int | None
    message: str
    rtt_ms: float
    association_ms: float = 0.0


@dataclass(frozen=True)
class RetrieveProgress:
    remaining: int | None
    completed: int
    failed: int
    warning: int


@dataclass(frozen=True)
class RetrieveResult:
    """Outcome of a C-MOVE or C-GET. ``ok`` means every sub-operation succeeded."""

    status: int
    completed: int
    failed: int
    warning: int
    message: str

    @property
    def ok(self) -> bool:
        return self.status == 0x0000 and self.failed == 0


MoveResult = RetrieveResult
GetResult = RetrieveResult
ProgressCallback = Callable[[RetrieveProgress], None]


def echo(node: PacsNode) -> EchoResult:
    """C-ECHO the node. Never raises for network problems: ``ok`` and ``message`` say what happened."""
    start = time.perf_counter()
    try:
        with association(node, [build_context(Verification)], "Verification") as assoc:
            associated = time.perf_counter()
            status = assoc.send_c_echo()
            rtt_ms = (time.perf_counter() - associated) * 1000
            failure = None if status else lost(node, "C-ECHO", assoc, rtt_ms / 1000)
    except (DicomError, OSError) as exc:  # OSError: a host that does not resolve (socket.gaierror)
        return EchoResult(False, None, str(exc), 0.0, (time.perf_counter() - start) * 1000)
    association_ms = (associated - start) * 1000
    if failure is not None:
        return EchoResult(False, None, str(failure), rtt_ms, association_ms)
    code = int(status.Status)
    if code != 0x0000:
        return EchoResult(False, code, f"{node} answered C-ECHO with status 0x{code:04X}", rtt_ms, association_ms)
    return EchoResult(True, code, f"{node} answered C-ECHO", rtt_ms, association_ms)


def _find_on(assoc: Association, node: PacsNode, identifier: Dataset) -> list[dict[str, JSONValue]]:
    results: list[dict[str, JSONValue]] = []
    responses = assoc.send_c_find(identifier, StudyRootQueryRetrieveInformationModelFind)
    last = time.monotonic()
    for status, ident in responses:
        if not status:
            raise lost(node, "C-FIND", assoc, time.monotonic() - last)
        last = time.monotonic()
        code = int(status.Status)
        if code in _PENDING:
            if ident is not None:
                results.append(dataset_to_dict(ident))
            continue
        if code == 0x0000:
            return results
        if code == _CANCEL:
            raise DicomStatusError(f"{node} cancelled the C-FIND", code)
        raise DicomStatusError(
            f"{node} failed the C-FIND: {status_text(QR_FIND_SERVICE_CLASS_STATUS, code, status)}", code
        )
    raise lost(node, "C-FIND", assoc, time.monotonic() - last)


_FIND_CONTEXT = "Study Root Query/Retrieve - FIND"


def find(
    node: PacsNode, level: Level, query: Mapping[str, Any], return_keys: Iterable[str] = ()
) -> list[dict[str, JSONValue]]:
    """C-FIND at `level`; `query` maps DICOM keywords to matching values ('' = just return it).

    Dates take DICOM forms including ranges ("20240101-20240131"); a list value is a list match.
    Each result is a dict keyword -> str/int/float/list/None.
    """
    identifier = build_identifier(level, query, return_keys)
    contexts = [build_context(StudyRootQueryRetrieveInformationModelFind)]
    with association(node, contexts, _FIND_CONTEXT) as assoc:
        return _find_on(assoc, node, identifier)


def query_studies_and_series(node: PacsNode, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Studies matching the study-level keys, each with ``"series"``: its series matching the rest.

    With series-level keys (Modality, SeriesDescription, ...), studies with no matching series are
    left out. All the C-FINDs share one association.
    """
    study_query, series_query = split_query(query)
    contexts = [build_context(StudyRootQueryRetrieveInformationModelFind)]
    with association(node, contexts, _FIND_CONTEXT) as assoc:
        studies: list[dict[str, Any]] = list(_find_on(assoc, node, build_identifier("STUDY", study_query)))
        for study in studies:
            uid = study.get("StudyInstanceUID")
            if not uid:
                study["series"] = []
                continue
            identifier = build_identifier("SERIES", {**series_query, "StudyInstanceUID": uid})
            study["series"] = _find_on(assoc, node, identifier)
    if series_query:
        studies = [s for s in studies if s["series"]]
    return studies


def retrieve_identifier(level: Level, query_keys: Mapping[str, Any]) -> Dataset:
    """A C-MOVE/C-GET identifier: only unique keys, and the one of `level` is required."""
    check_keys(query_keys)
    if level not in _RETRIEVE_UID_KEYS:
        raise ValueError(f"retrieve level must be one of {', '.join(_RETRIEVE_UID_KEYS)}, not {level!r}")
    allowed = set(_RETRIEVE_UID_KEYS.values())
    extra = sorted(k for k in query_keys if k not in allowed)
    if extra:
        raise ValueError("a retrieve takes only unique keys (UIDs); not allowed: " + ", ".join(extra))
    required = _RETRIEVE_UID_KEYS[level]
    if not query_keys.get(required):
        raise ValueError(f"a {level}-level retrieve needs {required}")
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for key, value in query_keys.items():
        setattr(ds, key, "\\".join(value) if isinstance(value, (list, tuple)) else str(value))
    return ds


def _count(ds: Dataset | _PendingStatus, keyword: str) -> int | None:
    value = ds.get(keyword)
    return None if value is None or value == "" else int(value)


def _pick(value: int | None, previous: int) -> int:
    return previous if value is None else value


class _PendingStatus:
    """A pending retrieve response's status and counters, read straight off the primitive.

    pynetdicom's ``send_c_move`` generator builds a validated pydicom Dataset for every response: ~0.1 ms
    each, hundreds of times per series, in the worker that shares the CPU with the PACS while it sends.
    """

    __slots__ = ("Status", "_rsp")

    def __init__(self, rsp: Any) -> None:
        self.Status = int(rsp.Status)
        self._rsp = rsp

    def get(self, keyword: str, default: Any = None) -> Any:
        value = getattr(self._rsp, keyword, None) if keyword in self._rsp.STATUS_OPTIONAL_KEYWORDS else None
        return default if value is None else value


def _move_responses(assoc: Association) -> Iterator[tuple[Dataset | _PendingStatus, None]]:
    """The C-MOVE responses on `assoc`, as pynetdicom's ``send_c_move`` generator yields them (an empty
    Dataset when the PACS stopped answering or answered nonsense, after aborting), with a light status for
    pending ones and a Dataset for the final one. Reads the queue pynetdicom's generator would read; use
    after ``send_c_move`` has sent the request, instead of iterating what it returned.
    """
    resume = assoc._reactor_checkpoint.set  # the association's reactor waits while a request is in progress
    try:
        while True:
            _cx, rsp = assoc.dimse.get_msg(block=True)
            if rsp is None:  # the DIMSE timeout expired, or the association ended
                assoc._handle_no_response()
                resume()  # before yielding: the reactor must see the abort the caller asks about
                yield Dataset(), None
                return
            if isinstance(rsp, C_STORE):  # a PACS may send sub-operations over this association
                assoc._c_store_scp(rsp)
                continue
            if not isinstance(rsp, C_MOVE) or not rsp.is_valid_response:
                log.error("%s sent an unexpected or invalid message during a C-MOVE", assoc.acceptor.ae_title)
                assoc.abort()
                resume()
                yield Dataset(), None
                return
            if rsp.Status in _PENDING:
                yield _PendingStatus(rsp), None
                continue
            status = Dataset()
            status.Status = rsp.Status
            for keyword in rsp.STATUS_OPTIONAL_KEYWORDS:
                if getattr(rsp, keyword) is not None:
                    setattr(status, keyword, getattr(rsp, keyword))
            resume()
            yield status, None
            return
    finally:
        resume()


def _drive_retrieve(
    assoc: Association,
    responses: Iterable[tuple[Dataset | _PendingStatus, Dataset | None]],
    node: PacsNode,
    op: str,
    table: Mapping[int, tuple[str, str]],
    on_progress: ProgressCallback | None,
    what: str,
    hint: str = "",
) -> RetrieveResult:
    completed = failed = warning = 0
    last = time.monotonic()
    for status, _ident in responses:
        if not status:
            raise lost(node, op, assoc, time.monotonic() - last)
        last = time.monotonic()
        code = int(status.Status)
        remaining = _count(status, "NumberOfRemainingSuboperations")
        # Final responses may omit the counters; keep the last pending values then.
        completed = _pick(_count(status, "NumberOfCompletedSuboperations"), completed)
        failed = _pick(_count(status, "NumberOfFailedSuboperations"), failed)
        warning = _pick(_count(status, "NumberOfWarningSuboperations"), warning)
        if code in _PENDING:
            if on_progress is not None:
                on_progress(RetrieveProgress(remaining, completed, failed, warning))
            continue
        if code == 0x0000:
            message = f"{completed} instance(s) {what}"
        elif code == 0xB000 or (code & 0xF000) == 0xB000:
            message = f"{completed} instance(s) {what}, {failed} failed, {warning} with warnings (0x{code:04X})"
        elif code == _CANCEL:
            message = f"{op} cancelled after {completed} instance(s)"
        else:
            final = status if isinstance(status, Dataset) else Dataset()  # (only pending statuses are light)
            message = f"{node} failed the {op}: {status_text(table, code, final)}{hint}"
        return RetrieveResult(code, completed, failed, warning, message)
    raise lost(node, op, assoc, time.monotonic() - last)


def move(
    node: PacsNode,
    dest_aet: str,
    query_keys: Mapping[str, Any],
    on_progress: ProgressCallback | None = None,
    level: Level = "SERIES",
) -> RetrieveResult:
    """Ask the node to C-MOVE the matching instances to `dest_aet` (usually our storage SCP).

    `query_keys` holds unique keys: StudyInstanceUID and SeriesInstanceUID (a list moves several).
    """
    identifier = retrieve_identifier(level, query_keys)
    contexts = [build_context(StudyRootQueryRetrieveInformationModelMove)]
    with association(node, contexts, "Study Root Query/Retrieve - MOVE") as assoc:
        # send_c_move sends the request; the response generator it returns is never started (_move_responses
        # reads the responses instead).
        assoc.send_c_move(identifier, dest_aet, StudyRootQueryRetrieveInformationModelMove)
        return _drive_retrieve(
            assoc,
            _move_responses(assoc),
            node,
            f"C-MOVE to {dest_aet}",
            QR_MOVE_SERVICE_CLASS_STATUS,
            on_progress,
            f"moved to {dest_aet}",
            # Orthanc and others answer an unknown destination with a bare 0xA801 or 0xC000.
            f"; check that the destination AE title {dest_aet!r} is registered on the PACS",
        )


def _sop_classes_of(node: PacsNode, query_keys: Mapping[str, Any]) -> list[str]:
    found = find(node, "IMAGE", dict(query_keys))
    return sorted({str(r["SOPClassUID"]) for r in found if r.get("SOPClassUID")})


def get(
    node: PacsNode,
    query_keys: Mapping[str, Any],
    sink: StorageSink,
    on_progress: ProgressCallback | None = None,
    level: Level = "SERIES",
    sop_classes: Sequence[str] | None = None,
) -> RetrieveResult:
    """C-GET the matching instances over our own association, handing each one to `sink`.

    Storage contexts must be proposed up front (at most 127 alongside the GET context), so unless
    `sop_classes` is given, an IMAGE-level C-FIND first learns which SOP classes the data uses.
    """
    identifier = retrieve_identifier(level, query_keys)
    classes = list(sop_classes) if sop_classes is not None else _sop_classes_of(node, query_keys)
    if not classes:
        classes = [str(cx.abstract_syntax) for cx in StoragePresentationContexts]
    classes = classes[:127]
    contexts = [build_context(StudyRootQueryRetrieveInformationModelGet)] + [
        build_context(uid, _GET_TRANSFER_SYNTAXES) for uid in classes
    ]
    roles = [build_role(uid, scp_role=True) for uid in classes]
    assoc_id = next_association_id()

    def on_store(event: Event) -> int:
        return handle_store_event(event, sink, node.aet, assoc_id)

    aborted = True
    try:
        with association(
            node,
            contexts,
            "Study Root Query/Retrieve - GET",
            ext_neg=roles,
            handlers=[(evt.EVT_C_STORE, on_store)],
        ) as assoc:
            responses = assoc.send_c_get(identifier, StudyRootQueryRetrieveInformationModelGet)
            result = _drive_retrieve(
                assoc,
                responses, node, "C-GET", QR_GET_SERVICE_CLASS_STATUS, on_progress, "received"
            )
            aborted = False
            return result
    finally:
        sink.association_ended(assoc_id, node.aet, aborted)


def store(node: PacsNode, instances: Iterable[Dataset | bytes | str | Path]) -> list[int]:
    """C-STORE each instance (a Dataset, Part-10 bytes or a file path) over one association.

    Returns the peer's status for each instance in order (0x0000 = stored).
    """
    datasets: list[Dataset] = []
    for item in instances:
        if isinstance(item, Dataset):
            datasets.append(item)
        elif isinstance(item, bytes):
            datasets.append(dcmread(io.BytesIO(item)))
        else:
            datasets.append(dcmread(item))
    if not datasets:
        return []
    syntaxes: dict[str, list[str]] = {}
    for ds in datasets:
        meta = getattr(ds, "file_meta", None)
        ts = str(meta.TransferSyntaxUID) if meta is not None and "TransferSyntaxUID" in meta else ExplicitVRLittleEndian
        wanted = syntaxes.setdefault(str(ds.SOPClassUID), [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        if ts not in wanted:
            wanted.insert(0, ts)
    if len(syntaxes) > 128:
        raise ValueError(f"{len(syntaxes)} SOP classes in one C-STORE batch; at most 128 fit one association")
    contexts = [build_context(uid, ts_list) for uid, ts_list in syntaxes.items()]
    statuses: list[int] = []
    with association(node, contexts, "Storage") as assoc:
        for ds in datasets:
            started = time.monotonic()
            status = assoc.send_c_store(ds)
            if not status:
                raise lost(node, "C-STORE", assoc, time.monotonic() - started)
            statuses.append(int(status.Status))
    return statuses
