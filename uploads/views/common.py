"""Pieces the file views share: input helpers, the download base view, the write checks on paths."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import views
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.settings import api_settings

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


def clean_or_400(raw: Any, name: str) -> str:
    try:
        return normalise(str(raw))
    except PathError as exc:
        raise ValidationError({name: [str(exc)]}) from None


class DownloadView(views.APIView):
    """GET → the object's bytes for any Accept; errors still in the client's media type.

    ``?download_token=`` authenticates (once). Subclasses return the object from ``get_object``, having
    checked read access through the selectors.
    """

    authentication_classes = (DownloadTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    as_attachment = True

    def get_object(self) -> Any:
        raise Http404("Not found.")

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return file_response(request, self.get_object(), as_attachment=self.as_attachment)

    def head(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.get(request, *args, **kwargs)
