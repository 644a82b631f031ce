"""Pipeline endpoints. Thin: access through selectors.py, changes through services.py."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cube.api.views import CJViewMixin
from plugins.models import Pipeline, Plugin, PluginPiping
from plugins.serializers import PluginSerializer
from uploads.views.common import as_bool, schema_only

from . import selectors, services
from .filters import PipelineFilter
from .serializers import DefaultParameterSerializer, PipelineSerializer, PluginPipingSerializer
from .tree import parse_tree

SEARCH = (DjangoFilterBackend,)
WRITABLE = ("name", "authors", "category", "description", "locked")


def body(request: Any) -> Any:
    data = request.data
    if not hasattr(data, "get"):
        raise ValidationError({"detail": ["The request body must be an object of fields."]})
    return data


def _given(value: Any) -> bool:
    return value not in (None, "")


def nodes_for(user: Any, data: Any) -> list[Any]:
    tree, inst = data.get("plugin_tree"), data.get("plugin_inst_id")
    if _given(tree) and _given(inst):
        raise ValidationError({"non_field_errors": ["Give either plugin_tree or plugin_inst_id, not both."]})
    if _given(tree):
        return parse_tree(tree)
    if _given(inst):
        nodes = services.tree_from_instance(user, inst)
        try:
            return parse_tree(nodes)
        except ValidationError as exc:  # the tree is ours: its problems are the instance's
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            raise ValidationError({"plugin_inst_id": detail.get("plugin_tree", exc.detail)}) from None
    raise ValidationError({"non_field_errors": ["One of plugin_tree or plugin_inst_id is required."]})


class PipelineList(CJViewMixin, generics.ListAPIView):
    """GET: the pipelines you can see (unlocked ones, and your own). POST: create one."""

    serializer_class = PipelineSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_links = {"plugins": "plugin-list"}  # chrisapi's PipelineList.getPlugins
    cj_search = "pipeline-list-query-search"
    cj_template = (*WRITABLE, "plugin_tree", "plugin_inst_id")

    def get_queryset(self) -> QuerySet:
        return selectors.visible_pipelines(self.request.user)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        data = body(request)
        fields = services.clean_text(data, required=True)
        locked = as_bool(data.get("locked"), "locked") if _given(data.get("locked")) else True
        nodes = nodes_for(request.user, data)
        pipeline = services.pipeline_create(owner=request.user, nodes=nodes, locked=locked, **fields)
        pipeline = selectors.access_pipeline_by_id(request.user, pipeline.pk)
        return Response(self.get_serializer(pipeline).data, status=status.HTTP_201_CREATED)


class PipelineListSearch(PipelineList):
    filter_backends = SEARCH
    filterset_class = PipelineFilter
    http_method_names = ["get", "head", "options"]


class PipelineDetail(CJViewMixin, generics.RetrieveAPIView):
    serializer_class = PipelineSerializer
    # Anonymous writes are 401s (sign in), as every other write endpoint answers them.
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = WRITABLE

    def get_object(self) -> Pipeline:
        write = self.request.method not in permissions.SAFE_METHODS
        return selectors.access_pipeline_by_id(self.request.user, self.kwargs["pk"], write=write)

    def put(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        pipeline = self.get_object()
        data = body(request)
        fields = services.clean_text(data, required=False)
        locked = as_bool(data.get("locked"), "locked") if _given(data.get("locked")) else None
        services.pipeline_update(pipeline=pipeline, fields=fields, locked=locked)
        return Response(self.get_serializer(self.get_object()).data)

    def patch(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return self.put(request, *args, **kwargs)

    def delete(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        services.pipeline_delete(pipeline=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PipelineCustomJson(generics.GenericAPIView):
    """The pipeline in the form POST /pipelines/ accepts (``plugin_tree`` a JSON string), for copying it."""

    serializer_class = PipelineSerializer

    def get(self, request: Any, pk: int) -> Response:
        import json

        pipeline = selectors.access_pipeline_by_id(request.user, pk)
        tree = services.pipeline_tree(pipeline)
        return Response({"name": pipeline.name, "locked": pipeline.locked, "authors": pipeline.authors,
                         "category": pipeline.category, "description": pipeline.description,
                         "plugin_tree": json.dumps(tree)})


class PipelinePluginList(CJViewMixin, generics.ListAPIView):
    serializer_class = PluginSerializer
    cj_links = {"pipeline": ("pipeline-detail", {"pk": "pk"})}

    def get_queryset(self) -> QuerySet:
        if schema_only(self):
            return Plugin.objects.none()
        pipeline = selectors.access_pipeline_by_id(self.request.user, self.kwargs["pk"])
        return Plugin.objects.filter(pipings__pipeline=pipeline).select_related("meta").distinct().order_by("id")


class PipelinePipingList(CJViewMixin, generics.ListAPIView):
    serializer_class = PluginPipingSerializer
    cj_links = {"pipeline": ("pipeline-detail", {"pk": "pk"})}

    def get_queryset(self) -> QuerySet:
        if schema_only(self):
            return PluginPiping.objects.none()
        pipeline = selectors.access_pipeline_by_id(self.request.user, self.kwargs["pk"])
        return selectors.pipeline_pipings(pipeline)


class PipelineDefaultParameterList(CJViewMixin, generics.ListAPIView):
    serializer_class = DefaultParameterSerializer
    cj_links = {"pipeline": ("pipeline-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        if schema_only(self):
            return []
        pipeline = selectors.access_pipeline_by_id(self.request.user, self.kwargs["pk"])
        return selectors.pipeline_defaults(pipeline)


class PluginPipingDetail(CJViewMixin, generics.RetrieveAPIView):
    """GET; PUT resources (cpu_limit, memory_limit, number_of_workers, gpu_limit) of a draft pipeline's piping."""

    serializer_class = PluginPipingSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = tuple(services.RESOURCES)

    def get_object(self) -> PluginPiping:
        write = self.request.method not in permissions.SAFE_METHODS
        return selectors.access_piping_by_id(self.request.user, self.kwargs["pk"], write=write)

    def put(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        piping = self.get_object()
        services.piping_update(piping=piping, data=body(request))
        return Response(self.get_serializer(self.get_object()).data)


class DefaultParameterDetail(CJViewMixin, generics.RetrieveAPIView):
    """/pipelines/<type>-parameter/<pk>/: GET; PUT ``value`` while the pipeline is a draft."""

    serializer_class = DefaultParameterSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = ("value",)
    param_type = ""

    def get_object(self) -> Any:
        write = self.request.method not in permissions.SAFE_METHODS
        return selectors.access_default_by_id(self.request.user, self.param_type, self.kwargs["pk"], write=write)

    def put(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        data = body(request)
        if "value" not in data:
            raise ValidationError({"value": ["This field is required."]})
        services.default_update(row=row, value=data.get("value"))
        return Response(self.get_serializer(self.get_object()).data)


def typed_default_view(param_type: str) -> Any:
    return type(f"Default{param_type.title()}ParameterDetail", (DefaultParameterDetail,), {"param_type": param_type})

