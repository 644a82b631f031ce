"""pynetdicom, tuned: TCP_NODELAY, prompt reactors, cheap per-association setup, and readable failures.

What pynetdicom 3.0 does by default, and what each piece here changes:
- Nagle's algorithm stays on, so every small DIMSE response waits for the peer's delayed ACK (~40 ms
  per exchange: a C-ECHO took 45 ms instead of 2-3 ms). Every socket gets TCP_NODELAY.
- PDUs are read 4 KiB at a time and a failed connect's OSError is only logged, so a caller could not
  tell "refused" from "timed out". TunedAssociationSocket reads into one buffer and keeps the error.
- The DUL and acceptor threads sleep 1 ms whenever idle, adding several sleeps to every C-STORE
  round trip; here they poll fast while data flows and the acceptor waits on its queue.
- The acceptor deep-copies every supported context per association (~0.3 s with all storage classes)
  and encodes each C-STORE response through validated pydicom datasets.
- A reactor race can drop the first response of back-to-back requests on one association.
The hooks used (``ApplicationEntity._create_socket``, ``RequestHandler._create_association``, a few
private attributes) are those of the pinned pynetdicom; tests/pacs/dicom exercise each one, so an
upgrade that changes them fails loudly.
"""

from __future__ import annotations

import copy
import gc
import os
import socket
import time
from typing import TYPE_CHECKING, Any, cast

from pynetdicom import AE, _config, evt
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu_primitives import P_DATA
from pynetdicom.presentation import PresentationContext
from pynetdicom.transport import (
    AddressInformation,
    AssociationSocket,
    RequestHandler,
    ThreadedAssociationServer,
)

from ._fastpath import encode_store_response, use_fast_dul

if TYPE_CHECKING:
    from ssl import SSLContext

# pynetdicom's default notification handlers format a log record for every PDU and DIMSE message,
# and C-FIND identifiers are pretty-printed whatever the log level: ~1 ms per received instance.
# CUBE_DICOM_TRACE=1 brings that wire-level trace back when debugging a peer.
_TRACE = os.environ.get("CUBE_DICOM_TRACE", "") not in ("", "0")
_config.LOG_HANDLER_LEVEL = "standard" if _TRACE else "none"
_config.LOG_REQUEST_IDENTIFIERS = _TRACE
_config.LOG_RESPONSE_IDENTIFIERS = _TRACE

# Initial receive buffer: a whole default-size PDU of ours; larger announced PDUs grow it as data comes.
_RECV_CHUNK = 1 << 20


