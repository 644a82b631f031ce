"""Object storage behind one contract (base.Storage): filesystem (the embedded default) and OpenStack
Swift. get_storage() returns the process-wide backend chosen by settings.CUBE_STORAGE.

The rest of the project asks for get_storage() and never names a backend; settings choose one with
``CUBE_STORAGE = {"BACKEND": "<dotted class path>", "OPTIONS": {...}}``. Only this package imports a
storage client library, and only get_storage() touches Django.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from typing import Any

from .base import (
    CHUNK_SIZE,
    InvalidKey,
    ObjectNotFound,
    ObjectStat,
    Storage,
    StorageError,
    StoredObject,
    clean_key,
    clean_prefix,
    key_join,
)

__all__ = [
    "CHUNK_SIZE",
    "InvalidKey",
    "ObjectNotFound",
    "ObjectStat",
    "Storage",
    "StorageError",
    "StoredObject",
    "build_storage",
    "clean_key",
    "clean_prefix",
    "get_storage",
    "key_join",
    "reset_storage_cache",
]

_lock = threading.Lock()
_cached: Storage | None = None


def build_storage(backend: str, options: Mapping[str, Any] | None = None) -> Storage:
    """Instantiate the Storage subclass at the dotted path ``backend`` with ``options`` as keywords."""
    module_name, _, class_name = backend.rpartition(".")
    if not module_name:
        raise ValueError(f"storage backend {backend!r} is not a dotted class path")
    cls = getattr(importlib.import_module(module_name), class_name, None)
    # Checked before instantiating: a wrong class must not get the chance to touch anything.
    if not (isinstance(cls, type) and issubclass(cls, Storage)):
        raise TypeError(f"{backend} is not a cube.storage.base.Storage")
    return cls(**dict(options or {}))


def get_storage() -> Storage:
    """The process-wide storage chosen by settings.CUBE_STORAGE, built on first use."""
    global _cached
    if _cached is None:
        with _lock:
            if _cached is None:
                from django.conf import settings
                from django.core.exceptions import ImproperlyConfigured

                conf = getattr(settings, "CUBE_STORAGE", None)
                if not conf or "BACKEND" not in conf:
                    raise ImproperlyConfigured('CUBE_STORAGE must be {"BACKEND": "<dotted path>", "OPTIONS": {}}')
                _cached = build_storage(conf["BACKEND"], conf.get("OPTIONS") or {})
    return _cached


def reset_storage_cache() -> None:
    """Forget the cached storage (tests that change CUBE_STORAGE call this)."""
    global _cached
    with _lock:
        _cached = None
