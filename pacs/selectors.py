"""Access selectors for PACS data. As CUBE: the superuser and the members of ``pacs_users`` read every
node, query, retrieve, series and file and may query and retrieve; a query or retrieve is changed or
deleted by its owner (or the superuser); only the superuser deletes series. Everyone else is refused
(403; 401 when not signed in), never shown an empty list that looks like "no data"."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from rest_framework.exceptions import NotAuthenticated, PermissionDenied

from cube.api.permissions import is_superuser
from uploads.models import ChrisFile

from .models import PACS, PACSQuery, PACSRetrieve, PACSSeries

PACS_GROUP = "pacs_users"
PACS_ROOT = "SERVICES/PACS"


def is_pacs_user(user: Any) -> bool:
    if not (user and user.is_authenticated):
        return False
    if is_superuser(user):
        return True
    cached = getattr(user, "_cube_is_pacs_user", None)
    if cached is None:
        cached = user.groups.filter(name=PACS_GROUP).exists()
        user._cube_is_pacs_user = cached
    return bool(cached)


def require_pacs_user(user: Any) -> None:
    if not (user and user.is_authenticated):
        raise NotAuthenticated()
    if not is_pacs_user(user):
        raise PermissionDenied(f"PACS data is available to members of the '{PACS_GROUP}' group only.")


def _one(qs: QuerySet, pk: Any) -> Any:
    try:
        obj = qs.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        raise Http404("Not found.")
    return obj


def _owner_or_superuser(user: Any, owner_id: int) -> None:
    if not (is_superuser(user) or owner_id == user.id):
        raise PermissionDenied("Only its owner or the superuser may change this.")


def visible_pacs(user: Any) -> QuerySet:
    require_pacs_user(user)
    return PACS.objects.select_related("folder").order_by("id")


def access_pacs_by_id(user: Any, pk: Any) -> PACS:
    return _one(visible_pacs(user), pk)


def visible_queries(user: Any) -> QuerySet:
    require_pacs_user(user)
    return PACSQuery.objects.select_related("pacs", "owner").order_by("-id")


def access_query_by_id(user: Any, pk: Any, write: bool = False) -> PACSQuery:
    query = _one(visible_queries(user), pk)
    if write:
        _owner_or_superuser(user, query.owner_id)
    return query


def visible_retrieves(user: Any) -> QuerySet:
    require_pacs_user(user)
    return PACSRetrieve.objects.select_related("pacs_query__pacs", "owner").order_by("-id")


def access_retrieve_by_id(user: Any, pk: Any, write: bool = False) -> PACSRetrieve:
    retrieve = _one(visible_retrieves(user), pk)
    if write:
        _owner_or_superuser(user, retrieve.owner_id)
    return retrieve


def visible_series(user: Any) -> QuerySet:
    require_pacs_user(user)
    return PACSSeries.objects.select_related("pacs", "folder").order_by("-id")


def access_series_by_id(user: Any, pk: Any, write: bool = False) -> PACSSeries:
    series = _one(visible_series(user), pk)
    if write and not is_superuser(user):
        raise PermissionDenied("Only the superuser may delete PACS series.")
    return series


def pacs_files(user: Any) -> QuerySet:
    """Every registered file under SERVICES/PACS/, with its series (for the DICOM fields) in the same query."""
    require_pacs_user(user)
    return (ChrisFile.objects.filter(fname__startswith=PACS_ROOT + "/")
            .select_related("owner", "parent_folder__pacs_series__pacs").order_by("fname"))


def access_pacs_file_by_id(user: Any, pk: Any) -> ChrisFile:
    return _one(pacs_files(user), pk)


def service_files(user: Any) -> QuerySet:
    """The classic /servicefiles/: files under SERVICES/ (PACS is the only service here)."""
    require_pacs_user(user)
    return ChrisFile.objects.filter(fname__startswith="SERVICES/").select_related("owner").order_by("id")


def access_service_file_by_id(user: Any, pk: Any) -> ChrisFile:
    return _one(service_files(user), pk)
