"""Representations with CUBE's pipeline fields and link relations. Read-only: views validate input and call
services (serializers never write)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cube.api.fields import CachedFieldsMixin, ReverseLinkField
from plugins.models import Pipeline, PluginPiping
from uploads.models import ChrisFile
from uploads.serializers import FileLinkField, PkLinkField

# parameter type → URL name of the typed default detail (CUBE's names)
DEFAULT_DETAIL_VIEWS = {
    "string": "defaultpipingstrparameter-detail",
    "integer": "defaultpipingintparameter-detail",
    "float": "defaultpipingfloatparameter-detail",
    "boolean": "defaultpipingboolparameter-detail",
}


class PipelineSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("pipeline-detail")
    owner_username = serializers.CharField(source="owner.username", read_only=True, default=None)
    plugins = ReverseLinkField("pipeline-plugin-list")
    plugin_pipings = ReverseLinkField("pipeline-pluginpiping-list")
    default_parameters = ReverseLinkField("pipeline-defaultparameter-list")
    json_repr = ReverseLinkField("pipeline-customjson-detail")
    # Workflows (and the classic generation's pipeline instances) are served by the feeds app: no link
    # while it does not serve them.
    workflows = ReverseLinkField("workflow-list", optional=True)
    instances = ReverseLinkField("pipelineinstance-list", optional=True)

    class Meta:
        model = Pipeline
        fields = ("url", "id", "name", "locked", "authors", "category", "description", "owner_username",
                  "creation_date", "modification_date", "plugins", "plugin_pipings", "default_parameters",
                  "json_repr", "workflows", "instances")


class PluginPipingSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("pluginpiping-detail")
    previous_id = serializers.IntegerField(read_only=True)
    plugin_id = serializers.IntegerField(read_only=True)
    plugin_name = serializers.CharField(source="plugin.meta.name", read_only=True)
    plugin_version = serializers.CharField(source="plugin.version", read_only=True)
    pipeline_id = serializers.IntegerField(read_only=True)
    previous = ReverseLinkField("pluginpiping-detail", kwargs={"pk": "previous_id"})
    plugin = ReverseLinkField("plugin-detail", kwargs={"pk": "plugin_id"})
    pipeline = ReverseLinkField("pipeline-detail", kwargs={"pk": "pipeline_id"})

    class Meta:
        model = PluginPiping
        fields = ("url", "id", "previous_id", "title", "plugin_id", "plugin_name", "plugin_version", "pipeline_id",
                  "cpu_limit", "memory_limit", "number_of_workers", "gpu_limit", "previous", "plugin", "pipeline")


class DefaultLinkField(ReverseLinkField):
    """The typed detail URL of a default row, whichever of the four tables it comes from."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)

    def to_representation(self, obj: Any) -> str | None:
        self.view_name = DEFAULT_DETAIL_VIEWS[obj.plugin_param.type]
        return super().to_representation(obj)


class DefaultParameterSerializer(serializers.Serializer):
    """A piping's default for one parameter (the four typed tables share this shape)."""

    url = DefaultLinkField()
    id = serializers.IntegerField(read_only=True)
    param_name = serializers.CharField(source="plugin_param.name", read_only=True)
    value = serializers.SerializerMethodField()
    type = serializers.CharField(source="plugin_param.type", read_only=True)
    plugin_piping_id = serializers.IntegerField(read_only=True)
    plugin_piping_title = serializers.CharField(source="plugin_piping.title", read_only=True)
    previous_plugin_piping_id = serializers.IntegerField(source="plugin_piping.previous_id", read_only=True)
    param_id = serializers.IntegerField(source="plugin_param_id", read_only=True)
    plugin_id = serializers.IntegerField(source="plugin_piping.plugin_id", read_only=True)
    plugin_name = serializers.CharField(source="plugin_piping.plugin.meta.name", read_only=True)
    plugin_version = serializers.CharField(source="plugin_piping.plugin.version", read_only=True)
    # python-chrisclient's compute_workflow_nodes_info reads the piping's resources from its defaults
    plugin_piping_cpu_limit = serializers.IntegerField(source="plugin_piping.cpu_limit", read_only=True)
    plugin_piping_memory_limit = serializers.IntegerField(source="plugin_piping.memory_limit", read_only=True)
    plugin_piping_number_of_workers = serializers.IntegerField(source="plugin_piping.number_of_workers",
                                                               read_only=True)
    plugin_piping_gpu_limit = serializers.IntegerField(source="plugin_piping.gpu_limit", read_only=True)
    plugin_piping = ReverseLinkField("pluginpiping-detail", kwargs={"pk": "plugin_piping_id"})
    plugin_param = ReverseLinkField("pluginparameter-detail", kwargs={"pk": "plugin_param_id"})

    def get_value(self, obj: Any) -> Any:
        return obj.value


class PipelineSourceFileSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = PkLinkField("pipelinesourcefile-detail")
    file_resource = FileLinkField("pipelinesourcefile-resource")
    fsize = serializers.IntegerField(source="size", read_only=True)
    ftype = serializers.CharField(source="pipeline_meta.type", read_only=True)
    type = serializers.CharField(source="pipeline_meta.type", read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    uploader_username = serializers.CharField(source="pipeline_meta.uploader.username", read_only=True,
                                              default=None)
    pipeline_id = serializers.IntegerField(source="pipeline_meta.pipeline_id", read_only=True)
    pipeline_name = serializers.CharField(source="pipeline_meta.pipeline.name", read_only=True)
    pipeline = ReverseLinkField("pipeline-detail", kwargs={"pk": "pipeline_meta.pipeline_id"})
    parent_folder = PkLinkField("chrisfolder-detail", "parent_folder_id")
    owner = PkLinkField("user-detail", "owner_id")

    class Meta:
        model = ChrisFile
        fields = ("url", "id", "creation_date", "fname", "fsize", "public", "ftype", "type", "uploader_username",
                  "owner_username", "pipeline_id", "pipeline_name", "file_resource", "pipeline", "parent_folder",
                  "owner")
