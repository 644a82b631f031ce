"""PACS nodes: registering, changing and removing them, their folders, and the C-ECHO check.

A node's folder ``SERVICES/PACS/<identifier>`` belongs to the superuser; ``pacs_users`` get read on
``SERVICES/PACS`` and on each node folder (the file registry computes access from ancestors, so the
series beneath inherit it, and the grant on each level makes the folders show up when listing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from pacs.dicom import EchoResult, PacsNode, echo
from uploads.models import ChrisFolder, FolderGroupPermission
from uploads.services import folder_get_or_create, folder_move, superuser

from ..models import PACS, RetrieveMethod
from ..selectors import PACS_GROUP, PACS_ROOT

IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# AE titles: 1-16 characters of the default repertoire, no backslash or control characters (PS3.5 6.2).
AET_RE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")
EDITABLE = ("identifier", "aet", "host", "port", "retrieve_method", "calling_aet", "active", "description")


class NodeError(ValueError):
    """Invalid node settings; ``errors`` maps field → messages (a 400 by field in the API)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def node_validate(fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The cleaned settings, or NodeError by field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for name in ("identifier", "aet", "host", "port") if creating else ():
        if fields.get(name) in (None, ""):
            errors[name] = ["This field is required."]
    for name, value in fields.items():
        if name not in EDITABLE or value is None or name in errors:
            continue
        try:
            out[name] = _clean_one(name, value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise NodeError(errors)
    return out


def _clean_one(name: str, value: Any) -> Any:
    if name == "identifier":
        text = str(value).strip()
        if not IDENTIFIER_RE.match(text):
            raise ValueError("Use 1-100 letters, digits, '.', '_' or '-' (it names the node's folder).")
        return text
    if name in ("aet", "calling_aet"):
        text = str(value).strip()
        if name == "calling_aet" and text == "":
            return ""
        if not AET_RE.match(text):
            raise ValueError("An AE title is 1-16 printable ASCII characters without a backslash.")
        return text
    if name == "host":
        text = str(value).strip()
        if not text or len(text) > 255 or any(c.isspace() for c in text):
            raise ValueError("A host name or IP address is required.")
        return text
    if name == "port":
        try:
            port = int(value)
        except (TypeError, ValueError):
            raise ValueError("A port number is required.") from None
        if not 1 <= port <= 65535:
            raise ValueError("A port is between 1 and 65535.")
        return port
    if name == "retrieve_method":
        text = str(value).strip().lower()
        if text not in RetrieveMethod.values:
            raise ValueError(f"One of: {', '.join(RetrieveMethod.values)}.")
        return text
    if name == "active":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"'{value}' is not a boolean.")
    text = str(value)
    if len(text) > 400:
        raise ValueError("At most 400 characters.")
    return text


def _grant_read(folder: ChrisFolder) -> None:
    group, _ = Group.objects.get_or_create(name=PACS_GROUP)
    FolderGroupPermission.objects.get_or_create(folder=folder, group=group, defaults={"permission": "r"})


def pacs_folder_ensure(*, pacs: PACS) -> ChrisFolder:
    """The node's folder (recreated, with its grants, if someone deleted it)."""
    if pacs.folder_id is not None and pacs.folder is not None:
        return pacs.folder
    admin = superuser()
    root = folder_get_or_create(path=PACS_ROOT, owner=admin)
    _grant_read(root)
    folder = folder_get_or_create(path=f"{PACS_ROOT}/{pacs.identifier}", owner=admin)
    _grant_read(folder)
    PACS.objects.filter(pk=pacs.pk).update(folder=folder)
    pacs.folder = folder
    return folder


def pacs_create(**fields: Any) -> PACS:
    """Register a node: NodeError (by field) for invalid settings or a taken identifier."""
    data = node_validate(fields, creating=True)
    if PACS.objects.filter(identifier=data["identifier"]).exists():
        raise NodeError({"identifier": [f"A PACS named '{data['identifier']}' already exists."]})
    try:
        with transaction.atomic():
            pacs = PACS.objects.create(**data)
            pacs_folder_ensure(pacs=pacs)
    except IntegrityError:
        raise NodeError({"identifier": [f"A PACS named '{data['identifier']}' already exists."]}) from None
    return pacs


def pacs_update(*, pacs: PACS, **fields: Any) -> PACS:
    """Change a node's settings; a new identifier renames its folder (and every series path beneath)."""
    data = node_validate(fields, creating=False)
    new_identifier = data.get("identifier")
    if new_identifier and new_identifier != pacs.identifier:
        if PACS.objects.filter(identifier=new_identifier).exclude(pk=pacs.pk).exists():
            raise NodeError({"identifier": [f"A PACS named '{new_identifier}' already exists."]})
        folder = pacs_folder_ensure(pacs=pacs)
        folder_move(folder=folder, new_path=f"{PACS_ROOT}/{new_identifier}")
    with transaction.atomic():
        PACS.objects.filter(pk=pacs.pk).update(**data)
    pacs.refresh_from_db()
    return pacs


def pacs_delete(*, pacs: PACS) -> None:
    """Remove a node that has no registered series (its queries and retrieves go with it).

    Series are PACS data owned by the superuser: deleting them is a separate, explicit act (DELETE on each
    series); a node with data can be made inactive instead.
    """
    count = pacs.series.count()
    if count:
        raise NodeError({"detail": [f"PACS '{pacs.identifier}' still has {count} registered series; delete "
                                    "them first, or set active=false to stop using it."]})
    with transaction.atomic():
        folder_id = pacs.folder_id
        pacs.delete()
        if folder_id is not None:
            # Empty by construction (no series); anything else someone put there stays reachable by path.
            ChrisFolder.objects.filter(pk=folder_id, children__isnull=True, files__isnull=True).delete()


def calling_aet_of(pacs: PACS) -> str:
    return pacs.calling_aet or settings.CUBE_DICOM_AET


def pacs_node(pacs: PACS) -> PacsNode:
    """How the DICOM layer reaches this node."""
    return PacsNode(aet=pacs.aet, host=pacs.host, port=pacs.port, calling_aet=calling_aet_of(pacs))


@dataclass(frozen=True)
class EchoReport:
    ok: bool
    status: int | None
    message: str
    rtt_ms: float
    association_ms: float


def pacs_echo(*, pacs: PACS) -> EchoReport:
    """C-ECHO the node; never raises for network problems (``ok`` and ``message`` say what happened)."""
    result: EchoResult = echo(pacs_node(pacs))
    return EchoReport(result.ok, result.status, result.message, round(result.rtt_ms, 2),
                      round(result.association_ms, 2))
