"""Object storage behind one contract (base.Storage): filesystem (the embedded default) and OpenStack
Swift. get_storage() returns the process-wide backend chosen by settings.CUBE_STORAGE."""

from __future__ import annotations

import importlib
import threading
from typing import Any

from .base import Storage

_lock = threading.Lock()
_cached: Storage | None = None


def build_storage(backend: str, options: dict[str, Any]) -> Storage:
    module_name, _, class_name = backend.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    storage = cls(**options)
    if not isinstance(storage, Storage):
        raise TypeError(f"{backend} is not a cube.storage.base.Storage")
    return storage


def get_storage() -> Storage:
    global _cached
    if _cached is None:
        with _lock:
            if _cached is None:
                from django.conf import settings

                conf = settings.CUBE_STORAGE
                _cached = build_storage(conf["BACKEND"], dict(conf.get("OPTIONS", {})))
    return _cached


def reset_storage_cache() -> None:
    global _cached
    with _lock:
        _cached = None
