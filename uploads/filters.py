"""Search filters with CUBE's parameter names (django-filter semantics: unknown parameters are ignored)."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.db.models import Min, Q, QuerySet

from cube.api.filters import date_range

from .models import ChrisFile, ChrisFolder, FileDownloadToken

MAX_PATH_LENGTH = ChrisFile._meta.get_field("fname").max_length or 1024


def filter_nslashes(queryset: QuerySet, value: str, *, field: str = "fname", offset: int = 0) -> QuerySet:
    """Paths with exactly N slashes; "Nu" keeps one file per folder (CUBE's way to list sub-folders).

    One regular-expression condition in SQL, where CUBE filters in Python over every row."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*([uU]?)\s*", value or "")  # more digits: no path has that many
    if match is None:
        return queryset.none()
    n = int(match.group(1)) + offset
    if n > MAX_PATH_LENGTH:  # more slashes than a stored path has characters: nothing can match
        return queryset.none()
    # PostgreSQL repeats a group at most 255 times ({256} is a DataError, a 500): deeper paths chain groups.
    whole, rest = divmod(n, 255)
    qs = queryset.filter(**{f"{field}__regex": "^[^/]*" + "(/[^/]*){255}" * whole + "(/[^/]*){" + str(rest) + "}$"})
    if match.group(2):
        firsts = qs.order_by().values("parent_folder").annotate(first=Min("id")).values("first")
        qs = queryset.filter(id__in=firsts)
    return qs


def filter_icontains_multiple(queryset: QuerySet, value: str, *, field: str = "fname") -> QuerySet:
    for word in (value or "").split():
        queryset = queryset.filter(**{f"{field}__icontains": word})
    return queryset


class UserFileFilter(django_filters.FilterSet):
    min_creation_date, max_creation_date = date_range("creation_date")
    fname = django_filters.CharFilter(field_name="fname", lookup_expr="startswith")
    fname_exact = django_filters.CharFilter(field_name="fname", lookup_expr="exact")
    fname_icontains = django_filters.CharFilter(field_name="fname", lookup_expr="icontains")
    fname_icontains_multiple = django_filters.CharFilter(method="_icontains_multiple")
    fname_nslashes = django_filters.CharFilter(method="_nslashes")
    owner_username = django_filters.CharFilter(field_name="owner__username", lookup_expr="exact")

    class Meta:
        model = ChrisFile
        fields: tuple[str, ...] = (
            "id", "min_creation_date", "max_creation_date", "fname", "fname_exact", "fname_icontains",
            "fname_icontains_multiple", "fname_nslashes", "owner_username")

    def _icontains_multiple(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return filter_icontains_multiple(queryset, value)

    def _nslashes(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return filter_nslashes(queryset, value)


def _both_forms(value: str) -> list[str]:
    """A classic path (alice/uploads/x) and its current form (home/alice/uploads/x): both are accepted."""
    value = value.strip()
    return [value, f"home/{value}"]


class UploadedFileFilter(UserFileFilter):
    """The classic /uploadedfiles/search/: fname in the classic form or the current one."""

    fname = django_filters.CharFilter(method="_fname_startswith")
    fname_exact = django_filters.CharFilter(method="_fname_exact")

    def _fname_startswith(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        cond = Q()
        for form in _both_forms(value):
            cond |= Q(fname__startswith=form)
        return queryset.filter(cond)

    def _fname_exact(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(fname__in=_both_forms(value))

    def _nslashes(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The classic fname lacks the leading 'home/': one slash fewer than the stored path.
        return filter_nslashes(queryset, value, offset=1)


def grant_filter(model: Any, grantee: str) -> type[django_filters.FilterSet]:
    """``id`` and ``group_name`` (group grants) or ``username`` (user grants)."""
    if grantee == "group":
        extra: dict[str, Any] = {"group_name": django_filters.CharFilter(field_name="group__name")}
    else:
        extra = {"username": django_filters.CharFilter(field_name="user__username")}
    meta = type("Meta", (), {"model": model, "fields": ("id", *extra)})
    return type(f"{model.__name__}Filter", (django_filters.FilterSet,), {**extra, "Meta": meta})


class DownloadTokenFilter(django_filters.FilterSet):
    class Meta:
        model = FileDownloadToken
        fields = ("id",)


class FolderSearchFilter(django_filters.FilterSet):
    """The file browser's search names its two parameters; the view resolves them itself (at most one
    folder, and only one the user may read)."""

    id = django_filters.NumberFilter(method="_ignore")
    path = django_filters.CharFilter(method="_ignore")

    class Meta:
        model = ChrisFolder
        fields = ("id", "path")

    def _ignore(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset
