"""Users in every role the permission rules know, clients for them, and multipart bodies built by hand
(so tests control the order of the parts and where a body is cut)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

CJ = "application/vnd.collection+json"


def multipart(fields: list[tuple[str, str | bytes, str | None]], boundary: str | None = None) -> tuple[bytes, str]:
    """(body, content type) for (name, value, filename-or-None) parts, in the order given."""
    boundary = boundary or uuid.uuid4().hex
    out = bytearray()
    for name, value, filename in fields:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n"
        out += value.encode() if isinstance(value, str) else value
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def upload(client: Any, path: str, data: bytes, *, url: str = "/api/v1/userfiles/", file_first: bool = False,
           accept: str = "application/json") -> Any:
    parts: list[tuple[str, str | bytes, str | None]] = [("upload_path", path, None), ("fname", data, "fname")]
    if file_first:
        parts.reverse()
    body, content_type = multipart(parts)
    return client.generic("POST", url, body, content_type=content_type, HTTP_ACCEPT=accept)


@dataclass
class Actors:
    """owner (alice), other (bob), member (carol, in group 'lab'), admin (chris), anon; a client each."""

    alice: Any
    bob: Any
    carol: Any
    admin: Any
    lab: Any
    clients: dict[str, Any]

    def client(self, who: str) -> Any:
        return self.clients[who]


@pytest.fixture
def actors(make_user: Any, system: Any) -> Actors:
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
    lab = Group.objects.create(name="lab")
    carol.groups.add(lab)
    clients = {}
    for name, user in (("alice", alice), ("bob", bob), ("carol", carol), ("admin", system), ("anon", None)):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        clients[name] = client
    return Actors(alice, bob, carol, system, lab, clients)


@pytest.fixture
def eager_celery(settings: Any) -> Any:
    """Tasks run in-process, at once (the request's on_commit still has to fire)."""
    from cube.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before
