"""The DICOM listener: our storage SCP with the ingest sink, as `manage.py dicom_listener` runs it (and the
tests, in-process), and the state it reports: its counts, above all the instances stored but waiting for
the database to be registered (``waiting_registration``), written to ``listener-state.json`` in the spool
root where ``manage.py pacs_reconcile`` (or a container health check) reads it."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from pacs.dicom import StorageSCP, run_scp

from .ingest import RegistrySink
from .spool import spool_root

log = logging.getLogger(__name__)


@dataclass
class Listener:
    scp: StorageSCP
    sink: RegistrySink

    @property
    def port(self) -> int:
        return int(self.scp.port)

    def state(self) -> dict[str, Any]:
        sink = self.sink
        return {"aet": self.scp.ae_title, "port": self.port, "pid": os.getpid(), "stored": sink.stored,
                "registered": sink.registered, "refused": sink.refused,
                "registration_errors": sink.registration_errors,
                "waiting_registration": sink.waiting_registration}

    def stop(self) -> None:
        """Stop accepting, end open associations, and register what they delivered."""
        self.scp.shutdown()
        self.sink.close()


def listener_start(*, aet: str | None = None, port: int | None = None, bind: str | None = None,
                   sink: RegistrySink | None = None) -> Listener:
    """Start the storage SCP in background threads (port 0: a free port). Defaults come from settings:
    CUBE_DICOM_AET, CUBE_DICOM_PORT, CUBE_DICOM_BIND."""
    sink = sink or RegistrySink()
    sink.recover()  # instances a stopped listener answered but never registered
    scp = run_scp(aet or settings.CUBE_DICOM_AET, settings.CUBE_DICOM_PORT if port is None else port, sink,
                  bind=bind or settings.CUBE_DICOM_BIND)
    log.info("DICOM listener %s on %s:%s", scp.ae_title, scp.host, scp.port)
    return Listener(scp, sink)


STATE_FILE = "listener-state.json"


def listener_state_write(state: dict[str, Any]) -> None:
    """Publish the listener's state (atomically: a reader never sees half a file), stamped with the time."""
    root = spool_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{STATE_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps({**state, "reported_at": time.time()}))
    os.replace(tmp, root / STATE_FILE)


def listener_state_read() -> dict[str, Any] | None:
    """The state the last listener using this spool root published, or None (none has, or not here)."""
    try:
        state = json.loads((spool_root() / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None
