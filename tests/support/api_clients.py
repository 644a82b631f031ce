"""API test clients signed in as the cast of a permission matrix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def clients_for(users: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """One DRF APIClient per name, signed in as ``users[name]``; the name ``anon`` stays anonymous."""
    from rest_framework.test import APIClient

    clients = {}
    for name in names:
        client = APIClient()
        if name != "anon":
            client.force_authenticate(users[name])
        clients[name] = client
    return clients
