"""The embedded mode's message broker: kombu's filesystem transport with atomic writes.

kombu writes each message file in place and a consumer may rename it away (and read it) before the
writer has finished; beat and the worker then race and the worker dies on half a JSON document. Here a
message is written under a name consumers ignore and renamed into place once complete.

kombu also creates an exchange's routing table by opening it with truncation before taking its lock, so
two processes binding queues at once (the worker and beat starting together) can erase each other's
bindings, and a publisher reading the table meanwhile finds it empty and fails on it. Here the table is
opened without truncation and only read or rewritten under its lock; a table not yet written reads as
no bindings, as a missing one does in kombu.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Consumers pick files whose name after the first '.' is '<queue>.msg'; a leading '.' hides this one.
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as fh:
                fh.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        path = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        binding = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ChannelError(f"Cannot open {path}") from exc
        with os.fdopen(fd, "r+b", buffering=0) as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file is closed
            table = _parse_table(fh.read())
            if binding not in table:
                table.insert(0, binding)
                fh.seek(0)
                fh.truncate()
                fh.write(str_to_bytes(dumps(table)))

    def get_table(self, exchange: str) -> list[Any]:
        path = self._exchange_file(exchange)
        try:
            with open(path, "rb") as fh:
                fcntl.flock(fh, fcntl.LOCK_SH)
                return _parse_table(fh.read())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {path}") from exc


def _parse_table(raw: bytes) -> list[Any]:
    return [filesystem.exchange_queue_t(*b) for b in loads(bytes_to_str(raw))] if raw.strip() else []


class Transport(filesystem.Transport):
    Channel = Channel


SCHEME = "cubefs"


def register() -> None:
    """Make ``cubefs://`` name this transport, so the broker URL alone decides where messages go."""
    from kombu.transport import TRANSPORT_ALIASES

    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
