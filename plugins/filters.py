from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q

from cube.api.filters import date_range

from .models import ComputeResource, Plugin, PluginMeta


def _or_icontains(fields: tuple[str, ...]) -> Any:
    def method(queryset: Any, name: str, value: str) -> Any:
        q = Q()
        for f in fields:
            q |= Q(**{f"{f}__icontains": value})
        return queryset.filter(q)

    return method


class PluginMetaFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    title = django_filters.CharFilter(lookup_expr="icontains")
    category = django_filters.CharFilter(lookup_expr="icontains")
    authors = django_filters.CharFilter(lookup_expr="icontains")
    min_creation_date, max_creation_date = date_range("creation_date")
    name_title_category = django_filters.CharFilter(
        method=lambda qs, n, v: _or_icontains(("name", "title", "category"))(qs, n, v))
    name_authors_category = django_filters.CharFilter(
        method=lambda qs, n, v: _or_icontains(("name", "authors", "category"))(qs, n, v))

    class Meta:
        model = PluginMeta
        fields = ("id", "name", "name_exact", "title", "public_repo", "category", "type", "authors",
                  "min_creation_date", "max_creation_date", "name_title_category", "name_authors_category")


class PluginFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="meta__name", lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="meta__name", lookup_expr="exact")
    type = django_filters.CharFilter(field_name="meta__type")
    category = django_filters.CharFilter(field_name="meta__category", lookup_expr="icontains")
    title = django_filters.CharFilter(field_name="meta__title", lookup_expr="icontains")
    public_repo = django_filters.CharFilter(field_name="meta__public_repo")
    description = django_filters.CharFilter(lookup_expr="icontains")
    name_title_category = django_filters.CharFilter(
        method=lambda qs, n, v: _or_icontains(("meta__name", "meta__title", "meta__category"))(qs, n, v))
    compute_resource_id = django_filters.NumberFilter(field_name="compute_resources__id")
    min_creation_date, max_creation_date = date_range("creation_date")
    sort = django_filters.OrderingFilter(fields=(("version", "version"), ("creation_date", "creation_date")))

    class Meta:
        model = Plugin
        fields = ("id", "name", "name_exact", "version", "dock_image", "type", "category", "title",
                  "public_repo", "description", "name_title_category", "compute_resource_id",
                  "min_creation_date", "max_creation_date")


class ComputeResourceFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    description = django_filters.CharFilter(lookup_expr="icontains")
    plugin_id = django_filters.NumberFilter(field_name="plugins__id")

    class Meta:
        model = ComputeResource
        fields = ("id", "name", "name_exact", "description", "plugin_id")
