"""Backends under test: the filesystem on a temp dir, and Swift on a real all-in-one (one per session)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cube.storage.base import Storage
from cube.storage.filesystem import FilesystemStorage
from tests.support.swift_aio import SwiftAIO

BACKENDS = ["filesystem", "swift"]

StorageFactory = Callable[..., Storage]


def make_swift(aio: SwiftAIO, **options: Any) -> Storage:
    from cube.storage.swift import SwiftStorage

    # A fresh container per storage isolates tests and exercises the container's creation on first use.
    options.setdefault("container", f"t-{uuid.uuid4().hex[:12]}")
    options.setdefault("starting_backoff", 0.2)
    options.setdefault("max_backoff", 1.0)
    return SwiftStorage(**aio.storage_options(**options))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def storage_factory(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> StorageFactory:
    """Builds a storage of the current backend; keyword options apply to Swift only (e.g. page_size)."""
    if backend == "filesystem":
        return lambda **options: FilesystemStorage(str(tmp_path / "root"))
    # Looked up only here, so filesystem-only runs never start Swift.
    aio = request.getfixturevalue("swift_aio")
    return lambda **options: make_swift(aio, **options)


@pytest.fixture
def storage(storage_factory: StorageFactory) -> Storage:
    return storage_factory()
