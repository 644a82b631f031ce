"""Test-only storage: the real filesystem backend, minus the local paths it would hand out, so the generic
(Swift-like) streaming code path runs on it."""

from __future__ import annotations

from cube.storage.filesystem import FilesystemStorage


class OpaqueFilesystemStorage(FilesystemStorage):
    def local_path(self, key: str) -> str | None:
        return None