def set_nodelay(sock: socket.socket) -> None:
    """Disable Nagle's algorithm on a TCP socket (a no-op for non-TCP sockets)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass


class _RecordingSocket(socket.socket):
    """A socket that remembers the OSError of its last connect() before pynetdicom swallows it."""

    connect_error: OSError | None = None

    def connect(self, address: Any) -> None:
        try:
            super().connect(address)
        except OSError as exc:
            self.connect_error = exc
            raise


# pynetdicom's DUL thread polls its socket and sleeps this long whenever nothing happened. 1 ms
# (its default) adds up to three sleeps to every C-STORE round trip; polling faster costs CPU, so
# it is only done while data flows, and an idle association goes back to the default.
_BUSY_POLL = float(os.environ.get("CUBE_DICOM_BUSY_POLL", "0.0001"))
_IDLE_POLL = 0.001
_BUSY_FOR = 0.05


class TunedAssociationSocket(AssociationSocket):
    """AssociationSocket with TCP_NODELAY on, large reads, adaptive polling, and the connect error kept."""

    connect_error: OSError | None = None
    _last_active = 0.0
    _unread = b""

    def unread(self, data: bytes) -> None:
        """Put bytes back: the next recv() returns them first (the C-STORE fast path reads a PDU header
        before it knows whether pynetdicom must decode the PDU)."""
        self._unread = bytes(data) + self._unread

    @property
    def ready(self) -> bool:
        if self._unread:
            return True
        ready = bool(AssociationSocket.ready.fget(self))  # type: ignore[attr-defined]
        dul = self.assoc.dul
        now = time.monotonic()
        if ready:
            self._last_active = now
            dul._run_loop_delay = _BUSY_POLL
        elif now - self._last_active > _BUSY_FOR:
            dul._run_loop_delay = _IDLE_POLL
        return ready

    def _create_socket(self, address: AddressInformation) -> socket.socket:
        # Mirrors the parent (SO_REUSEADDR, network timeout, bind) but with a recording socket.
        family = socket.AF_INET if address.is_ipv4 else socket.AF_INET6
        sock = _RecordingSocket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        set_nodelay(sock)
        if self.assoc.network_timeout is not None:
            sock.settimeout(self.assoc.network_timeout)
        sock.bind(address.as_tuple)
        self._is_connected = False
        return sock

    def connect(self, primitive: Any) -> None:
        raw = self.socket
        super().connect(primitive)
        if isinstance(raw, _RecordingSocket) and raw.connect_error is not None:
            self.connect_error = raw.connect_error

    def recv(self, nr_bytes: int) -> bytearray:
        # recv_into one buffer instead of appending 4 KiB reads one by one. The buffer grows with the
        # data actually received, so a forged PDU header announcing 1 GiB costs nothing up front.
        sock = cast(socket.socket, self.socket)
        buf = bytearray(min(nr_bytes, _RECV_CHUNK))
        nr_read = 0
        if self._unread:
            nr_read = min(nr_bytes, len(self._unread), len(buf))
            buf[:nr_read] = self._unread[:nr_read]
            self._unread = self._unread[nr_read:]
        while nr_read < nr_bytes:
            if nr_read == len(buf):
                buf.extend(bytes(min(nr_bytes - nr_read, len(buf))))
            with memoryview(buf) as view:
                n = sock.recv_into(view[nr_read:], len(buf) - nr_read)
            if n == 0:
                # Peer closed: return what we have, as the parent does, so the DUL sees a short PDU.
                del buf[nr_read:]
                return buf
            nr_read += n
        return buf


def keep_responses_for_the_caller(assoc: Association) -> None:
    """Work around a pynetdicom race that silently drops the first response of a DIMSE request.

    Between two requests on one association, the requestor's reactor thread may still be waking from
    its pause when the next ``send_c_*`` checks ``_is_paused`` (stale True) and sends; the reactor
    then takes the first response off the queue and drops it as "unexpected" (seen as a C-FIND
    missing its only match). Responses the reactor gets are put back at the head of the queue, where
    the waiting ``send_c_*`` generator reads them.
    """
    serve = assoc._serve_request
    pending = assoc.dimse.msg_queue

    def serve_or_return(msg: Any, context_id: int) -> None:
        # Once only per message: a response nobody waits for must not circle forever.
        if not msg.is_valid_request and msg.is_valid_response and not getattr(msg, "_cube_requeued", False):
            msg._cube_requeued = True
            with pending.mutex:
                pending.queue.appendleft((context_id, msg))
                pending.not_empty.notify()
            return
        serve(msg, context_id)

    assoc._serve_request = serve_or_return  # type: ignore[method-assign]


def fast_store_responses(assoc: Association) -> None:
    """Send plain C-STORE responses without pynetdicom's generic DIMSE encoder.

    Building the response message through validated pydicom datasets cost about a third of the
    SCP's CPU per instance. Responses with extra fields (an error comment) take the generic path.
    """
    dimse = assoc.dimse
    generic = dimse.send_msg

    def send_msg(primitive: Any, context_id: int) -> None:
        if (
            not isinstance(primitive, C_STORE)
            or primitive.MessageIDBeingRespondedTo is None
            or primitive.Status is None
            or primitive.ErrorComment
            or primitive.OffendingElement
        ):
            generic(primitive, context_id)
            return
        command = encode_store_response(
            str(primitive.AffectedSOPClassUID),
            str(primitive.AffectedSOPInstanceUID),
            int(primitive.MessageIDBeingRespondedTo),
            int(primitive.Status),
        )
        pdata = P_DATA()
        # 0x03: command information, last fragment (PS3.8 E.2). ~100 bytes: always one PDV.
        pdata.presentation_data_value_list.append((context_id, b"\x03" + command))
        assoc.dul.send_pdu(pdata)

    dimse.send_msg = send_msg  # type: ignore[method-assign]


class PromptAcceptor(Association):
    """An acceptor whose reactor waits for the next DIMSE message instead of sleeping 1 ms blindly.

    Same loop as pynetdicom 3.0's ``Association._run_reactor``; only the ``time.sleep(0.001)`` at the
    top of each turn became a wait that ends when a message is queued (or the DUL nudges it), which
    takes about 0.5 ms off every round trip that goes through this thread and, with our DUL, stops the
    thousand wake-ups a second that competed with the DUL thread for the CPU and the GIL.
    """

    # Set once the reactor runs, i.e. after EVT_ESTABLISHED's handlers: until then the DUL thread must
    # leave C-STOREs to this thread, or a handler could see the association before it is established.
    reactor_started = False

    def _run_reactor(self) -> None:
        messages = self.dimse.msg_queue
        # A DUL that nudges this loop after every state change lets it sleep until there is something to do
        # (the idle timer and a kill from another thread are then seen within 50 ms).
        pause = 0.05 if getattr(self.dul, "nudges_reactor", False) else 0.001
        self.reactor_started = True
        self._is_paused = False
        while not self._kill:
            with messages.not_empty:
                if not messages.queue:  # (qsize() would take the lock held here)
                    messages.not_empty.wait(pause)

            self._is_paused = True
            self._reactor_checkpoint.wait()
            self._is_paused = False

            context_id, msg = self.dimse.get_msg(block=False)
            if msg:
                self._serve_request(msg, cast(int, context_id))

            if self.is_established and self.acse.is_release_requested():
                self.acse.send_release(is_response=True)
                self.is_released = True
                self.is_established = False
                evt.trigger(self, evt.EVT_RELEASED, {})
                self.kill()
                return

            if self.acse.is_aborted():
                self.dul.receive_pdu(wait=False)  # so EVT_ACSE_RECV fires for subscribers
                self.is_aborted = True
                self.is_established = False
                evt.trigger(self, evt.EVT_ABORTED, {})
                self.kill()
                return

            if not self.dul.is_alive():
                self.kill()
                return

            if self.dul.idle_timer_expired():
                if self.network_timeout_response == "A-RELEASE":
                    self._is_paused = True
                    self._reactor_checkpoint.wait()
                    self.release()
                    self._is_paused = False
                else:
                    self.abort()
                self.kill()
                return


class TunedAE(AE):
    """An AE whose outgoing associations use :class:`TunedAssociationSocket`."""

    def _create_socket(
        self,
        assoc: Association,
        address: AddressInformation,
        tls_args: tuple[SSLContext, str] | None,
    ) -> AssociationSocket:
        sock = TunedAssociationSocket(assoc, address=address)
        sock.tls_args = tls_args
        use_fast_dul(assoc)
        return sock


class TunedRequestHandler(RequestHandler):
    """Accepted connections get TCP_NODELAY and the large-read socket before the association starts."""

    def _create_association(self) -> Association:
        set_nodelay(self.request)
        assoc = super()._create_association()
        # The parent wraps the accepted socket in a plain AssociationSocket; upgrading the class in
        # place keeps its state and only swaps the recv() implementation.
        sock = assoc.dul.socket
        if sock is not None and type(sock) is AssociationSocket:
            sock.__class__ = TunedAssociationSocket
        fast_store_responses(assoc)
        use_fast_dul(assoc)
        if type(assoc) is Association:
            assoc.__class__ = PromptAcceptor
        return assoc


class _CheapCopyContext(PresentationContext):
    """A presentation context whose deepcopy shares the (immutable) UID objects.

    The acceptor deep-copies every supported context for every association; with all storage SOP
    classes x all transfer syntaxes that is ~8,000 UIDs re-validated per association, about 0.3 s
    before a C-ECHO can even be answered.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> _CheapCopyContext:
        new = copy.copy(self)
        new._transfer_syntax = list(self._transfer_syntax)
        return new


