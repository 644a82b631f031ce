"""The embedded mode's message broker: kombu's filesystem transport with atomic writes.

kombu writes each message file in place and a consumer may rename it away (and read it) before the
writer has finished; beat and the worker then race and the worker dies on half a JSON document. Here a
message is written under a name consumers ignore and renamed into place once complete.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


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


class Transport(filesystem.Transport):
    Channel = Channel


SCHEME = "cubefs"


def register() -> None:
    """Make ``cubefs://`` name this transport, so the broker URL alone decides where messages go."""
    from kombu.transport import TRANSPORT_ALIASES

    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
