"""The file browser: folders, their children, files and link files, with CUBE's URLs; zip download of a
folder; moves, public flags and (asynchronous) deletion."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from cube.api.views import CJViewMixin
from uploads import services
from uploads.deletion import folder_delete_request
from uploads.downloads import ZipEntry, zip_response
from uploads.filters import FolderSearchFilter
from uploads.models import ChrisFile, ChrisFolder, ChrisLinkFile
from uploads.paths import LINK_SUFFIX
from uploads.selectors import (
    WRITE,
    access_file_by_id,
    access_folder_by_id,
    access_folder_by_path,
    access_link_file_by_id,
    readable_folder,
    tree_objects,
    visible_children,
    visible_files,
    visible_link_files,
)
from uploads.serializers import (
    FileSerializer,
    FolderSearchSerializer,
    FolderSerializer,
    LinkFileSerializer,
    link_targets,
)

from .common import (
    DownloadView,
    IdPagePagination,
    as_bool,
    clean_or_400,
    creatable_path,
    field,
    inside_feeds,
    protected_folder,
    require_admin,
    schema_only,
)

READ_OR_AUTH_WRITE = (permissions.IsAuthenticatedOrReadOnly,)


def _need_one(request: Any, *names: str) -> None:
    if all(field(request, n) is None for n in names):
        raise ValidationError({"non_field_errors": [f"Provide at least one of: {', '.join(names)}."]})


class FolderList(CJViewMixin, generics.ListAPIView):
    """GET: the root folder (a one-item list, as CUBE). POST ``{path}`` creates a folder under home/."""

    serializer_class = FolderSerializer
    permission_classes = READ_OR_AUTH_WRITE
    cj_search = "chrisfolder-list-query-search"
    cj_template = ("path",)

    def get_queryset(self) -> Any:
        root = access_folder_by_path(self.request.user, "")
        return ChrisFolder.objects.filter(pk=root.pk).select_related("owner")

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        path = creatable_path(request.user, field(request, "path"), "path")
        try:
            folder = services.folder_create(owner=request.user, path=path)
        except FileExistsError:
            raise ValidationError({"path": [f"Folder with path '{path}' already exists."]}) from None
        return Response(self.get_serializer(folder).data, status=status.HTTP_201_CREATED)


class FolderListSearch(CJViewMixin, generics.ListAPIView):
    """``?id=`` or ``?path=``: at most one folder, and only one the user may read."""

    serializer_class = FolderSearchSerializer
    filterset_class = FolderSearchFilter

    def get_queryset(self) -> Any:
        # The parameters are read here, before the filter backend would validate them: validate them first
        # (a NUL in the path reached PostgreSQL, a 500).
        form = FolderSearchFilter(self.request.query_params, queryset=ChrisFolder.objects.none()).form
        if not form.is_valid():
            raise ValidationError(form.errors)
        params = form.cleaned_data
        if params.get("id") is not None:
            folder_id = params["id"]  # a Decimal: 1.5 names no folder, it must not round to folder 1
            folder = (readable_folder(self.request.user, folder_id=int(folder_id))
                      if folder_id == folder_id.to_integral_value() else None)
        else:
            folder = readable_folder(self.request.user, path=(params.get("path") or "").strip().strip("/"))
        if folder is None:
            return ChrisFolder.objects.none()
        return ChrisFolder.objects.filter(pk=folder.pk).select_related("owner")


class FolderDetail(CJViewMixin, generics.GenericAPIView):
    """GET; PUT ``path`` (move the tree) and/or ``public``; DELETE → 202, deleted by a task."""

    serializer_class = FolderSerializer
    permission_classes = READ_OR_AUTH_WRITE
    cj_template = ("path", "public")

    def get_object(self) -> ChrisFolder:
        # Only DRF's OPTIONS calls it, to ask whether the PUT it describes is allowed; GenericAPIView's own
        # wanted a queryset these views do not have (a 500).
        return access_folder_by_id(self.request.user, self.kwargs["pk"], WRITE)

    def get(self, request: Any, pk: int) -> Response:
        return Response(self.get_serializer(access_folder_by_id(request.user, pk)).data)

    def put(self, request: Any, pk: int) -> Response:
        folder = access_folder_by_id(request.user, pk, WRITE)
        _need_one(request, "path", "public")
        raw_path, public = field(request, "path"), field(request, "public")
        if public is not None:
            require_admin(request.user, folder)
        if raw_path is not None and clean_or_400(raw_path, "path") != folder.path:
            if protected_folder(folder.path) and not request.user.is_superuser:
                raise PermissionDenied(f"Folder '{folder.path}' cannot be moved.")
            if inside_feeds(folder.path):
                require_admin(request.user, folder, "a feed's folders")
            new = creatable_path(request.user, raw_path, "path")
            try:
                services.folder_move(folder=folder, new_path=new)
            except FileExistsError:
                raise ValidationError({"path": [f"'{new}' already exists."]}) from None
            except ValueError as exc:
                raise ValidationError({"path": [str(exc)]}) from None
        if public is not None:
            services.folder_set_public(folder=folder, public=as_bool(public, "public"))
        return Response(self.get_serializer(folder).data)

    def delete(self, request: Any, pk: int) -> Response:
        folder = access_folder_by_id(request.user, pk, WRITE)
        if protected_folder(folder.path) and not request.user.is_superuser:
            raise ValidationError({"non_field_errors": [f"Deleting folder '{folder.path}' is not allowed."]})
        if inside_feeds(folder.path):
            require_admin(request.user, folder, "a feed's folders")
        if folder.path == "" or "/" not in folder.path:
            raise ValidationError({"non_field_errors": ["System folders cannot be deleted."]})
        folder = folder_delete_request(folder=folder)
        return Response(self.get_serializer(folder).data, status=status.HTTP_202_ACCEPTED)


class _FolderContents(CJViewMixin, generics.ListAPIView):
    cj_links = {"folder": ("chrisfolder-detail", {"pk": "pk"})}
    pagination_class = IdPagePagination

    def folder(self) -> ChrisFolder:
        return access_folder_by_id(self.request.user, self.kwargs["pk"])


class FolderChildList(_FolderContents):
    serializer_class = FolderSerializer

    def get_queryset(self) -> Any:
        if schema_only(self):
            return ChrisFolder.objects.none()
        return visible_children(self.request.user, self.folder())


class FolderFileList(_FolderContents):
    serializer_class = FileSerializer

    def get_queryset(self) -> Any:
        if schema_only(self):
            return ChrisFile.objects.none()
        return visible_files(self.request.user, self.folder())


class FolderLinkFileList(_FolderContents):
    serializer_class = LinkFileSerializer

    def get_queryset(self) -> Any:
        if schema_only(self):
            return ChrisLinkFile.objects.none()
        return visible_link_files(self.request.user, self.folder())

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = list(page) if page is not None else []
        # Two queries for the whole page's linked_folder/linked_file, not two per link.
        context = {**self.get_serializer_context(), "link_targets": link_targets(rows)}
        data = LinkFileSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data)


class FolderDownload(DownloadView):
    """The whole tree under a folder as one zip stream (stored entries, no temporary file)."""

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        folder = access_folder_by_id(request.user, self.kwargs["pk"])
        files, links = tree_objects(folder)
        base = folder.path.rsplit("/", 1)[0] + "/" if "/" in folder.path else ""

        def entries() -> Any:
            for fname, size, created in files.values_list("fname", "size", "creation_date").iterator(2000):
                yield ZipEntry(fname[len(base):], fname, size, created)
            for fname, path, created in links.values_list("fname", "path", "creation_date").iterator(2000):
                yield ZipEntry(fname[len(base):], fname, len(path.encode()), created)

        return zip_response(entries(), f"{folder.name or 'root'}.zip")


class FileDetail(CJViewMixin, generics.GenericAPIView):
    """Any file. PUT ``new_file_path`` and/or ``public``; DELETE is synchronous."""

    serializer_class = FileSerializer
    permission_classes = READ_OR_AUTH_WRITE
    cj_template = ("new_file_path", "public")
    path_field = "new_file_path"
    access: Any = staticmethod(access_file_by_id)

    def get_object(self) -> Any:
        # Only DRF's OPTIONS calls it, to ask whether the PUT it describes is allowed; GenericAPIView's own
        # wanted a queryset these views do not have (a 500).
        return self.access(self.request.user, self.kwargs["pk"], WRITE)

    def get(self, request: Any, pk: int) -> Response:
        return Response(self.get_serializer(self.access(request.user, pk)).data)

    def check_new_path(self, path: str) -> None:
        if path.endswith(LINK_SUFFIX):
            raise ValidationError({self.path_field: ["Invalid path. This is not a ChRIS link file."]})

    def put(self, request: Any, pk: int) -> Response:
        obj = self.access(request.user, pk, WRITE)
        _need_one(request, self.path_field, "public")
        raw_path, public = field(request, self.path_field), field(request, "public")
        if public is not None:
            require_admin(request.user, obj)
        cleaned = clean_or_400(raw_path, self.path_field) if raw_path is not None else None
        if cleaned is not None and cleaned != obj.fname:
            self.check_new_path(cleaned)
            new = self._creatable(request.user, cleaned)
            try:
                services.file_move(file=obj, new_path=new)
            except FileExistsError:
                raise ValidationError({self.path_field: [f"'{new}' already exists."]}) from None
        if public is not None:
            services.file_set_public(file=obj, public=as_bool(public, "public"))
        return Response(self.get_serializer(obj).data)

    def _creatable(self, user: Any, raw: Any) -> str:
        return creatable_path(user, raw, self.path_field)

    def delete(self, request: Any, pk: int) -> Response:
        obj = self.access(request.user, pk, WRITE)
        self.check_deletable(obj)
        services.file_delete(file=obj)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def check_deletable(self, obj: Any) -> None:
        pass


class FileResource(DownloadView):
    def get_object(self) -> ChrisFile:
        return access_file_by_id(self.request.user, self.kwargs["pk"])


class LinkFileDetail(FileDetail):
    """A link file: ``path`` is its target. PUT ``new_link_file_path`` (ending in .chrislink) and/or
    ``public``; a user's own public.chrislink and shared.chrislink cannot be deleted."""

    serializer_class = LinkFileSerializer
    cj_template = ("new_link_file_path", "public")
    path_field = "new_link_file_path"
    access: Any = staticmethod(access_link_file_by_id)

    def check_new_path(self, path: str) -> None:
        if not path.endswith(LINK_SUFFIX) or path.rsplit("/", 1)[-1] == LINK_SUFFIX:
            raise ValidationError({self.path_field: [f"Invalid path. A link file name must end in {LINK_SUFFIX}."]})

    def _creatable(self, user: Any, cleaned: str) -> str:
        # check_user_path refuses .chrislink names (users may not upload them): check the name without it.
        return creatable_path(user, cleaned[: -len(LINK_SUFFIX)], self.path_field) + LINK_SUFFIX

    def check_deletable(self, obj: ChrisLinkFile) -> None:
        parts = obj.fname.split("/")
        if len(parts) == 3 and parts[0] == "home" and parts[2] in ("public.chrislink", "shared.chrislink"):
            raise ValidationError({"non_field_errors": [f"Deleting link file '{obj.fname}' is not allowed."]})


class LinkFileResource(DownloadView):
    def get_object(self) -> ChrisLinkFile:
        return access_link_file_by_id(self.request.user, self.kwargs["pk"])
