"""Workflows (pipeline runs): ``pipelines/<pk>/workflows/``, ``pipelines/workflows/`` (+``search/``),
``pipelines/workflows/<pk>/`` (+``plugininstances/``), and the classic (CUBE 2-5) pipeline instances
(``pipelines/instances/``, ``pipelines/<pk>/instances/``, ``pipelines/instances/<pk>/``), which are the
same workflows under their old names. Access through feeds.selectors, changes through
feeds.services.workflows."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response

from cube.api.fields import CachedFieldsMixin, ReverseLinkField
from cube.api.views import CJViewMixin
from plugins.pipelines.selectors import access_pipeline_by_id

from . import selectors
from .filters import WorkflowFilter
from .models import Workflow
from .serializers import PluginInstanceSerializer
from .services import workflows


class WorkflowSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("workflow-detail")
    pipeline_id = serializers.IntegerField(read_only=True)
    pipeline_name = serializers.CharField(source="pipeline.name", read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    description = serializers.SerializerMethodField()  # classic pipeline instances had one
    created_jobs = serializers.IntegerField(read_only=True, default=0)
    waiting_jobs = serializers.IntegerField(read_only=True, default=0)
    copying_jobs = serializers.IntegerField(read_only=True, default=0)
    scheduled_jobs = serializers.IntegerField(read_only=True, default=0)
    started_jobs = serializers.IntegerField(read_only=True, default=0)
    uploading_jobs = serializers.IntegerField(read_only=True, default=0)
    registering_jobs = serializers.IntegerField(read_only=True, default=0)
    finished_jobs = serializers.IntegerField(read_only=True, default=0)
    errored_jobs = serializers.IntegerField(read_only=True, default=0)
    cancelled_jobs = serializers.IntegerField(read_only=True, default=0)
    pipeline = ReverseLinkField("pipeline-detail", kwargs={"pk": "pipeline_id"}, optional=True)
    plugin_instances = ReverseLinkField("workflow-plugininstance-list")
    owner = ReverseLinkField("user-detail", kwargs={"pk": "owner_id"})

    class Meta:
        model = Workflow
        fields = ("url", "id", "creation_date", "title", "pipeline_id", "pipeline_name", "owner_username",
                  "description", "created_jobs", "waiting_jobs", "copying_jobs", "scheduled_jobs",
                  "started_jobs", "uploading_jobs", "registering_jobs", "finished_jobs", "errored_jobs",
                  "cancelled_jobs", "pipeline", "plugin_instances", "owner")

    def get_description(self, obj: Workflow) -> str:
        return ""


class PipelineWorkflowList(CJViewMixin, generics.ListAPIView):
    """GET: the pipeline's workflows you may see. POST {previous_plugin_inst_id, title, nodes_info}: run
    the pipeline under a plugin instance of a feed you may write to."""

    serializer_class = WorkflowSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_links = {"pipeline": ("pipeline-detail", {"pk": "pk"})}
    cj_template = ("previous_plugin_inst_id", "title", "nodes_info")

    def get_queryset(self) -> QuerySet:
        pipeline = access_pipeline_by_id(self.request.user, self.kwargs["pk"])
        return selectors.visible_workflows(self.request.user).filter(pipeline=pipeline)

    def run_request(self, data: Any) -> Any:
        return data

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        pipeline = access_pipeline_by_id(request.user, self.kwargs["pk"])
        workflow = workflows.workflow_create(user=request.user, pipeline=pipeline,
                                             data=self.run_request(request.data))
        workflow = selectors.access_workflow_by_id(request.user, workflow.id)
        return Response(self.get_serializer(workflow).data, status=status.HTTP_201_CREATED)


class AllWorkflowList(CJViewMixin, generics.ListAPIView):
    serializer_class = WorkflowSerializer
    cj_links = {"pipelines": "pipeline-list"}  # chrisapi's AllWorkflowList / AllPipelineInstanceList.getPipelines
    cj_search = "allworkflow-list-query-search"

    def get_queryset(self) -> QuerySet:
        return selectors.visible_workflows(self.request.user)


class AllWorkflowListSearch(AllWorkflowList):
    filter_backends = (DjangoFilterBackend,)
    filterset_class = WorkflowFilter


class AllPipelineInstanceList(AllWorkflowList):
    """The classic root relation ``pipeline_instances``: the same workflows."""

    cj_search = "allpipelineinstance-list-query-search"


class AllPipelineInstanceListSearch(AllPipelineInstanceList):
    filter_backends = (DjangoFilterBackend,)
    filterset_class = WorkflowFilter


class WorkflowDetail(CJViewMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = WorkflowSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = ("title",)
    http_method_names = ["get", "put", "delete", "head", "options"]

    def get_object(self) -> Workflow:
        write = self.request.method not in permissions.SAFE_METHODS
        return selectors.access_workflow_by_id(self.request.user, self.kwargs["pk"], write=write)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        workflow = workflows.workflow_update(workflow=self.get_object(), data=request.data)
        return Response(self.get_serializer(selectors.access_workflow_by_id(request.user, workflow.id)).data)

    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        workflows.workflow_delete(workflow=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkflowPluginInstanceList(CJViewMixin, generics.ListAPIView):
    """The workflow's runs that you may see (CUBE shows them to anyone signed in)."""

    serializer_class = PluginInstanceSerializer
    cj_links = {"workflow": ("workflow-detail", {"pk": "pk"})}

    def get_queryset(self) -> QuerySet:
        workflow = selectors.access_workflow_by_id(self.request.user, self.kwargs["pk"])
        return selectors.visible_instances(self.request.user).filter(workflow=workflow).order_by("id")


# A classic pipeline-instance POST names a piping's parameter "<piping id>_<parameter name>".
CLASSIC_PARAM = re.compile(r"^(\d+)_(.+)$")


def classic_run_request(data: Any) -> Any:
    """A classic POST {previous_plugin_inst_id, title, description, <piping id>_<name>: value...} as the
    workflows POST takes it (nodes_info with each piping's plugin_parameter_defaults); the workflow service
    then does all the work. ``description`` has nowhere to go (CUBE 6 dropped it too)."""
    if not hasattr(data, "get"):
        return data
    nodes: dict[int, list[dict[str, Any]]] = {}
    for key in data:
        if m := CLASSIC_PARAM.match(str(key)):
            nodes.setdefault(int(m.group(1)), []).append({"name": m.group(2), "default": data.get(key)})
    request = {k: data.get(k) for k in ("previous_plugin_inst_id", "title")}
    request["nodes_info"] = ([{"piping_id": pid, "plugin_parameter_defaults": d} for pid, d in sorted(nodes.items())]
                             if nodes else data.get("nodes_info"))
    return request


class PipelineInstanceList(PipelineWorkflowList):
    """Classic ``pipelines/<pk>/instances/``: GET the pipeline's workflows; POST {previous_plugin_inst_id,
    title, description, <piping id>_<parameter name>...} runs the pipeline through the workflows service."""

    cj_template = ("previous_plugin_inst_id", "title", "description")

    def run_request(self, data: Any) -> Any:
        return classic_run_request(data)


class PipelineInstanceDetail(WorkflowDetail):
    """Classic ``pipelines/instances/<pk>/``: the workflow (GET, PUT title, DELETE)."""
