"""Choosing the backend: build_storage from a dotted path, get_storage from settings.CUBE_STORAGE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from cube.storage import build_storage, get_storage, reset_storage_cache
from cube.storage.filesystem import FilesystemStorage

FS = "cube.storage.filesystem.FilesystemStorage"


def test_build_storage_instantiates_the_named_class_with_options(tmp_path: Path) -> None:
    storage = build_storage(FS, {"root": str(tmp_path / "r")})
    assert isinstance(storage, FilesystemStorage)
    assert storage.root == str((tmp_path / "r").resolve())


@pytest.mark.parametrize(
    "backend,error",
    [("FilesystemStorage", ValueError), ("cube.storage.base.CHUNK_SIZE", TypeError), ("pathlib.Path", TypeError)],
)
def test_build_storage_refuses_what_is_not_a_storage_class(backend: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        build_storage(backend, {})


def test_get_storage_is_cached_until_reset(tmp_path: Path, settings: Any) -> None:
    settings.CUBE_STORAGE = {"BACKEND": FS, "OPTIONS": {"root": str(tmp_path / "one")}}
    reset_storage_cache()
    try:
        first = get_storage()
        assert get_storage() is first
        assert isinstance(first, FilesystemStorage) and first.root.endswith("one")
        settings.CUBE_STORAGE = {"BACKEND": FS, "OPTIONS": {"root": str(tmp_path / "two")}}
        assert get_storage() is first  # process-wide: settings are read once
        reset_storage_cache()
        second = get_storage()
        assert isinstance(second, FilesystemStorage) and second.root.endswith("two")
        settings.CUBE_STORAGE = {}
        reset_storage_cache()
        with pytest.raises(ImproperlyConfigured):
            get_storage()
    finally:
        reset_storage_cache()
