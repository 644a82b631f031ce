"""Object storage: filesystem under var/storage (embedded) or Swift, chosen by STORAGE_BACKEND."""

from __future__ import annotations

from .. import env

_backend = env.get("STORAGE_BACKEND", "filesystem").lower()
if _backend == "swift":
    CUBE_STORAGE = {
        "BACKEND": "cube.storage.swift.SwiftStorage",
        "OPTIONS": {
            "auth_url": env.get("SWIFT_AUTH_URL"),
            "user": env.get("SWIFT_USERNAME"),
            "key": env.get("SWIFT_KEY"),
            "container": env.get("SWIFT_CONTAINER_NAME", "users"),
        },
    }
else:
    CUBE_STORAGE = {
        "BACKEND": "cube.storage.filesystem.FilesystemStorage",
        "OPTIONS": {"root": env.get("STORAGE_ROOT", str(env.VAR_DIR / "storage"))},
    }
# Large uploads stream to temporary files (never memory) past this size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env.get("CUBE_UPLOAD_TEMP_DIR") or None
