"""User files: /userfiles/ (CUBE 6, paths home/<user>/...) and /uploadedfiles/ (CUBE 2-5, paths
<user>/uploads/...), two views of the same rows."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cube.api.views import CJViewMixin
from uploads import services
from uploads.filters import UploadedFileFilter, UserFileFilter
from uploads.ingest import receive_upload
from uploads.models import ChrisFile
from uploads.selectors import WRITE, Target, access_file_by_id, creation_target, user_files
from uploads.serializers import UploadedFileSerializer, UserFileSerializer

from .common import DownloadView, IdPagePagination, Search, as_bool, creatable_path, field, require_admin, schema_only


def home_file(user: Any, pk: Any, needed: str = "r") -> ChrisFile:
    """A file under home/ the user may access: the user-file endpoints serve nothing else."""
    file = access_file_by_id(user, pk, needed)
    if not file.fname.startswith("home/"):
        raise Http404("Not found.")
    return file


def classic_to_path(user: Any, raw: str) -> str:
    """<user>/uploads/x (classic) → home/<user>/uploads/x; a path already under home/ is kept as it is."""
    text = raw.strip()
    if text.startswith("/"):
        return text  # absolute: left for check_create_path to refuse
    if text.startswith("home/") and not text.startswith(f"{user.get_username()}/"):
        return text
    return f"home/{text}"


class UserFileList(CJViewMixin, generics.ListAPIView):
    """GET: your files under home/ (the superuser: all). POST multipart ``upload_path`` + ``fname``."""

    serializer_class = UserFileSerializer
    permission_classes = (permissions.IsAuthenticated,)
    pagination_class = IdPagePagination
    cj_search = "userfile-list-query-search"
    cj_template = ("upload_path", "fname")
    cj_links = {"user": lambda view: _user_link(view)}

    def get_queryset(self) -> Any:
        if schema_only(self):
            return ChrisFile.objects.none()
        return user_files(self.request.user)

    def resolve(self, raw: str) -> Target:
        return creation_target(self.request.user, raw)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        stored = receive_upload(request, owner=request.user, resolve=self.resolve)
        stored.owner = request.user  # the serializer needs the owner's name: no query for it
        return Response(self.get_serializer(stored).data, status=status.HTTP_201_CREATED)


def _user_link(view: Any) -> str | None:
    from rest_framework.reverse import reverse

    user = view.request.user
    return reverse("user-detail", kwargs={"pk": user.pk}, request=view.request) if user.is_authenticated else None


class UserFileListSearch(Search, UserFileList):
    filterset_class = UserFileFilter
    http_method_names = ["get", "head", "options"]


class UserFileDetail(CJViewMixin, generics.GenericAPIView):
    """GET; PUT ``upload_path`` (move/rename) and/or ``public``; DELETE (synchronous)."""

    serializer_class = UserFileSerializer
    permission_classes = (permissions.IsAuthenticated,)
    cj_template = ("upload_path", "public")
    path_field = "upload_path"

    def new_path(self, raw: Any) -> str:
        return creatable_path(self.request.user, raw, self.path_field)

    def get_object(self) -> Any:
        # Only DRF's OPTIONS calls it, to ask whether the PUT it describes is allowed; GenericAPIView's own
        # wanted a queryset this view does not have (a 500).
        return home_file(self.request.user, self.kwargs["pk"], WRITE)

    def get(self, request: Any, pk: int) -> Response:
        return Response(self.get_serializer(home_file(request.user, pk)).data)

    def put(self, request: Any, pk: int) -> Response:
        file = home_file(request.user, pk, WRITE)
        raw_path, public = field(request, self.path_field), field(request, "public")
        if raw_path is None and public is None:
            raise ValidationError({"non_field_errors": [f"Provide '{self.path_field}' and/or 'public'."]})
        if public is not None:
            require_admin(request.user, file)
        if raw_path is not None:
            new = self.new_path(raw_path)
            if new != file.fname:
                try:
                    services.file_move(file=file, new_path=new)
                except FileExistsError:
                    raise ValidationError({self.path_field: [f"'{new}' already exists."]}) from None
        if public is not None:
            services.file_set_public(file=file, public=as_bool(public, "public"))
        return Response(self.get_serializer(file).data)

    def delete(self, request: Any, pk: int) -> Response:
        services.file_delete(file=home_file(request.user, pk, WRITE))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserFileResource(DownloadView):
    def get_object(self) -> ChrisFile:
        return home_file(self.request.user, self.kwargs["pk"])


# --- classic generation ---


class UploadedFileList(UserFileList):
    serializer_class = UploadedFileSerializer
    cj_search = "uploadedfile-list-query-search"

    def resolve(self, raw: str) -> Target:
        return creation_target(self.request.user, classic_to_path(self.request.user, raw))


class UploadedFileListSearch(Search, UploadedFileList):
    filterset_class = UploadedFileFilter
    http_method_names = ["get", "head", "options"]


class UploadedFileDetail(UserFileDetail):
    serializer_class = UploadedFileSerializer

    def new_path(self, raw: Any) -> str:
        path = classic_to_path(self.request.user, raw) if isinstance(raw, str) else raw
        return creatable_path(self.request.user, path, self.path_field)


class UploadedFileResource(UserFileResource):
    pass
