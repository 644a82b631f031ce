"""Run the storage SCP (the DICOM listener) that C-MOVE retrieves deliver to, until SIGTERM or Ctrl-C.

    manage.py dicom_listener [--aet CHRIS] [--port 11111] [--bind 0.0.0.0]

Defaults come from CUBE_DICOM_AET, CUBE_DICOM_PORT and CUBE_DICOM_BIND. Each PACS that sends to it must be
registered as a node (its AE title is how instances are filed), and must know this AE title, host and port.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from pydicom import config as pydicom_config

from pacs.services.listener import listener_start, listener_state_write


class Command(BaseCommand):
    help = "Run the DICOM storage SCP that receives retrieved instances and registers them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--aet", default=None, help=f"AE title (default {settings.CUBE_DICOM_AET})")
        parser.add_argument("--port", type=int, default=None, help=f"port (default {settings.CUBE_DICOM_PORT})")
        parser.add_argument("--bind", default=None, help=f"address (default {settings.CUBE_DICOM_BIND})")

    def handle(self, *args: Any, **options: Any) -> None:
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            listener = listener_start(aet=options["aet"], port=options["port"], bind=options["bind"])
        except OSError as exc:
            raise CommandError(f"cannot listen: {exc}") from None
        # Everything loaded so far (Django, the models, the SCP's contexts) lives as long as the process:
        # frozen, it is no longer walked by the collector's full passes, each of which paused every thread
        # (and so every transfer) for tens of milliseconds.
        gc.collect()
        gc.freeze()
        # pydicom checks every UID it builds against a regular expression and, when reading, only warns about
        # a bad one. Accepting an association builds ~400 (every proposed context and transfer syntax), a
        # third of the listener's negotiation time; pynetdicom still applies its own UID checks.
        pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE
        self.stdout.write(f"DICOM listener {listener.scp.ae_title} on {listener.scp.host}:{listener.port}; "
                          "SIGTERM or Ctrl-C stops it")
        self.stdout.flush()
        reported: dict[str, Any] = {}
        try:
            while not stop.wait(1.0):
                reported = self._report(listener, reported)
        finally:
            listener.stop()
            self._report(listener, reported)  # what the stop left journalled, for whoever looks next
            self.stdout.write("DICOM listener stopped")

    def _report(self, listener: Any, reported: dict[str, Any]) -> dict[str, Any]:
        """Publish the listener's counts when they change (an admin sees instances waiting for the database)."""
        state = listener.state()
        if state != reported:
            try:
                listener_state_write(state)
            except OSError as exc:
                logging.getLogger(__name__).warning("cannot write the listener's state: %s", exc)
        return state