def cheap_copy_contexts(contexts: list[PresentationContext]) -> list[PresentationContext]:
    out: list[PresentationContext] = []
    for cx in contexts:
        new = copy.copy(cx)
        new.__class__ = _CheapCopyContext
        out.append(new)
    return out


class QuietServer(ThreadedAssociationServer):
    """An association server that never stops the world while instances flow.

    pynetdicom's server runs a full ``gc.collect()`` every 60 turns of its accept loop (about every 6 s,
    and after every 60 connections) to free finished associations. In a process with Django loaded
    that is a 50-100 ms pause of every thread, landing in the middle of transfers; here it waits until
    no association is open.
    """

    def service_actions(self) -> None:
        self._gc[0] += 1
        if self._gc[0] >= self._gc[1] and not self.active_associations:
            gc.collect()
            self._gc[0] = 0


def make_server(
    ae: AE,
    address: tuple[str, int],
    ae_title: str,
    evt_handlers: list[Any],
) -> ThreadedAssociationServer:
    """Build (not start) a threaded association server using the tuned request handler."""
    server = QuietServer(
        ae,
        address,
        ae_title,
        cheap_copy_contexts(ae.supported_contexts),
        evt_handlers=evt_handlers,
        request_handler=TunedRequestHandler,
    )
    # The AE tracks its servers (server.shutdown() removes itself from this list).
    ae._servers.append(server)
    return server
