from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cube.api.fields import CachedFieldsMixin, ReverseLinkField

from .models import ComputeResource, Plugin, PluginMeta, PluginParameter


class ComputeResourceSerializer(CachedFieldsMixin, serializers.HyperlinkedModelSerializer):
    class Meta:
        model = ComputeResource
        fields: tuple[str, ...] = ("url", "id", "creation_date", "modification_date", "name", "compute_url",
                                   "compute_auth_url",
                  "compute_innetwork", "description", "max_job_exec_seconds")
        extra_kwargs = {"url": {"view_name": "computeresource-detail"}}

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            # As CUBE: where jobs are sent is not shown to anonymous callers.
            data.pop("compute_url", None)
            data.pop("compute_auth_url", None)
        return data


class AdminComputeResourceSerializer(ComputeResourceSerializer):
    class Meta(ComputeResourceSerializer.Meta):
        fields = (*ComputeResourceSerializer.Meta.fields, "runner", "runner_options")
        extra_kwargs = {"url": {"view_name": "admin-computeresource-detail"}}
        read_only_fields = ("compute_url", "compute_auth_url", "compute_innetwork")


class PluginMetaSerializer(CachedFieldsMixin, serializers.HyperlinkedModelSerializer):
    plugins = ReverseLinkField("pluginmeta-plugin-list")

    class Meta:
        model = PluginMeta
        fields = ("url", "id", "name", "title", "stars", "public_repo", "license", "type", "icon", "category",
                  "authors", "documentation", "creation_date", "modification_date", "plugins")
        extra_kwargs = {"url": {"view_name": "pluginmeta-detail"}}


PLUGIN_FIELDS: tuple[str, ...] = (
                 "url", "id", "creation_date", "name", "version", "dock_image", "public_repo", "icon", "type",
                 "stars", "authors", "title", "category", "description", "documentation", "license", "execshell",
                 "selfpath", "selfexec", "min_number_of_workers", "max_number_of_workers", "min_cpu_limit",
                 "max_cpu_limit", "min_memory_limit", "max_memory_limit", "min_gpu_limit", "max_gpu_limit",
                 "meta", "parameters", "instances", "compute_resources")


class PluginSerializer(CachedFieldsMixin, serializers.HyperlinkedModelSerializer):
    name = serializers.CharField(source="meta.name", read_only=True)
    public_repo = serializers.CharField(source="meta.public_repo", read_only=True)
    icon = serializers.CharField(source="meta.icon", read_only=True)
    type = serializers.CharField(source="meta.type", read_only=True)
    stars = serializers.IntegerField(source="meta.stars", read_only=True)
    authors = serializers.CharField(source="meta.authors", read_only=True)
    title = serializers.CharField(source="meta.title", read_only=True)
    category = serializers.CharField(source="meta.category", read_only=True)
    documentation = serializers.CharField(source="meta.documentation", read_only=True)
    license = serializers.CharField(source="meta.license", read_only=True)
    meta = ReverseLinkField("pluginmeta-detail", kwargs={"pk": "meta_id"})
    parameters = ReverseLinkField("plugin-parameter-list")
    instances = ReverseLinkField("plugininstance-list", optional=True)
    compute_resources = ReverseLinkField("plugin-computeresource-list")

    class Meta:
        model = Plugin
        fields: tuple[str, ...] = PLUGIN_FIELDS
        extra_kwargs = {"url": {"view_name": "plugin-detail"}}


class AdminPluginSerializer(PluginSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="admin-plugin-detail")
    compute_names = serializers.SerializerMethodField()

    class Meta(PluginSerializer.Meta):
        fields = (*PLUGIN_FIELDS, "compute_names")

    def get_compute_names(self, obj: Plugin) -> str:
        return ",".join(cr.name for cr in obj.compute_resources.all())


class PluginParameterSerializer(CachedFieldsMixin, serializers.HyperlinkedModelSerializer):
    plugin = ReverseLinkField("plugin-detail", kwargs={"pk": "plugin_id"})

    class Meta:
        model = PluginParameter
        fields = ("url", "id", "name", "type", "optional", "default", "flag", "short_flag", "action", "help",
                  "ui_exposed", "plugin")
        extra_kwargs = {"url": {"view_name": "pluginparameter-detail"}}
