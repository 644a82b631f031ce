"""Object ids sent in request bodies as numbers or strings."""

from __future__ import annotations

import re
from typing import Any

_ID = re.compile(r"\s*([0-9]{1,19})\s*")


def parse_id(value: Any) -> int | None:
    """The id ``value`` names, or None when it names none. ``str.isdigit()`` also accepts '²', which
    ``int()`` refuses, and ``int()`` refuses strings of more than 4300 digits: both were 500s where
    ``isdigit()`` guarded ``int()``. ASCII digits only, at most 19 of them (a bigint's width)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    match = _ID.fullmatch(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None
