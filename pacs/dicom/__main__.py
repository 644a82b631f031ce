"""``python -m pacs.dicom listen``: a standalone storage SCP that writes what it receives into a folder.

Used by the benchmark (the listener runs in its own process, as in production) and handy for
receiving a PACS's data without the rest of CUBE. Prints one ``listening <host>:<port>`` line, and on
SIGTERM/SIGINT a JSON line of counts before exiting.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from .filesink import FileSink
from .scp import DEFAULT_AE_TITLE, DEFAULT_MAX_PDU, DEFAULT_PORT, run_scp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pacs.dicom")
    sub = parser.add_subparsers(dest="command", required=True)
    listen = sub.add_parser("listen", help="run a storage SCP writing files under --root")
    listen.add_argument("--aet", default=DEFAULT_AE_TITLE)
    listen.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    listen.add_argument("--bind", default="127.0.0.1")
    listen.add_argument("--root", type=Path, required=True)
    listen.add_argument("--max-pdu", type=int, default=DEFAULT_MAX_PDU)
    listen.add_argument("--chunked", action="store_true", help="spool datasets to temp files, not memory")
    listen.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sink = FileSink(args.root)
    server = run_scp(args.aet, args.port, sink, bind=args.bind, max_pdu=args.max_pdu, chunked=args.chunked)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"listening {server.host}:{server.port}", flush=True)
    stop.wait()
    server.shutdown()
    counts = {
        "stored": sink.stored,
        "duplicates": sink.duplicates,
        "rejected": sink.rejected,
        "bytes": sink.bytes_written,
        "series": len(sink.completed),
    }
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
