"""The DICOM listener: our storage SCP with the ingest sink, as `manage.py dicom_listener` runs it (and the
tests, in-process)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

from pacs.dicom import StorageSCP, run_scp

from .ingest import RegistrySink

log = logging.getLogger(__name__)


@dataclass
class Listener:
    scp: StorageSCP
    sink: RegistrySink

    @property
    def port(self) -> int:
        return int(self.scp.port)

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
