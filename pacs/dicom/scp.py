"""The long-running storage SCP (DICOM listener) that PACS C-MOVE retrieves deliver to.

Accepts C-ECHO and C-STORE for every storage SOP class in any transfer syntax, keeps each dataset
encoded as received, and hands it to a :class:`~pacs.dicom.sink.StorageSink`. Misbehaving peers
(garbage bytes, unparsable datasets, failing sinks) get a failure status or an abort and a log line;
the listener itself keeps serving.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, cast

from pynetdicom import ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, _config, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from ._transport import TunedAE, make_server
from .sink import StorageSink, handle_store_event, next_association_id

if TYPE_CHECKING:
    from pynetdicom.association import Association
    from pynetdicom.events import Event
    from pynetdicom.transport import ThreadedAssociationServer

log = logging.getLogger(__name__)

DEFAULT_AE_TITLE = "CHRIS"
DEFAULT_PORT = 11111
# Largest PDU we accept. Peers send PDUs up to this size; bigger PDUs mean fewer Python-level
# PDU decodes per instance (16 KiB, the pynetdicom/DCMTK default, costs ~30% of throughput).
DEFAULT_MAX_PDU = 1 << 20


class StorageSCP:
    """A running storage SCP. Create with :func:`run_scp`; stop with :meth:`shutdown`."""

    def __init__(
        self,
        sink: StorageSink,
        ae_title: str = DEFAULT_AE_TITLE,
        port: int = DEFAULT_PORT,
        bind: str = "127.0.0.1",
        max_pdu: int = DEFAULT_MAX_PDU,
        network_timeout: float = 60.0,
        acse_timeout: float = 30.0,
        dimse_timeout: float = 60.0,
        chunked: bool = False,
    ) -> None:
        self.sink = sink
        self.ae_title = ae_title
        self._lock = threading.Lock()
        self._assocs: dict[Association, tuple[int, str]] = {}
        self._chunked_before = _config.STORE_RECV_CHUNKED_DATASET
        if chunked:
            # Process-wide pynetdicom switch: datasets stream to a temp file instead of memory.
            _config.STORE_RECV_CHUNKED_DATASET = True

        ae = TunedAE(ae_title=ae_title)
        ae.maximum_pdu_size = max_pdu
        ae.network_timeout = network_timeout
        ae.acse_timeout = acse_timeout
        ae.dimse_timeout = dimse_timeout
        # Peers may propose up to 128 contexts per association; as acceptor we can support them all.
        ae.maximum_associations = 32
        for cx in AllStoragePresentationContexts:
            ae.add_supported_context(cast(str, cx.abstract_syntax), ALL_TRANSFER_SYNTAXES)
        ae.add_supported_context(Verification, ALL_TRANSFER_SYNTAXES)
        self._ae = ae

        handlers: list[Any] = [
            (evt.EVT_ESTABLISHED, self._on_established),
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_CONN_CLOSE, self._on_close),
            (evt.EVT_REJECTED, self._on_rejected),
        ]
        self._server: ThreadedAssociationServer = make_server(ae, (bind, port), ae_title, handlers)
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name=f"StorageSCP@{self.port}", daemon=True
        )
        self._thread.start()
        log.info("storage SCP %s listening on %s:%s", ae_title, self.host, self.port)

    @property
    def active_associations(self) -> int:
        with self._lock:
            return len(self._assocs)

    def _on_established(self, event: Event) -> None:
        assoc = event.assoc
        calling = str(assoc.requestor.ae_title).strip()
        with self._lock:
            assoc_id = next_association_id()
            self._assocs[assoc] = (assoc_id, calling)
        log.debug("association %s from %s (%s) established", assoc_id, calling, assoc.requestor.address)

    def _on_store(self, event: Event) -> int:
        with self._lock:
            assoc_id, calling = self._assocs.get(event.assoc, (0, str(event.assoc.requestor.ae_title).strip()))
        return handle_store_event(event, self.sink, calling, assoc_id)

    def _on_rejected(self, event: Event) -> None:
        log.warning("association from %s rejected", event.assoc.requestor.address)

    def _on_close(self, event: Event) -> None:
        with self._lock:
            entry = self._assocs.pop(event.assoc, None)
        if entry is None:
            # Never established: garbage bytes, a port scan, or a rejected request.
            log.info(
                "connection from %s closed before an association was established",
                event.assoc.requestor.address,
            )
            return
        assoc_id, calling = entry
        try:
            self.sink.association_ended(assoc_id, calling, bool(event.assoc.is_aborted))
        except Exception:
            log.exception("sink failed at the end of association %s from %s", assoc_id, calling)

    def shutdown(self) -> None:
        """Stop accepting, close the listening socket, and wait for the serving thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        # Open associations end on their own (peer release or network timeout); abort them so a
        # test or a restart does not leave threads talking to a closed listener.
        for assoc in list(self._server.active_associations):
            assoc.abort()
        _config.STORE_RECV_CHUNKED_DATASET = self._chunked_before

    def __enter__(self) -> StorageSCP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def run_scp(
    ae_title: str = DEFAULT_AE_TITLE,
    port: int = DEFAULT_PORT,
    sink: StorageSink | None = None,
    bind: str = "127.0.0.1",
    **options: Any,
) -> StorageSCP:
    """Start a storage SCP in background threads and return it (``port=0`` picks a free port).

    ``options`` are :class:`StorageSCP` keyword arguments (max_pdu, timeouts, chunked).
    """
    if sink is None:
        raise ValueError("run_scp needs a sink to hand received instances to")
    return StorageSCP(sink, ae_title=ae_title, port=port, bind=bind, **options)
