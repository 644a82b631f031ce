"""Download tokens: POST mints one, GET lists your own (the superuser: all)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from cube.api.views import CJViewMixin
from uploads.filters import DownloadTokenFilter
from uploads.models import FileDownloadToken
from uploads.selectors import visible_download_tokens
from uploads.serializers import DownloadTokenSerializer
from uploads.tokens import download_token_create

from .common import Search, schema_only


class DownloadTokenList(CJViewMixin, generics.ListAPIView):
    serializer_class = DownloadTokenSerializer
    permission_classes = (permissions.IsAuthenticated,)
    cj_search = "filedownloadtoken-list-query-search"

    def get_queryset(self) -> Any:
        if schema_only(self):
            return FileDownloadToken.objects.none()
        return visible_download_tokens(self.request.user)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        token = download_token_create(owner=request.user)
        return Response(self.get_serializer(token).data, status=status.HTTP_201_CREATED)


class DownloadTokenListSearch(Search, DownloadTokenList):
    filterset_class = DownloadTokenFilter
    http_method_names = ["get", "head", "options"]


class DownloadTokenDetail(CJViewMixin, generics.RetrieveAPIView):
    serializer_class = DownloadTokenSerializer
    permission_classes = (permissions.IsAuthenticated,)

    def get_object(self) -> Any:
        token = visible_download_tokens(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if token is None:
            raise Http404("Not found.")
        return token
