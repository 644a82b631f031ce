"""Pipeline source files: upload (creates the pipeline), list, search, detail, and the bytes."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cube.api.views import CJViewMixin
from uploads.models import ChrisFile
from uploads.views.common import DownloadView

from . import selectors
from .filters import PipelineSourceFileFilter
from .serializers import PipelineSourceFileSerializer
from .sourcefiles import MAX_BYTES, sourcefile_create


class PipelineSourceFileList(CJViewMixin, generics.ListAPIView):
    """GET: the source files of the pipelines you can see. POST multipart ``fname`` (the file) + ``type``
    (yaml|json): creates the pipeline it describes and keeps the file."""

    serializer_class = PipelineSourceFileSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_search = "pipelinesourcefile-list-query-search"
    cj_template = ("fname", "type")

    def get_queryset(self) -> QuerySet:
        return selectors.source_files(self.request.user)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        upload = request.FILES.get("fname") if hasattr(request, "FILES") else None
        if upload is None:
            raise ValidationError({"fname": ["Send the pipeline file as the multipart file field 'fname'."]})
        ftype = str(request.data.get("type") or "").strip().lower()
        if not ftype:
            name = upload.name.lower()
            ftype = "json" if name.endswith(".json") else "yaml" if name.endswith((".yml", ".yaml")) else ""
        if not ftype:
            raise ValidationError({"type": ["This field is required (yaml or json)."]})
        if upload.size is not None and upload.size > MAX_BYTES:
            raise ValidationError({"fname": [f"A pipeline file has at most {MAX_BYTES} bytes."]})
        stored = sourcefile_create(uploader=request.user, filename=upload.name, content=upload.read(),
                                   ftype=ftype)
        return Response(self.get_serializer(selectors.source_file_by_id(request.user, stored.pk)).data,
                        status=status.HTTP_201_CREATED)


class PipelineSourceFileListSearch(PipelineSourceFileList):
    filter_backends = (DjangoFilterBackend,)
    filterset_class = PipelineSourceFileFilter
    http_method_names = ["get", "head", "options"]


class PipelineSourceFileDetail(CJViewMixin, generics.RetrieveAPIView):
    serializer_class = PipelineSourceFileSerializer

    def get_object(self) -> ChrisFile:
        return selectors.source_file_by_id(self.request.user, self.kwargs["pk"])


class PipelineSourceFileResource(DownloadView):
    """The file's bytes, anonymously if its pipeline is published, whatever name follows the id."""

    def get_object(self) -> ChrisFile:
        return selectors.source_file_by_id(self.request.user, self.kwargs["pk"])
