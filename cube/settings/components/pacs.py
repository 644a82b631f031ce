"""PACS: the AE title and port of our storage SCP (the DICOM listener), and how long a retrieve waits for
the instances it moved to be registered."""

from __future__ import annotations

from .. import env

# What PACS nodes must know us as: C-MOVE retrieves name this AE title as their destination.
CUBE_DICOM_AET = env.get("CUBE_DICOM_AET", "CHRIS") or "CHRIS"
CUBE_DICOM_PORT = env.get_int("CUBE_DICOM_PORT", 11111)
# A PACS on another host must reach the listener, so it listens on every interface unless told otherwise.
CUBE_DICOM_BIND = env.get("CUBE_DICOM_BIND", "0.0.0.0") or "0.0.0.0"  # noqa: S104 - a network service
# After a PACS reports a C-MOVE complete, the listener may still be registering the last instances.
CUBE_PACS_REGISTRATION_TIMEOUT = float(env.get("CUBE_PACS_REGISTRATION_TIMEOUT", "60"))
# Each received instance is written here once, answered, then imported into storage; whatever a crash
# leaves here is imported when the listener next starts. On the filesystem backend put it on the storage's
# filesystem, so that the import is a hard link and not a copy.
CUBE_DICOM_SPOOL_DIR = env.get("CUBE_DICOM_SPOOL_DIR", str(env.VAR_DIR / "dicom-spool"))
# Threads importing received instances into storage where an import is a network round trip (Swift): the
# listener overlaps that many PUTs. The filesystem backend links each instance in place and uses none.
CUBE_PACS_IMPORT_THREADS = env.get_int("CUBE_PACS_IMPORT_THREADS", 8)
