from __future__ import annotations

from typing import Any

import django_filters

from cube.api.filters import date_range

from .models import (
    ACTIVE,
    INACTIVE,
    Comment,
    Feed,
    FeedGroupPermission,
    FeedUserPermission,
    PluginInstance,
    Tag,
    Workflow,
)


class FeedFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    name_startswith = django_filters.CharFilter(field_name="name", lookup_expr="startswith")
    min_id = django_filters.NumberFilter(field_name="id", lookup_expr="gte")
    max_id = django_filters.NumberFilter(field_name="id", lookup_expr="lte")
    min_creation_date, max_creation_date = date_range("creation_date")

    class Meta:
        model = Feed
        fields = ("id", "name", "name_exact", "name_startswith", "min_id", "max_id", "min_creation_date",
                  "max_creation_date", "deletion_status")


class PluginInstanceFilter(django_filters.FilterSet):
    min_start_date, max_start_date = date_range("start_date")
    min_end_date, max_end_date = date_range("end_date")
    root_id = django_filters.NumberFilter(method="filter_root")
    title = django_filters.CharFilter(lookup_expr="icontains")
    active = django_filters.BooleanFilter(method="filter_active")
    owner_username = django_filters.CharFilter(field_name="owner__username")
    plugin_name = django_filters.CharFilter(field_name="plugin__meta__name", lookup_expr="icontains")
    plugin_name_exact = django_filters.CharFilter(field_name="plugin__meta__name")
    plugin_version = django_filters.CharFilter(field_name="plugin__version")
    plugin_type = django_filters.CharFilter(field_name="plugin__meta__type")

    class Meta:
        model = PluginInstance
        fields = ("id", "min_start_date", "max_start_date", "min_end_date", "max_end_date", "root_id",
                  "previous_id", "title", "status", "active", "owner_username", "feed_id", "plugin_id",
                  "plugin_name", "plugin_name_exact", "plugin_version", "plugin_type", "workflow_id",
                  "deletion_status")

    def filter_active(self, queryset: Any, name: str, value: bool) -> Any:
        return queryset.filter(status__in=ACTIVE if value else INACTIVE)

    def filter_root(self, queryset: Any, name: str, value: int) -> Any:
        from .services.instances import descendant_ids

        root = PluginInstance.objects.filter(id=value).first()
        return queryset.filter(id__in=descendant_ids(root)) if root else queryset.none()


class TagFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    color = django_filters.CharFilter(lookup_expr="icontains")
    owner_username = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Tag
        fields = ("id", "name", "color", "owner_username")


class CommentFilter(django_filters.FilterSet):
    class Meta:
        model = Comment
        fields = ("id",)


class FeedGroupPermissionFilter(django_filters.FilterSet):
    group_name = django_filters.CharFilter(field_name="group__name")

    class Meta:
        model = FeedGroupPermission
        fields = ("id", "group_name")


class FeedUserPermissionFilter(django_filters.FilterSet):
    username = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = FeedUserPermission
        fields = ("id", "username")


class WorkflowFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")
    pipeline_name = django_filters.CharFilter(field_name="pipeline__name", lookup_expr="icontains")
    owner_username = django_filters.CharFilter(field_name="owner__username")

    class Meta:
        model = Workflow
        fields = ("id", "title", "pipeline_name", "owner_username")
