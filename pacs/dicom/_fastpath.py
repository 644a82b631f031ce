"""DUL-thread receive paths: C-STOREs for our storage SCP, C-MOVE/C-GET responses for our SCU.

For every received instance pynetdicom 3.0 turns the P-DATA PDU into PDU, item and primitive objects,
runs it through its state machine, decodes the command set with pydicom (validating each UID twice),
queues the request to the association's second thread, looks the service class up by scanning every
storage SOP class, builds a validated response primitive there and queues it back to the first thread,
which polls for it. That cost ~1 ms of CPU and four thread hand-offs per instance: more than DCMTK's
storescp spends on a whole instance, and every hand-off is latency the sending PACS waits through.

Here the DUL thread itself, while the association is established (Sta6), reads each P-DATA PDU, gathers
a C-STORE request's fragments, calls the EVT_C_STORE handler as pynetdicom would, writes the response
PDU, then runs the work the sink deferred until after the answer (``ReceivedInstance.defer``). On an
association we requested, the pending responses a retrieve gets after every sub-operation (~0.6 ms of
CPU each through pynetdicom, in the worker that also waits on the PACS) are decoded the same direct way
and queued for the waiting ``send_c_move``/``send_c_get``. Everything else goes through pynetdicom
unchanged, from the first PDU on that is not plainly one of these: association negotiation, release and
abort, C-ECHO and any other message, a command set split over fragments, an invalid UID (pynetdicom
aborts, as before), responses with an identifier or an error comment, a C-GET's C-STOREs, chunked mode,
and associations with wire-level trace handlers bound (CUBE_DICOM_TRACE=1).
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import struct
from collections.abc import Callable
from io import BytesIO
from typing import TYPE_CHECKING, Any, cast

from pydicom import config as pydicom_config
from pydicom.uid import UID
from pynetdicom import _config, evt
from pynetdicom.dimse_primitives import C_GET, C_MOVE, C_STORE
from pynetdicom.dul import DULServiceProvider
from pynetdicom.pdu import A_ABORT_RQ, P_DATA_TF
from pynetdicom.service_class import StorageServiceClass
from pynetdicom.sop_class import uid_to_service_class
from pynetdicom.utils import make_target

from .sink import AFTER_ANSWER, run_deferred

if TYPE_CHECKING:
    from pynetdicom.association import Association

log = logging.getLogger(__name__)
LOGGER = logging.getLogger("pynetdicom")  # pynetdicom's own messages keep their logger

_P_DATA_TF = 0x04
# Bound to any of these, a handler expects pynetdicom's objects for every PDU and message: no fast path.
_TRACE_EVENTS = (evt.EVT_DATA_RECV, evt.EVT_PDU_RECV, evt.EVT_DIMSE_RECV, evt.EVT_DATA_SENT, evt.EVT_PDU_SENT,
                 evt.EVT_DIMSE_SENT)
# How long the idle reactor waits for the socket or a wake-up before checking its timers again.
_IDLE_WAIT = 0.01

# C-STORE-RQ command elements (PS3.7 9.3.1.1), implicit VR little endian: tag -> value length rule.
_AFFECTED_SOP_CLASS, _COMMAND_FIELD, _MESSAGE_ID, _PRIORITY = 0x00000002, 0x00000100, 0x00000110, 0x00000700
_DATA_SET_TYPE, _AFFECTED_SOP_INSTANCE = 0x00000800, 0x00001000
_MOVE_ORIGINATOR_AET, _MOVE_ORIGINATOR_ID, _GROUP_LENGTH = 0x00001030, 0x00001031, 0x00000000
_US_TAGS = frozenset({_COMMAND_FIELD, _MESSAGE_ID, _PRIORITY, _DATA_SET_TYPE, _MOVE_ORIGINATOR_ID})
_KNOWN_TAGS = _US_TAGS | {_GROUP_LENGTH, _AFFECTED_SOP_CLASS, _AFFECTED_SOP_INSTANCE, _MOVE_ORIGINATOR_AET}
_NO_DATA_SET = 0x0101
_C_STORE_RQ = 0x0001
# C-MOVE-RSP / C-GET-RSP (PS3.7 9.3.4.2, 9.3.3.2); with an error comment or an identifier, pynetdicom decodes.
_RESPONDED_TO, _STATUS = 0x00000120, 0x00000900
_SUBOPERATIONS = {0x00001020: "NumberOfRemainingSuboperations", 0x00001021: "NumberOfCompletedSuboperations",
                  0x00001022: "NumberOfFailedSuboperations", 0x00001023: "NumberOfWarningSuboperations"}
_US_TAGS = _US_TAGS | {_RESPONDED_TO, _STATUS, *_SUBOPERATIONS}
_RSP_TAGS = frozenset({_GROUP_LENGTH, _AFFECTED_SOP_CLASS, _COMMAND_FIELD, _RESPONDED_TO, _DATA_SET_TYPE, _STATUS,
                       *_SUBOPERATIONS})
_RETRIEVE_RSP: dict[int, type[C_MOVE] | type[C_GET]] = {0x8021: C_MOVE, 0x8010: C_GET}



def _uid_ok(text: str) -> bool:
    """pynetdicom's check of a received UID (validators.validate_ui) without building a validated UID."""
    if _config.ENFORCE_UID_CONFORMANCE:
        return bool(_config.VALIDATORS["UI"](text)[0])
    return 0 < len(text) < 65

