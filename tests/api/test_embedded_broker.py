"""The embedded broker never hands a consumer half a message, however the writer and reader race."""

from __future__ import annotations

import threading
from typing import Any

from kombu import Connection

import cube.celery  # noqa: F401 - registers the cubefs:// transport


def test_messages_written_while_consumed_are_always_whole(tmp_path: Any) -> None:
    folder = tmp_path / "q"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "polling_interval": 0.001,
               "control_folder": str(tmp_path / "control")}  # kombu defaults to ./control
    big = "x" * 2_000_000  # large enough that an in-place write is observable half-done
    received: list[int] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            with Connection("cubefs://", transport_options=options) as conn:
                queue = conn.SimpleQueue("race")
                while len(received) < 20:
                    msg = queue.get(timeout=30)
                    received.append(len(msg.payload["data"]))
                    msg.ack()
        except BaseException as exc:  # reported below
            errors.append(exc)

    reader = threading.Thread(target=consume)
    reader.start()
    with Connection("cubefs://", transport_options=options) as conn:
        queue = conn.SimpleQueue("race")
        for _ in range(20):
            queue.put({"data": big})
    reader.join(timeout=60)
    assert not errors, errors
    assert received == [len(big)] * 20
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]
