"""User and group grants ('r'/'w') on folders, files and link files: six sets of CUBE's URLs built from one
definition. Reading a grant list needs read access to the object; changing grants needs its owner (or
the owner of a folder above it) or the superuser."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from cube.api.views import CJViewMixin
from uploads import serializers as ser
from uploads.filters import grant_filter
from uploads.models import (
    ChrisFolder,
    FileGroupPermission,
    FileUserPermission,
    FolderGroupPermission,
    FolderUserPermission,
    LinkFileGroupPermission,
    LinkFileUserPermission,
)
from uploads.selectors import access_file_by_id, access_folder_by_id, access_link_file_by_id
from uploads.sharing import GrantExistsError, grant_create, grant_delete, grant_update

from .common import inside_feeds, require_admin, schema_only

# URL prefix → (access selector, FK name on the grant, detail view of the object)
KINDS: dict[str, tuple[Any, str, str]] = {
    "folder": (access_folder_by_id, "folder", "chrisfolder-detail"),
    "file": (access_file_by_id, "file", "chrisfile-detail"),
    "linkfile": (access_link_file_by_id, "link_file", "chrislinkfile-detail"),
}
MODELS: dict[tuple[str, str], tuple[Any, Any]] = {
    ("folder", "group"): (FolderGroupPermission, ser.FolderGroupPermissionSerializer),
    ("folder", "user"): (FolderUserPermission, ser.FolderUserPermissionSerializer),
    ("file", "group"): (FileGroupPermission, ser.FileGroupPermissionSerializer),
    ("file", "user"): (FileUserPermission, ser.FileUserPermissionSerializer),
    ("linkfile", "group"): (LinkFileGroupPermission, ser.LinkFileGroupPermissionSerializer),
    ("linkfile", "user"): (LinkFileUserPermission, ser.LinkFileUserPermissionSerializer),
}


def _readable_grants(access: Any, user: Any, pk: Any) -> Any:
    """The object whose grants the user asks to see: read access shows them, except inside a feed, where
    the grants are the feed's shares, which the feed API shows only to those who may write to it."""
    obj = access(user, pk)
    if inside_feeds(obj.path if isinstance(obj, ChrisFolder) else obj.fname):
        try:
            access(user, pk, "w")
        except PermissionDenied:
            raise PermissionDenied("Who a feed is shared with is for those who may write to it.") from None
    return obj


def make_grant_views(kind: str, grantee: str) -> tuple[Any, Any, Any]:
    """(list+create, search, detail) view classes for one (object kind, grantee kind)."""
    access, fk, target_view = KINDS[kind]
    model, serializer = MODELS[(kind, grantee)]
    name_field = "grp_name" if grantee == "group" else "username"
    prefix = f"{kind}{grantee}permission"

    def rows(obj: Any) -> Any:
        return model.objects.filter(**{fk: obj}).select_related(fk, grantee).order_by("id")

    class GrantList(CJViewMixin, generics.ListAPIView):
        serializer_class = serializer
        permission_classes = (permissions.IsAuthenticated,)
        cj_links = {kind if kind != "linkfile" else "link_file": (target_view, {"pk": "pk"})}
        cj_search = f"{prefix}-list-query-search"
        cj_search_kwargs = {"pk": "pk"}
        cj_template = (name_field, "permission")

        def target(self) -> Any:
            return _readable_grants(access, self.request.user, self.kwargs["pk"])

        def get_queryset(self) -> Any:
            if schema_only(self):
                return model.objects.none()
            return rows(self.target())

        def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
            obj = self.target()
            require_admin(request.user, obj, "who it is shared with")
            data = ser.GrantInput(data=request.data)
            data.is_valid(raise_exception=True)
            who = data.validated_data.get(name_field)
            if who is None:
                raise ValidationError({name_field: ["This field is required."]})
            try:
                grant = grant_create(obj=obj, permission=data.validated_data["permission"],
                                     **{grantee: who})
            except GrantExistsError:
                raise ValidationError({"non_field_errors": [
                    f"'{request.data.get(name_field)}' already has a permission on this object; "
                    "change it with PUT."]}) from None
            return Response(self.get_serializer(grant).data, status=status.HTTP_201_CREATED)

    class GrantListSearch(GrantList):
        filterset_class = grant_filter(model, grantee)
        filter_backends = (DjangoFilterBackend,)
        http_method_names = ["get", "head", "options"]

    class GrantDetail(CJViewMixin, generics.GenericAPIView):
        serializer_class = serializer
        permission_classes = (permissions.IsAuthenticated,)
        cj_template = ("permission",)

        def grant(self, pk: Any) -> Any:
            grant = model.objects.select_related(fk, grantee).filter(pk=pk).first()
            if grant is None:
                raise Http404("Not found.")
            # 404 to anyone who cannot read the object (403 inside a feed to whoever may not write to it)
            _readable_grants(access, self.request.user, getattr(grant, f"{fk}_id"))
            return grant

        def get_object(self) -> Any:
            # Only DRF's OPTIONS calls it, to ask whether the PUT it describes is allowed; GenericAPIView's
            # own wanted a queryset this view does not have (a 500).
            grant = self.grant(self.kwargs["pk"])
            require_admin(self.request.user, getattr(grant, fk), "who it is shared with")
            return grant

        def get(self, request: Any, pk: int) -> Response:
            return Response(self.get_serializer(self.grant(pk)).data)

        def put(self, request: Any, pk: int) -> Response:
            grant = self.grant(pk)
            require_admin(request.user, getattr(grant, fk), "who it is shared with")
            permission = request.data.get("permission") if hasattr(request.data, "get") else None
            if permission not in ("r", "w"):
                raise ValidationError({"permission": ["Must be 'r' or 'w'."]})
            return Response(self.get_serializer(grant_update(grant=grant, permission=permission)).data)

        def delete(self, request: Any, pk: int) -> Response:
            grant = self.grant(pk)
            require_admin(request.user, getattr(grant, fk), "who it is shared with")
            grant_delete(grant=grant)
            return Response(status=status.HTTP_204_NO_CONTENT)

    for cls, suffix in ((GrantList, "List"), (GrantListSearch, "ListSearch"), (GrantDetail, "Detail")):
        cls.__name__ = cls.__qualname__ = f"{kind.title()}{grantee.title()}Permission{suffix}"
    return GrantList, GrantListSearch, GrantDetail


GRANT_VIEWS = {(kind, grantee): make_grant_views(kind, grantee) for kind in KINDS for grantee in ("group", "user")}
