from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cube.api.fields import CachedFieldsMixin, ReverseLinkField
from cube.api.negotiation import is_plain_json

from .models import ACTIVE, Feed, PluginInstance, PluginInstanceParameter
from .selectors import JOB_COUNTS


class OwnerListField(ReverseLinkField):
    """The feed's owner as a list of one user URL, CUBE's classic shape: aiochris and chrs read a feed's
    `owner` into a list and refuse a string. (CUBE 6 made it one URL; Collection+JSON renders either as the
    same `owner` link, so the Collection+JSON clients of both generations see no difference.)"""

    def to_representation(self, obj: Any) -> list[str]:  # type: ignore[override]
        href = super().to_representation(obj)
        return [href] if href else []


class FeedSerializer(CachedFieldsMixin, serializers.HyperlinkedModelSerializer):
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    creator_username = serializers.CharField(source="owner.username", read_only=True)  # classic clients
    folder_path = serializers.CharField(source="folder.path", read_only=True, default="")
    owner = OwnerListField("user-detail", kwargs={"pk": "owner_id"})
    folder = ReverseLinkField("chrisfolder-detail", kwargs={"pk": "folder_id"}, optional=True)
    plugin_instances = ReverseLinkField("feed-plugininstance-list")
    files = ReverseLinkField("feed-file-list", optional=True)
    note = ReverseLinkField("note-detail", kwargs={"pk": "note.id"}, optional=True)
    tags = ReverseLinkField("feed-tag-list", optional=True)
    taggings = ReverseLinkField("feed-tagging-list", optional=True)
    comments = ReverseLinkField("comment-list", optional=True)
    group_permissions = ReverseLinkField("feed-group-permission-list", optional=True)
    user_permissions = ReverseLinkField("feed-user-permission-list", optional=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    public = serializers.BooleanField(required=False)
    # Annotated by selectors.with_job_counts; copying/uploading exist only for clients that expect them.
    created_jobs = serializers.IntegerField(read_only=True, default=0)
    waiting_jobs = serializers.IntegerField(read_only=True, default=0)
    scheduled_jobs = serializers.IntegerField(read_only=True, default=0)
    started_jobs = serializers.IntegerField(read_only=True, default=0)
    registering_jobs = serializers.IntegerField(read_only=True, default=0)
    finished_jobs = serializers.IntegerField(read_only=True, default=0)
    errored_jobs = serializers.IntegerField(read_only=True, default=0)
    cancelled_jobs = serializers.IntegerField(read_only=True, default=0)
    copying_jobs = serializers.IntegerField(read_only=True, default=0)
    uploading_jobs = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Feed
        fields: tuple[str, ...] = (
            "url", "id", "creation_date", "modification_date", "name", "public", "owner_username",
            "creator_username", "folder_path", *JOB_COUNTS, "copying_jobs", "uploading_jobs", "deletion_status",
            "owner", "folder", "plugin_instances", "files", "note", "tags", "taggings", "comments",
            "group_permissions", "user_permissions")
        extra_kwargs = {"url": {"view_name": "feed-detail"}}



INSTANCE_FIELDS: tuple[str, ...] = (
    "url", "id", "title", "previous_id", "compute_resource_name", "plugin_id", "plugin_name", "plugin_version",
    "plugin_type", "feed_id", "start_date", "end_date", "output_path", "status", "status_message", "active",
    "summary", "raw", "owner_username", "cpu_limit", "memory_limit", "number_of_workers", "gpu_limit", "size",
    "error_code", "pipeline_id", "pipeline_name", "workflow_id", "deletion_status",
    "previous", "feed", "plugin", "output_folder", "descendants", "files", "parameters", "compute_resource",
    "splits", "logs", "workflow", "pipeline_inst")


@extend_schema_field(OpenApiTypes.INT)  # the schema describes the JSON form
class ClassicIdLinkField(ReverseLinkField):
    """A link in Collection+JSON, the target's id in plain JSON: chrisapi 1.14 follows a run's
    ``pipeline_inst`` link, while aiochris reads the same key of the JSON form as ``Optional[int]``."""

    def __init__(self, view_name: str, id_attr: str, **kwargs: Any) -> None:
        self.id_attr = id_attr
        super().__init__(view_name, kwargs={"pk": id_attr}, **kwargs)

    def to_representation(self, obj: Any) -> Any:
        if is_plain_json(self.context.get("request")):
            return getattr(obj, self.id_attr, None)
        return super().to_representation(obj)


class _DateOrModified(serializers.DateTimeField):
    """start_date/end_date of a run that has not started yet: CUBE stamps both at creation and every client
    (aiochris, chrs) requires a date there, so a run shows when it last changed until it starts."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance: PluginInstance) -> Any:
        return getattr(instance, self.source) or instance.modification_date


class PluginInstanceSerializer(CachedFieldsMixin, serializers.HyperlinkedModelSerializer):
    start_date = _DateOrModified()
    end_date = _DateOrModified()
    compute_resource_name = serializers.CharField(source="compute_resource.name", read_only=True, default=None)
    plugin_name = serializers.CharField(source="plugin.meta.name", read_only=True)
    plugin_version = serializers.CharField(source="plugin.version", read_only=True)
    plugin_type = serializers.CharField(source="plugin.meta.type", read_only=True)
    output_path = serializers.CharField(source="output_folder.path", read_only=True, default="")
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    active = serializers.SerializerMethodField()
    raw = serializers.SerializerMethodField()
    pipeline_id = serializers.SerializerMethodField()
    pipeline_name = serializers.SerializerMethodField()
    workflow_id = serializers.SerializerMethodField()
    previous = ReverseLinkField("plugininstance-detail", kwargs={"pk": "previous_id"})
    feed = ReverseLinkField("feed-detail", kwargs={"pk": "feed_id"})
    plugin = ReverseLinkField("plugin-detail", kwargs={"pk": "plugin_id"})
    output_folder = ReverseLinkField("chrisfolder-detail", kwargs={"pk": "output_folder_id"}, optional=True)
    descendants = ReverseLinkField("plugininstance-descendant-list")
    files = ReverseLinkField("plugininstance-file-list", optional=True)
    parameters = ReverseLinkField("plugininstance-parameter-list")
    compute_resource = ReverseLinkField("computeresource-detail", kwargs={"pk": "compute_resource_id"})
    logs = ReverseLinkField("plugininstance-logs")
    splits = ReverseLinkField("plugininstancesplit-list")
    workflow = ReverseLinkField("workflow-detail", kwargs={"pk": "workflow_id"}, optional=True)
    pipeline_inst = ClassicIdLinkField("pipelineinstance-detail", "workflow_id", optional=True)
    summary = serializers.SerializerMethodField()

    class Meta:
        model = PluginInstance
        fields = INSTANCE_FIELDS
        read_only_fields = tuple(f for f in INSTANCE_FIELDS if f not in ("title", "status"))
        extra_kwargs = {"url": {"view_name": "plugininstance-detail"}}

    def get_active(self, obj: PluginInstance) -> bool:
        return obj.status in ACTIVE

    def get_summary(self, obj: PluginInstance) -> str:
        return json.dumps(obj.summary)  # CUBE's summary is a JSON string; aiochris and chrs require one

    def get_raw(self, obj: PluginInstance) -> str:
        return ""

    def get_pipeline_id(self, obj: PluginInstance) -> int | None:
        return obj.workflow.pipeline_id if obj.workflow_id else None  # type: ignore[union-attr]

    def get_pipeline_name(self, obj: PluginInstance) -> str | None:
        return obj.workflow.pipeline.name if obj.workflow_id else None  # type: ignore[union-attr]

    def get_workflow_id(self, obj: PluginInstance) -> int | None:
        return obj.workflow_id


class ParameterValueSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    """A run's parameter value; its URL is the typed detail URL CUBE uses (string-parameter/<pk>/ ...)."""

    url = serializers.SerializerMethodField()
    param_name = serializers.CharField(source="plugin_param.name", read_only=True)
    type = serializers.CharField(source="plugin_param.type", read_only=True)
    plugin_inst = ReverseLinkField("plugininstance-detail", kwargs={"pk": "plugin_inst_id"})
    plugin_param = ReverseLinkField("pluginparameter-detail", kwargs={"pk": "plugin_param_id"})

    class Meta:
        model = PluginInstanceParameter
        fields = ("url", "id", "param_name", "value", "type", "plugin_inst", "plugin_param")

    def get_url(self, obj: PluginInstanceParameter) -> str:
        from rest_framework.reverse import reverse

        return reverse(f"{obj.plugin_param.type}-parameter-detail", kwargs={"pk": obj.pk},
                       request=self.context.get("request"))