# SOP class UID -> (UID object, is a storage class): a handful per site, looked up once each.
_sop_classes: dict[bytes, tuple[UID, bool]] = {}
_SOP_CLASS_CACHE_MAX = 4096


def _sop_class(raw: bytes) -> tuple[UID, bool] | None:
    known = _sop_classes.get(raw)
    if known is not None:
        return known
    text = raw.decode("ascii", "replace").rstrip("\x00 ")
    if not _uid_ok(text):
        return None
    uid = UID(text, validation_mode=pydicom_config.IGNORE)
    entry = (uid, uid_to_service_class(uid) is StorageServiceClass)
    if len(_sop_classes) < _SOP_CLASS_CACHE_MAX:
        _sop_classes[raw] = entry
    return entry


def _elements(command: bytes | memoryview, known: frozenset[int]) -> dict[int, bytes] | None:
    """tag -> value of a command set's elements, or None if any is not in `known` or is malformed."""
    values: dict[int, bytes] = {}
    pos, end = 0, len(command)
    try:
        while pos < end:
            group, elem, length = struct.unpack_from("<HHL", command, pos)
            tag = (group << 16) | elem
            pos += 8
            if tag not in known or pos + length > end or (tag in _US_TAGS and length != 2):
                return None
            values[tag] = bytes(command[pos:pos + length])
            pos += length
    except struct.error:
        return None
    return values


def _us(value: bytes) -> int:
    return int(struct.unpack("<H", value)[0])


def decode_store_request(command: bytes | memoryview, context_id: int) -> C_STORE | None:
    """The C-STORE-RQ primitive of a whole command set, or None if it is anything else (or odd).

    None sends the message down pynetdicom's generic path, which decodes it, serves it, or aborts
    the association for an invalid value exactly as it always did.
    """
    values = _elements(command, _KNOWN_TAGS)
    if values is None:
        return None
    if (
        _COMMAND_FIELD not in values
        or struct.unpack("<H", values[_COMMAND_FIELD])[0] != _C_STORE_RQ
        or _MESSAGE_ID not in values
        or _DATA_SET_TYPE not in values
        or struct.unpack("<H", values[_DATA_SET_TYPE])[0] == _NO_DATA_SET
    ):
        return None
    sop_class = _sop_class(values.get(_AFFECTED_SOP_CLASS, b""))
    if sop_class is None or not (sop_class[1] or _config.UNRESTRICTED_STORAGE_SERVICE):
        return None
    instance = values.get(_AFFECTED_SOP_INSTANCE, b"").decode("ascii", "replace").rstrip("\x00 ")
    if not _uid_ok(instance):
        return None
    request = C_STORE()
    request._affected_sop_class_uid = sop_class[0]
    request._affected_sop_instance_uid = UID(instance, validation_mode=pydicom_config.IGNORE)
    request.MessageID = struct.unpack("<H", values[_MESSAGE_ID])[0]
    if _PRIORITY in values:
        request.Priority = struct.unpack("<H", values[_PRIORITY])[0]
    if _MOVE_ORIGINATOR_AET in values:
        request.MoveOriginatorApplicationEntityTitle = values[_MOVE_ORIGINATOR_AET].decode("ascii", "replace").strip()
    if _MOVE_ORIGINATOR_ID in values:
        request.MoveOriginatorMessageID = struct.unpack("<H", values[_MOVE_ORIGINATOR_ID])[0]
    request._context_id = context_id
    return request


