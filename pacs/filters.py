"""Search filters with CUBE's parameter names (django-filter: unknown parameters are ignored).

Beyond CUBE: series and files filter on Modality and on StudyDate ranges (min_StudyDate, max_StudyDate),
dates are accepted as YYYY-MM-DD or DICOM's YYYYMMDD, and the PACS file search accepts both generations'
parameters (CUBE 6's path filters and the classic DICOM ones), matched through the file's series.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Min, QuerySet

from cube.api.filters import date_range
from uploads.filters import filter_icontains_multiple, filter_nslashes
from uploads.models import ChrisFile

from .models import PACS, PACSQuery, PACSRetrieve, PACSSeries


class DicomDateField(forms.DateField):
    input_formats = ["%Y-%m-%d", "%Y%m%d"]


class DicomDateFilter(django_filters.DateFilter):
    field_class = DicomDateField


class PACSFilter(django_filters.FilterSet):
    identifier = django_filters.CharFilter(field_name="identifier", lookup_expr="exact")
    identifier_icontains = django_filters.CharFilter(field_name="identifier", lookup_expr="icontains")

    class Meta:
        model = PACS
        fields = ("id", "identifier", "identifier_icontains", "active", "aet")


class PACSQueryFilter(django_filters.FilterSet):
    min_creation_date, max_creation_date = date_range("creation_date")
    title_exact = django_filters.CharFilter(field_name="title", lookup_expr="exact")
    title = django_filters.CharFilter(field_name="title", lookup_expr="icontains")
    description = django_filters.CharFilter(field_name="description", lookup_expr="icontains")
    pacs_identifier = django_filters.CharFilter(field_name="pacs__identifier", lookup_expr="exact")
    owner_username = django_filters.CharFilter(field_name="owner__username", lookup_expr="exact")

    class Meta:
        model = PACSQuery
        fields = ("id", "min_creation_date", "max_creation_date", "title_exact", "title", "status", "execute",
                  "description", "pacs_id", "pacs_identifier", "owner_username")


class PACSRetrieveFilter(django_filters.FilterSet):
    min_creation_date, max_creation_date = date_range("creation_date")
    owner_username = django_filters.CharFilter(field_name="owner__username", lookup_expr="exact")

    class Meta:
        model = PACSRetrieve
        fields = ("id", "min_creation_date", "max_creation_date", "status", "owner_username")


def _dicom_filters(prefix: str) -> dict[str, Any]:
    """The DICOM index filters, on the series (prefix '') or through a file's folder's series."""
    f = django_filters

    def name(field: str) -> str:
        return prefix + field

    return {
        "PatientID": f.CharFilter(field_name=name("PatientID"), lookup_expr="exact"),
        "PatientName": f.CharFilter(field_name=name("PatientName"), lookup_expr="icontains"),
        "PatientSex": f.CharFilter(field_name=name("PatientSex"), lookup_expr="iexact"),
        "PatientAge": f.NumberFilter(field_name=name("PatientAge"), lookup_expr="exact"),
        "min_PatientAge": f.NumberFilter(field_name=name("PatientAge"), lookup_expr="gte"),
        "max_PatientAge": f.NumberFilter(field_name=name("PatientAge"), lookup_expr="lte"),
        "PatientBirthDate": DicomDateFilter(field_name=name("PatientBirthDate"), lookup_expr="exact"),
        "StudyDate": DicomDateFilter(field_name=name("StudyDate"), lookup_expr="exact"),
        "min_StudyDate": DicomDateFilter(field_name=name("StudyDate"), lookup_expr="gte"),
        "max_StudyDate": DicomDateFilter(field_name=name("StudyDate"), lookup_expr="lte"),
        "AccessionNumber": f.CharFilter(field_name=name("AccessionNumber"), lookup_expr="exact"),
        "Modality": f.CharFilter(field_name=name("Modality"), lookup_expr="iexact"),
        "ProtocolName": f.CharFilter(field_name=name("ProtocolName"), lookup_expr="icontains"),
        "StudyInstanceUID": f.CharFilter(field_name=name("StudyInstanceUID"), lookup_expr="exact"),
        "StudyDescription": f.CharFilter(field_name=name("StudyDescription"), lookup_expr="icontains"),
        "SeriesInstanceUID": f.CharFilter(field_name=name("SeriesInstanceUID"), lookup_expr="exact"),
        "SeriesDescription": f.CharFilter(field_name=name("SeriesDescription"), lookup_expr="icontains"),
        "pacs_id": f.NumberFilter(field_name=name("pacs_id"), lookup_expr="exact"),
        "pacs_identifier": f.CharFilter(field_name=name("pacs__identifier"), lookup_expr="exact"),
    }


DICOM_FILTER_NAMES = tuple(_dicom_filters(""))


def _filterset(name: str, model: Any, declared: dict[str, Any], fields: tuple[str, ...],
               base: type = django_filters.FilterSet) -> Any:
    meta = type("Meta", (), {"model": model, "fields": fields})
    return type(name, (base,), {**declared, "Meta": meta})


class _CreationDates(django_filters.FilterSet):
    min_creation_date, max_creation_date = date_range("creation_date")


PACSSeriesFilter = _filterset(
    "PACSSeriesFilter", PACSSeries, _dicom_filters(""),
    ("id", "min_creation_date", "max_creation_date", *DICOM_FILTER_NAMES, "deletion_status"), _CreationDates)


class _PathFilters(_CreationDates):
    fname = django_filters.CharFilter(field_name="fname", lookup_expr="startswith")
    fname_exact = django_filters.CharFilter(field_name="fname", lookup_expr="exact")
    fname_icontains = django_filters.CharFilter(field_name="fname", lookup_expr="icontains")
    fname_icontains_multiple = django_filters.CharFilter(method="_icontains_multiple")
    fname_icontains_topdir_unique = django_filters.CharFilter(method="_topdir_unique")
    fname_nslashes = django_filters.CharFilter(method="_nslashes")

    def _icontains_multiple(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return filter_icontains_multiple(queryset, value)

    def _nslashes(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return filter_nslashes(queryset, value)

    def _topdir_unique(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Files containing every word, one per top folder under SERVICES/PACS/<node>/ (the patient folders
        holding a match): the lowest id per patient folder, in SQL, where CUBE loops over rows in Python.
        Instances sit in <patient>/<study>/<series>/, so the patient folder is the grandparent's id."""
        qs = filter_icontains_multiple(queryset, value)
        firsts = qs.order_by().values("parent_folder__parent__parent_id").annotate(first=Min("id")).values("first")
        return queryset.filter(id__in=firsts)


PACSFileFilter = _filterset(
    "PACSFileFilter", ChrisFile, _dicom_filters("parent_folder__pacs_series__"),
    ("id", "min_creation_date", "max_creation_date", "fname", "fname_exact", "fname_icontains",
     "fname_icontains_multiple", "fname_icontains_topdir_unique", "fname_nslashes", *DICOM_FILTER_NAMES),
    _PathFilters)


class ServiceFileFilter(_PathFilters):
    service_identifier = django_filters.CharFilter(method="_service")

    class Meta:
        model = ChrisFile
        fields = ("id", "min_creation_date", "max_creation_date", "fname", "fname_exact", "fname_icontains",
                  "fname_nslashes", "service_identifier")

    def _service(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(fname__startswith=f"SERVICES/{value.strip('/')}/")

