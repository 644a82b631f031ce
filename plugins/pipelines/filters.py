from __future__ import annotations

import django_filters

from cube.api.filters import date_range
from plugins.models import Pipeline
from uploads.models import ChrisFile


class PipelineFilter(django_filters.FilterSet):
    owner_username = django_filters.CharFilter(field_name="owner__username", lookup_expr="exact")
    name = django_filters.CharFilter(lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    category = django_filters.CharFilter(lookup_expr="icontains")
    description = django_filters.CharFilter(lookup_expr="icontains")
    authors = django_filters.CharFilter(lookup_expr="icontains")
    min_creation_date, max_creation_date = date_range("creation_date")

    class Meta:
        model = Pipeline
        fields = ("id", "owner_username", "name", "name_exact", "category", "description", "authors",
                  "min_creation_date", "max_creation_date")


class PipelineSourceFileFilter(django_filters.FilterSet):
    fname = django_filters.CharFilter(lookup_expr="startswith")
    fname_exact = django_filters.CharFilter(field_name="fname", lookup_expr="exact")
    fname_icontains = django_filters.CharFilter(field_name="fname", lookup_expr="icontains")
    pipeline_id = django_filters.NumberFilter(field_name="pipeline_meta__pipeline_id")
    pipeline_name = django_filters.CharFilter(field_name="pipeline_meta__pipeline__name", lookup_expr="icontains")
    uploader_username = django_filters.CharFilter(field_name="pipeline_meta__uploader__username")
    min_creation_date, max_creation_date = date_range("creation_date")

    class Meta:
        model = ChrisFile
        fields = ("id", "min_creation_date", "max_creation_date", "fname", "fname_exact", "fname_icontains",
                  "pipeline_id", "pipeline_name", "uploader_username")