def decode_retrieve_response(command: bytes | memoryview, context_id: int) -> C_MOVE | C_GET | None:
    """The primitive of a C-MOVE-RSP or C-GET-RSP without an identifier (the pending ones a retrieve gets
    after every sub-operation, and most final ones), or None for anything else (pynetdicom decodes it)."""
    values = _elements(command, _RSP_TAGS)
    if values is None or _COMMAND_FIELD not in values or _STATUS not in values or _RESPONDED_TO not in values:
        return None
    kind = _RETRIEVE_RSP.get(_us(values[_COMMAND_FIELD]))
    if kind is None or _DATA_SET_TYPE not in values or _us(values[_DATA_SET_TYPE]) != _NO_DATA_SET:
        return None
    response = kind()
    if _AFFECTED_SOP_CLASS in values:
        sop_class = _sop_class(values[_AFFECTED_SOP_CLASS])
        if sop_class is None:
            return None
        response._affected_sop_class_uid = sop_class[0]
    response.MessageIDBeingRespondedTo = _us(values[_RESPONDED_TO])
    response.Status = _us(values[_STATUS])
    for tag, keyword in _SUBOPERATIONS.items():
        if tag in values:
            setattr(response, keyword, _us(values[tag]))
    response._context_id = context_id
    return response


def _implicit(tag: int, value: bytes) -> bytes:
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value)) + value


def _ui(uid: str) -> bytes:
    raw = uid.encode("ascii")
    return raw + b"\x00" if len(raw) % 2 else raw


def encode_store_response(sop_class_uid: str, sop_instance_uid: str, message_id: int, status: int) -> bytes:
    """The C-STORE-RSP command set (implicit VR little endian, PS3.7 9.3.1.2), without pydicom."""
    body = b"".join(
        (
            _implicit(0x00000002, _ui(sop_class_uid)),
            _implicit(0x00000100, struct.pack("<H", 0x8001)),
            _implicit(0x00000120, struct.pack("<H", message_id)),
            _implicit(0x00000800, struct.pack("<H", 0x0101)),  # no data set follows
            _implicit(0x00000900, struct.pack("<H", status)),
            _implicit(0x00001000, _ui(sop_instance_uid)),
        )
    )
    return _implicit(0x00000000, struct.pack("<L", len(body))) + body


def _p_data_pdu(items: bytes | memoryview) -> bytes:
    return struct.pack(">BBL", _P_DATA_TF, 0, len(items)) + bytes(items)


