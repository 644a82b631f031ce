"""PACS endpoints: nodes, queries, retrieves, series, files (current and classic URLs), the admin API.
Thin: access through selectors, changes through services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status, views
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cube.api.permissions import IsStaff
from cube.api.views import CJViewMixin
from uploads.models import ChrisFile
from uploads.views.common import DownloadView, IdPagePagination, Search, as_bool, schema_only

from . import selectors
from .filters import (
    PACSFileFilter,
    PACSFilter,
    PACSQueryFilter,
    PACSRetrieveFilter,
    PACSSeriesFilter,
    ServiceFileFilter,
)
from .models import PACS, PACSQuery, PACSRetrieve, PACSSeries
from .serializers import (
    AdminPACSSerializer,
    ClassicPACSFileSerializer,
    PACSFileSerializer,
    PACSQuerySerializer,
    PACSRetrieveSerializer,
    PACSSerializer,
    PACSSeriesSerializer,
    ServiceFileSerializer,
)
from .services import nodes, queries, retrieves
from .services.series import series_delete_request

READ_ONLY = ["get", "head", "options"]


def _data(request: Any) -> Any:
    data = request.data
    if not hasattr(data, "get"):
        raise ValidationError({"detail": "The request body must be an object of fields."})
    return data


# --- nodes ---


class PacsList(CJViewMixin, generics.ListAPIView):
    """The PACS nodes (registered by staff at /chris-admin/api/v1/pacs/). No side effects: CUBE re-synced
    its list with pfdcm on every GET."""

    serializer_class = PACSSerializer
    cj_search = "pacs-list-query-search"

    def get_queryset(self) -> Any:
        if schema_only(self):
            return PACS.objects.none()
        return selectors.visible_pacs(self.request.user)


class PacsListSearch(Search, PacsList):
    filterset_class = PACSFilter


class PacsDetail(CJViewMixin, generics.RetrieveAPIView):
    serializer_class = PACSSerializer

    def get_object(self) -> PACS:
        return selectors.access_pacs_by_id(self.request.user, self.kwargs["pk"])


class PacsEcho(views.APIView):
    """GET (or POST): C-ECHO the node now and say whether it answered. Changes nothing."""

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT}, operation_id="pacs_echo")
    def get(self, request: Any, pk: int) -> Response:
        pacs = selectors.access_pacs_by_id(request.user, pk)
        report = nodes.pacs_echo(pacs=pacs)
        return Response({"pacs_identifier": pacs.identifier, "aet": pacs.aet, "host": pacs.host, "port": pacs.port,
                         "calling_aet": nodes.calling_aet_of(pacs), "ok": report.ok, "status": report.status,
                         "message": report.message, "rtt_ms": report.rtt_ms,
                         "association_ms": report.association_ms})

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT}, operation_id="pacs_echo_now")
    def post(self, request: Any, pk: int) -> Response:
        return self.get(request, pk)


# --- queries ---


@extend_schema_view(get=extend_schema(operation_id="pacs_node_queries_list"))
class PacsQueryList(CJViewMixin, generics.ListCreateAPIView):
    """GET: this node's queries. POST ``title``, ``query`` (a JSON object of DICOM keywords, or a string
    holding one), ``description``, ``execute`` (default true: run the C-FIND now, in a task)."""

    serializer_class = PACSQuerySerializer
    cj_template = ("title", "query", "description", "execute")
    cj_links = {"pacs": ("pacs-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        if schema_only(self):
            return PACSQuery.objects.none()
        pacs = selectors.access_pacs_by_id(self.request.user, self.kwargs["pk"])
        return selectors.visible_queries(self.request.user).filter(pacs=pacs)

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        pacs = selectors.access_pacs_by_id(request.user, self.kwargs["pk"])
        data = _data(request)
        execute = data.get("execute")
        try:
            row = queries.query_create(owner=request.user, pacs=pacs, title=data.get("title"),
                                       query=data.get("query"), description=data.get("description") or "",
                                       execute=True if execute in (None, "") else as_bool(execute, "execute"))
        except queries.QueryError as exc:
            raise ValidationError(exc.errors) from None
        return Response(self.get_serializer(selectors.access_query_by_id(request.user, row.id)).data,
                        status=status.HTTP_201_CREATED)


class AllPacsQueryList(CJViewMixin, generics.ListAPIView):
    serializer_class = PACSQuerySerializer
    cj_search = "allpacsquery-list-query-search"

    def get_queryset(self) -> Any:
        if schema_only(self):
            return PACSQuery.objects.none()
        return selectors.visible_queries(self.request.user)


class AllPacsQueryListSearch(Search, AllPacsQueryList):
    filterset_class = PACSQueryFilter


class PacsQueryDetail(CJViewMixin, generics.GenericAPIView):
    """GET; PUT ``title``, ``description``, ``execute`` (owner; false→true runs it); DELETE (owner)."""

    serializer_class = PACSQuerySerializer
    cj_template = ("title", "description", "execute")

    def get_object(self) -> PACSQuery:
        # Only DRF's OPTIONS calls it, to ask whether the PUT it describes is allowed; GenericAPIView's own
        # wanted a queryset this view does not have (a 500).
        return selectors.access_query_by_id(self.request.user, self.kwargs["pk"], write=True)

    def get(self, request: Any, pk: int) -> Response:
        return Response(self.get_serializer(selectors.access_query_by_id(request.user, pk)).data)

    def put(self, request: Any, pk: int) -> Response:
        query = selectors.access_query_by_id(request.user, pk, write=True)
        data = _data(request)
        execute = data.get("execute")
        try:
            queries.query_update(query=query, title=data.get("title"), description=data.get("description"),
                                 execute=None if execute in (None, "") else as_bool(execute, "execute"))
        except queries.QueryError as exc:
            raise ValidationError(exc.errors) from None
        return Response(self.get_serializer(selectors.access_query_by_id(request.user, pk)).data)

    def delete(self, request: Any, pk: int) -> Response:
        selectors.access_query_by_id(request.user, pk, write=True).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- retrieves ---


class PacsRetrieveList(CJViewMixin, generics.ListCreateAPIView):
    """GET: the query's retrieves. POST (no body): retrieve every series the query found."""

    serializer_class = PACSRetrieveSerializer
    cj_search = "pacsretrieve-list-query-search"
    cj_search_kwargs = {"pk": "pk"}
    cj_links = {"pacs_query": ("pacsquery-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        if schema_only(self):
            return PACSRetrieve.objects.none()
        query = selectors.access_query_by_id(self.request.user, self.kwargs["pk"])
        return selectors.visible_retrieves(self.request.user).filter(pacs_query=query)

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        query = selectors.access_query_by_id(request.user, self.kwargs["pk"], write=True)
        try:
            row = retrieves.retrieve_create(owner=request.user, query=query)
        except retrieves.RetrieveError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(self.get_serializer(selectors.access_retrieve_by_id(request.user, row.id)).data,
                        status=status.HTTP_201_CREATED)


class PacsRetrieveListSearch(Search, PacsRetrieveList):
    filterset_class = PACSRetrieveFilter
    http_method_names = READ_ONLY


class PacsRetrieveDetail(CJViewMixin, generics.RetrieveDestroyAPIView):
    serializer_class = PACSRetrieveSerializer

    def get_object(self) -> Any:
        write = self.request.method == "DELETE"
        return selectors.access_retrieve_by_id(self.request.user, self.kwargs["pk"], write=write)


# --- series ---


class PacsSeriesList(CJViewMixin, generics.ListAPIView):
    serializer_class = PACSSeriesSerializer
    cj_search = "pacsseries-list-query-search"

    def get_queryset(self) -> Any:
        if schema_only(self):
            return PACSSeries.objects.none()
        return selectors.visible_series(self.request.user)


class PacsSeriesListSearch(Search, PacsSeriesList):
    filterset_class = PACSSeriesFilter


@extend_schema_view(get=extend_schema(operation_id="pacs_node_series_list"))
class PacsSpecificSeriesList(CJViewMixin, generics.ListAPIView):
    serializer_class = PACSSeriesSerializer
    cj_links = {"pacs": ("pacs-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        if schema_only(self):
            return PACSSeries.objects.none()
        pacs = selectors.access_pacs_by_id(self.request.user, self.kwargs["pk"])
        return selectors.visible_series(self.request.user).filter(pacs=pacs)


class PacsSeriesDetail(CJViewMixin, generics.RetrieveDestroyAPIView):
    """GET; DELETE (superuser): 202, the instances and their rows go in a task."""

    serializer_class = PACSSeriesSerializer

    def get_object(self) -> Any:
        write = self.request.method == "DELETE"
        return selectors.access_series_by_id(self.request.user, self.kwargs["pk"], write=write)

    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        series_delete_request(series=self.get_object())
        return Response(status=status.HTTP_202_ACCEPTED)


# --- files: /pacs/files/ (CUBE 6) and /pacsfiles/ (classic), one representation ---


class PacsFileList(CJViewMixin, generics.ListAPIView):
    serializer_class = PACSFileSerializer
    pagination_class = IdPagePagination
    cj_search = "pacsfile-list-query-search"

    def get_queryset(self) -> Any:
        if schema_only(self):
            return ChrisFile.objects.none()
        return selectors.pacs_files(self.request.user)


class PacsFileListSearch(Search, PacsFileList):
    filterset_class = PACSFileFilter


class PacsFileDetail(CJViewMixin, generics.RetrieveAPIView):
    serializer_class = PACSFileSerializer

    def get_object(self) -> ChrisFile:
        return selectors.access_pacs_file_by_id(self.request.user, self.kwargs["pk"])


@extend_schema_view(get=extend_schema(operation_id="pacs_files_resource"),
                    head=extend_schema(operation_id="pacs_files_resource_head"))
class PacsFileResource(DownloadView):
    def get_object(self) -> ChrisFile:
        return selectors.access_pacs_file_by_id(self.request.user, self.kwargs["pk"])


class ClassicPacsFileList(PacsFileList):
    serializer_class = ClassicPACSFileSerializer
    cj_search = "classicpacsfile-list-query-search"


class ClassicPacsFileListSearch(Search, ClassicPacsFileList):
    filterset_class = PACSFileFilter


class ClassicPacsFileDetail(PacsFileDetail):
    serializer_class = ClassicPACSFileSerializer


@extend_schema_view(get=extend_schema(operation_id="pacsfiles_resource"),
                    head=extend_schema(operation_id="pacsfiles_resource_head"))
class ClassicPacsFileResource(PacsFileResource):
    pass


class ServiceFileList(CJViewMixin, generics.ListAPIView):
    serializer_class = ServiceFileSerializer
    cj_search = "servicefile-list-query-search"

    def get_queryset(self) -> Any:
        if schema_only(self):
            return ChrisFile.objects.none()
        return selectors.service_files(self.request.user)


class ServiceFileListSearch(Search, ServiceFileList):
    filterset_class = ServiceFileFilter


class ServiceFileDetail(CJViewMixin, generics.RetrieveAPIView):
    serializer_class = ServiceFileSerializer

    def get_object(self) -> ChrisFile:
        return selectors.access_service_file_by_id(self.request.user, self.kwargs["pk"])


class ServiceFileResource(DownloadView):
    def get_object(self) -> ChrisFile:
        return selectors.access_service_file_by_id(self.request.user, self.kwargs["pk"])


# --- admin API: /chris-admin/api/v1/pacs/ ---

ADMIN_TEMPLATE = ("identifier", "aet", "host", "port", "retrieve_method", "calling_aet", "active", "description")


def _node_fields(data: Any) -> dict[str, Any]:
    return {name: data.get(name) for name in ADMIN_TEMPLATE if data.get(name) is not None}


class AdminPacsList(CJViewMixin, generics.ListCreateAPIView):
    """Staff: list and register PACS nodes (``identifier``, ``aet``, ``host``, ``port`` required)."""

    permission_classes = (IsStaff,)
    serializer_class = AdminPACSSerializer
    queryset = PACS.objects.select_related("folder").order_by("id")
    cj_template = ADMIN_TEMPLATE

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        try:
            pacs = nodes.pacs_create(**_node_fields(_data(request)))
        except nodes.NodeError as exc:
            raise ValidationError(exc.errors) from None
        return Response(self.get_serializer(pacs).data, status=status.HTTP_201_CREATED)


class AdminPacsDetail(CJViewMixin, generics.RetrieveUpdateDestroyAPIView):
    """Staff: GET; PUT any of the template's fields; DELETE a node without registered series."""

    permission_classes = (IsStaff,)
    serializer_class = AdminPACSSerializer
    queryset = PACS.objects.select_related("folder")
    cj_template = ADMIN_TEMPLATE
    http_method_names = ["get", "put", "delete", "head", "options"]

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        try:
            pacs = nodes.pacs_update(pacs=self.get_object(), **_node_fields(_data(request)))
        except nodes.NodeError as exc:
            raise ValidationError(exc.errors) from None
        return Response(self.get_serializer(pacs).data)

    def perform_destroy(self, instance: PACS) -> None:
        try:
            nodes.pacs_delete(pacs=instance)
        except nodes.NodeError as exc:
            raise ValidationError(exc.errors) from None
