"""A secret key for the embedded mode, generated once and kept under var/."""

from __future__ import annotations

import secrets
from pathlib import Path


def embedded_secret_key(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        # O_EXCL: when two processes start at once, exactly one writes and both read the same key.
        try:
            fd = path.open("x")
        except FileExistsError:
            return path.read_text().strip()
        with fd:
            fd.write(key)
        path.chmod(0o600)
        return key