class FastStoreDUL(DULServiceProvider):
    """A DUL service provider that serves C-STORE requests (accepted associations) and decodes retrieve
    responses (requested ones) itself: see the module's docstring.

    Installed by swapping the class of the DUL pynetdicom created, before its thread starts. Its reactor
    also waits on the socket instead of sleeping: it wakes the moment a PDU arrives or another thread
    queues one to send.
    """

    _pending: C_STORE | None = None
    _pending_data: BytesIO | None = None
    _storage: StorageServiceClass | None = None
    _wake_r: socket.socket | None = None
    _wake_w: socket.socket | None = None

    # --- choosing the path -------------------------------------------------------------------------

    def _fast_allowed(self) -> bool:
        assoc = self.assoc
        if not (
            self.state_machine.current_state == "Sta6"
            and hasattr(self.socket, "unread")  # our TunedAssociationSocket, which can put a PDU header back
            and assoc.dimse.message is None  # pynetdicom is not half-way through a message of its own
            and self.event_queue.empty()
            and self._recv_pdu.empty()
            and not any(assoc.get_handlers(event) for event in _TRACE_EVENTS)
        ):
            return False
        if not assoc.is_acceptor:
            return True  # only retrieve responses are taken (a C-GET's C-STOREs stay with pynetdicom)
        return (
            # EVT_ESTABLISHED's handlers have run, and no request waits for the association's thread.
            getattr(assoc, "reactor_started", False)
            and assoc.dimse.msg_queue.empty()
            and not _config.STORE_RECV_CHUNKED_DATASET
            and not assoc.acceptor._common_ext  # SOP class common extended negotiation: pynetdicom maps it
        )

    def _read_pdu_data(self) -> None:
        if not self._fast_allowed():
            self._drop_pending()
            super()._read_pdu_data()
            return
        sock = cast(Any, self.socket)
        try:
            header = sock.recv(6)
            if len(header) == 6 and header[0] == _P_DATA_TF:
                length = struct.unpack_from(">L", header, 2)[0]
                items = sock.recv(length)
            else:
                # Another PDU type (or a peer that hung up): pynetdicom reads it from the start.
                self._drop_pending()
                sock.unread(header)
                super()._read_pdu_data()
                return
        except (OSError, TimeoutError) as exc:
            LOGGER.error("Connection closed before the entire PDU was received")
            LOGGER.exception(exc)
            self._drop_pending()
            self.event_queue.put("Evt17")
            return
        if len(items) != length:
            LOGGER.error(f"The received PDU is shorter than expected ({len(items) + 6} of {length + 6} bytes "
                         "received)")
            self._drop_pending()
            self.event_queue.put("Evt17")
            return
        self._take_items(memoryview(items))

    def _take_items(self, pdu: memoryview) -> None:
        """Serve the PDU's presentation data values; hand pynetdicom the rest from the first one it must see."""
        pos, end = 0, len(pdu)
        while pos < end:
            if pos + 6 > end:
                break  # malformed: pynetdicom decides
            item_length = struct.unpack_from(">L", pdu, pos)[0]
            if item_length < 2 or pos + 4 + item_length > end:
                break
            context_id, control = pdu[pos + 4], pdu[pos + 5]
            fragment = pdu[pos + 6:pos + 4 + item_length]
            if self._pending is None:
                # A message starts: ours only if it is a whole command on an accepted context, and a C-STORE-RQ
                # (we accepted the association) or a C-MOVE/C-GET response without identifier (we requested it).
                if control & 0x03 != 0x03 or context_id not in self.assoc._accepted_cx:
                    break
                if self.assoc.is_acceptor:
                    request = decode_store_request(fragment, context_id)
                    if request is None:
                        break
                    self._pending, self._pending_data = request, BytesIO()
                else:
                    response = decode_retrieve_response(fragment, context_id)
                    if response is None:
                        break
                    self.assoc.dimse.msg_queue.put((context_id, response))
            elif control & 0x01:
                break  # a command where the data set should continue: let pynetdicom judge the peer
            else:
                cast(BytesIO, self._pending_data).write(fragment)
                if control & 0x02:
                    self._serve_pending()
            pos += 4 + item_length
        if pos < end:
            self._drop_pending()
            self._generic(_p_data_pdu(pdu[pos:]))

    def _generic(self, pdu_bytes: bytes) -> None:
        """What pynetdicom does with a received PDU: decode it and queue its event for the state machine."""
        try:
            pdu = P_DATA_TF()
            pdu.decode(pdu_bytes)
        except Exception as exc:
            LOGGER.error("Unable to decode the received PDU data")
            LOGGER.exception(exc)
            self.event_queue.put("Evt19")
            return
        self.event_queue.put("Evt10")
        self._recv_pdu.put(pdu)

    def _drop_pending(self) -> None:
        if self._pending is not None:
            log.warning("C-STORE of %s dropped half-received", self._pending.AffectedSOPInstanceUID)
        self._pending = self._pending_data = None

    # --- serving a C-STORE -------------------------------------------------------------------------

    def _serve_pending(self) -> None:
        request, data = cast(C_STORE, self._pending), cast(BytesIO, self._pending_data)
        self._pending = self._pending_data = None
        assoc = self.assoc
        if assoc._sent_release:
            LOGGER.warning(f"{request.msg_type} message received during association release, ignoring")
            return
        data.seek(0)
        request.DataSet = data
        context_id = cast(int, request._context_id)
        context = assoc._accepted_cx[context_id]
        after_answer: list[Callable[[], None]] = []
        setattr(request, AFTER_ANSWER, after_answer)
        if self._storage is None:
            self._storage = StorageServiceClass(assoc)
        # As pynetdicom's service classes do: a handler that aborts must not wait for this thread.
        assoc.abort = assoc._abort_nonblocking  # type: ignore[method-assign]
        try:
            status: Any = evt.trigger(assoc, evt.EVT_C_STORE, {"request": request, "context": context.as_tuple})
        except Exception as exc:
            LOGGER.error("Exception in handler bound to 'evt.EVT_C_STORE'")
            LOGGER.exception(exc)
            status = 0xC211
        finally:
            assoc.abort = assoc._abort_blocking  # type: ignore[method-assign]
        try:
            self._answer(request, context_id, status)
        finally:
            run_deferred(after_answer)

    def _answer(self, request: C_STORE, context_id: int, status: Any) -> None:
        assoc = self.assoc
        if not assoc.is_established or self.state_machine.current_state != "Sta6":
            return
        if isinstance(status, int) and not isinstance(status, bool):
            if not cast(StorageServiceClass, self._storage).is_valid_status(status):
                LOGGER.warning(f"Unknown status value returned by callback - 0x{status:04X}")
            command = encode_store_response(str(request.AffectedSOPClassUID), str(request.AffectedSOPInstanceUID),
                                            cast(int, request.MessageID), status)
            # One PDV: command information, last fragment (PS3.8 E.2).
            item = struct.pack(">LBB", len(command) + 2, context_id, 0x03) + command
            cast(Any, self.socket).send(_p_data_pdu(item))
            return
        # A status dataset (error comment, offending element): pynetdicom's own response path.
        response = C_STORE()
        response.MessageIDBeingRespondedTo = request.MessageID
        response.AffectedSOPInstanceUID = request.AffectedSOPInstanceUID
        response.AffectedSOPClassUID = request.AffectedSOPClassUID
        assoc.dimse.send_msg(cast(StorageServiceClass, self._storage).validate_status(status, response), context_id)

    # --- the reactor -------------------------------------------------------------------------------

    def send_pdu(self, primitive: Any) -> None:
        super().send_pdu(primitive)
        self._wake()

    def kill_dul(self) -> None:
        super().kill_dul()
        self._wake()

    def _wake(self) -> None:
        wake = self._wake_w
        if wake is not None:
            try:
                wake.send(b"\x00")
            except OSError:
                pass  # the pipe is full (a wake-up is pending anyway) or already closed

    def _wait(self) -> None:
        """Sleep until the socket is readable, another thread wakes us, or _IDLE_WAIT passes."""
        waiting: list[Any] = [self._wake_r]
        sock = getattr(self.socket, "socket", None)
        if sock is not None and sock.fileno() >= 0:
            waiting.append(sock)
        try:
            ready, _, _ = select.select(waiting, [], [], _IDLE_WAIT)
        except (OSError, ValueError):
            return  # the socket closed under us: the next turn sees it
        if self._wake_r in ready:
            try:
                cast(socket.socket, self._wake_r).recv(4096)
            except OSError:
                pass

    def run_reactor(self) -> None:
        """pynetdicom 3.0's DUL loop, waiting on the socket (and a wake-up pipe) instead of sleeping."""
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        try:
            self._run()
        finally:
            self._wake_r.close()
            self._wake_w.close()
            self._wake_w = None
            self._nudge()

    def _run(self) -> None:
        self._idle_timer.start()
        while True:
            if not self.assoc._dul_ready.is_set():
                self.assoc._dul_ready.set()
            if self._kill_thread:
                break
            if self.artim_timer.expired:
                self.event_queue.put("Evt18")
            try:
                if self._process_recv_primitive():
                    pass
                elif self._is_transport_event():
                    self._idle_timer.restart()
            except Exception as exc:
                LOGGER.error("Exception in DUL.run(), aborting association")
                LOGGER.exception(exc)
                abort_pdu = A_ABORT_RQ()
                abort_pdu.source = 0x02
                abort_pdu.reason_diagnostic = 0x00
                cast(Any, self.socket).send(abort_pdu.encode())
                self.assoc.is_aborted = True
                self.assoc.is_established = False
                self.assoc._kill = True
                self._kill_thread = True
                return
            try:
                event = self.event_queue.get(block=False)
            except queue.Empty:
                if self.to_provider_queue.empty():
                    self._wait()
                continue
            self.state_machine.do_action(event)
            self._nudge()

    # The association's reactor (PromptAcceptor) sleeps on its message queue; everything else it watches
    # (a release or abort indication, this thread ending) changes only in a state-machine action here.
    nudges_reactor = True

    def _nudge(self) -> None:
        waiting = self.assoc.dimse.msg_queue.not_empty
        with waiting:
            waiting.notify()


def use_fast_dul(assoc: Association) -> None:
    """Give a not yet started association the DUL above: for an accepted one, C-STOREs served on its DUL
    thread; for any, a reactor that waits on its socket instead of polling it."""
    dul = assoc.dul
    if type(dul) is DULServiceProvider and not dul.is_alive():
        dul.__class__ = FastStoreDUL
        # The thread's target was bound to the old class's run_reactor when the DUL was created.
        dul._target = make_target(dul.run_reactor)  # type: ignore[attr-defined]
