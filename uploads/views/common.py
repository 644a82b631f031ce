"""Pieces the file views share: input helpers, the download base view, the write checks on paths."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import views
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.settings import api_settings

from cube.api.pagination import LimitOffsetPagination
from uploads.downloads import file_response
from uploads.paths import PathError, normalise
from uploads.selectors import can_administer, check_create_path
from uploads.tokens import DownloadTokenAuthentication

TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


class Search:
    filter_backends = (DjangoFilterBackend,)


def as_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValidationError({field: [f"'{value}' is not a boolean."]})


def field(request: Any, name: str) -> Any:
    """A value of the body (JSON, CJ template, form or multipart); None when absent."""
    data = request.data
    value = data.get(name) if hasattr(data, "get") else None
    return value


def creatable_path(user: Any, raw: Any, name: str) -> str:
    """``raw`` cleaned, if the user may create something there; else a 400 naming the field."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError({name: ["This field is required."]})
    try:
        return check_create_path(user, raw)
    except PathError as exc:
        raise ValidationError({name: [str(exc)]}) from None


def require_admin(user: Any, obj: Any, what: str = "its public status or sharing") -> None:
    if not can_administer(user, obj):
        raise PermissionDenied(f"Only the owner or the superuser may change {what}.")


def protected_folder(path: str) -> bool:
    """home/<user> and home/<user>/feeds, and the system roots: only the superuser moves or deletes them."""
    parts = path.split("/")
    return (len(parts) <= 1) or (parts[0] == "home" and (len(parts) == 2 or (len(parts) == 3 and parts[2] == "feeds")))


def inside_feeds(path: str) -> bool:
    """A feed's folder, or a folder below it (a run's), under home/<user>/feeds/.

    Sharing a feed grants 'w' on its folder so that sharees can run plugins in it; moving or deleting these
    folders would delete the feed's or a run's data, which the feed API leaves to the feed's owner. So only
    whoever administers the folder (the owner, the superuser) moves or deletes them in the file browser."""
    parts = path.split("/")
    return len(parts) >= 4 and parts[0] == "home" and parts[2] == "feeds"


def clean_or_400(raw: Any, name: str) -> str:
    try:
        return normalise(str(raw))
    except PathError as exc:
        raise ValidationError({name: [str(exc)]}) from None


def schema_only(view: Any) -> bool:
    """drf-spectacular instantiates views without a request's user or URL kwargs to describe them."""
    return bool(getattr(view, "swagger_fake_view", False))


BINARY_RESPONSE = extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                                           (206, "application/octet-stream"): OpenApiTypes.BINARY})


class DownloadView(views.APIView):
    """GET → the object's bytes for any Accept; errors still in the client's media type.

    ``?download_token=`` authenticates (once). Subclasses return the object from ``get_object``, having
    checked read access through the selectors.
    """

    authentication_classes = (DownloadTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    as_attachment = True

    def get_object(self) -> Any:
        raise Http404("Not found.")

    @BINARY_RESPONSE
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return file_response(request, self.get_object(), as_attachment=self.as_attachment)

    @BINARY_RESPONSE
    def head(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.get(request, *args, **kwargs)


class IdPagePagination(LimitOffsetPagination):
    """Limit/offset as CUBE, with deep pages as cheap as shallow ones: the page's ids come from an
    index-only scan, read from whichever end of the ordering is nearer (offset 99,900 of 100,000 is the
    first 100 ids backwards), and only those rows are then loaded."""

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.count = self.get_count(queryset)
        self.offset = self.get_offset(request)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.count == 0 or self.offset >= self.count:
            return []
        ids_qs = queryset.values_list("pk", flat=True)
        if self.offset > self.count // 2 and queryset.ordered:
            take = min(self.limit, self.count - self.offset)
            skip = self.count - self.offset - take
            ids = list(ids_qs.reverse()[skip:skip + take])[::-1]
        else:
            ids = list(ids_qs[self.offset:self.offset + self.limit])
        rows = {row.pk: row for row in queryset.model.objects.filter(pk__in=ids).select_related(
            *_related(queryset))}
        return [rows[i] for i in ids if i in rows]


def _related(queryset: Any) -> list[str]:
    """The queryset's select_related paths, nested ones included ({'a': {'b': {}}} → ['a__b'])."""
    def paths(tree: dict[str, Any], prefix: str = "") -> list[str]:
        out = []
        for name, sub in tree.items():
            out.extend(paths(sub, f"{prefix}{name}__") if sub else [f"{prefix}{name}"])
        return out

    related = queryset.query.select_related
    return paths(related) if isinstance(related, dict) else []
