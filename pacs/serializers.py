"""Representations with CUBE's field names and link relations. Read-only: views validate input and call
services.

Where the two client generations disagree, items carry the union: a PACS file has CUBE 6's fields (fname,
fsize, public, owner_username, parent_folder, owner) and the classic DICOM ones (PatientID ...
SeriesDescription, pacs_identifier), read from its series' index row.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cube.api.fields import CachedFieldsMixin, ItemLinkField
from uploads.models import ChrisFile
from uploads.serializers import FileLinkField, PkLinkField, link_template

from .models import PACS, PACSQuery, PACSRetrieve, PACSSeries

DICOM_FIELDS = ("PatientID", "PatientName", "PatientBirthDate", "PatientAge", "PatientSex", "StudyDate",
                "AccessionNumber", "Modality", "ProtocolName", "StudyInstanceUID", "StudyDescription",
                "SeriesInstanceUID", "SeriesDescription")


class QueryLinkField(ItemLinkField):
    """A link to ``view_name`` (no kwargs) with a query string built from the object."""

    def __init__(self, view_name: str, params: Any, **kwargs: Any) -> None:
        self.view_name, self.params = view_name, params
        super().__init__(**kwargs)

    def to_representation(self, obj: Any) -> str:
        from rest_framework.reverse import reverse

        return reverse(self.view_name, request=self.context.get("request")) + "?" + urlencode(self.params(obj))


class PACSSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = PkLinkField("pacs-detail")
    folder_path = serializers.CharField(source="folder.path", read_only=True, default=None)
    folder = PkLinkField("chrisfolder-detail", "folder_id")
    query_list = PkLinkField("pacsquery-list")
    series_list = PkLinkField("pacs-specific-series-list")
    echo = PkLinkField("pacs-echo")

    class Meta:
        model = PACS
        fields = ("url", "id", "identifier", "active", "aet", "host", "port", "retrieve_method", "calling_aet",
                  "description", "creation_date", "folder_path", "folder", "query_list", "series_list", "echo")


class AdminPACSSerializer(PACSSerializer):
    url = PkLinkField("admin-pacs-detail")  # type: ignore[assignment]


class PACSQuerySerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = PkLinkField("pacsquery-detail")
    # As CUBE (a binary JSONField): the query as a JSON string.
    query = serializers.SerializerMethodField()
    pacs_identifier = serializers.CharField(source="pacs.identifier", read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    retrieve_list = PkLinkField("pacsretrieve-list")
    pacs = PkLinkField("pacs-detail", "pacs_id")

    class Meta:
        model = PACSQuery
        fields = ("url", "id", "creation_date", "title", "query", "description", "status", "status_message",
                  "pacs_identifier", "owner_username", "execute", "result", "result_json", "end_date",
                  "retrieve_list", "pacs")

    def get_query(self, obj: PACSQuery) -> str:
        return json.dumps(obj.query)


class PACSRetrieveSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = PkLinkField("pacsretrieve-detail")
    pacs_query_id = serializers.IntegerField(read_only=True)
    pacs_query_title = serializers.CharField(source="pacs_query.title", read_only=True)
    query = serializers.SerializerMethodField()
    pacs_identifier = serializers.CharField(source="pacs_query.pacs.identifier", read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    # CUBE's ``result`` is text; here it is the per-series progress as a JSON string (``series`` as JSON).
    result = serializers.SerializerMethodField()
    pacs_query = PkLinkField("pacsquery-detail", "pacs_query_id")
    progress = QueryLinkField("pacs-sse", lambda obj: {"retrieve_id": obj.pk})

    class Meta:
        model = PACSRetrieve
        fields = ("url", "id", "creation_date", "pacs_query_id", "pacs_query_title", "query", "pacs_identifier",
                  "status", "status_message", "owner_username", "expected", "received", "series", "result",
                  "start_date", "end_date", "pacs_query", "progress")

    def get_query(self, obj: PACSRetrieve) -> str:
        return json.dumps(obj.pacs_query.query)

    def get_result(self, obj: PACSRetrieve) -> str:
        return json.dumps(obj.series)


class PACSSeriesSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = PkLinkField("pacsseries-detail")
    folder_path = serializers.CharField(source="folder.path", read_only=True)
    pacs_identifier = serializers.CharField(source="pacs.identifier", read_only=True)
    folder = PkLinkField("chrisfolder-detail", "folder_id")
    pacs = PkLinkField("pacs-detail", "pacs_id")
    files = QueryLinkField("pacsfile-list-query-search", lambda obj: {"fname": obj.folder.path + "/"})

    class Meta:
        model = PACSSeries
        fields = ("url", "id", "creation_date", "folder_path", *DICOM_FIELDS, "SeriesNumber", "ndicom",
                  "pacs_identifier", "deletion_status", "deletion_requested_at", "deletion_error", "folder",
                  "pacs", "files")


class SeriesAttr(serializers.Field):
    """A DICOM attribute of the file's series (None for a file outside any registered series)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: ChrisFile) -> Any:
        series = getattr(instance.parent_folder, "pacs_series", None) if instance.parent_folder_id else None
        if series is None:
            return None
        if self.field_name == "pacs_identifier":
            return series.pacs.identifier
        return getattr(series, self.field_name)

    def to_representation(self, value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value


@extend_schema_field(OpenApiTypes.STR)
class SeriesText(SeriesAttr):
    pass


@extend_schema_field(OpenApiTypes.INT)
class SeriesInt(SeriesAttr):
    pass


@extend_schema_field(OpenApiTypes.DATE)
class SeriesDate(SeriesAttr):
    pass


class SeriesLinkField(ItemLinkField):
    def to_representation(self, obj: ChrisFile) -> str | None:
        series = getattr(obj.parent_folder, "pacs_series", None) if obj.parent_folder_id else None
        if series is None:
            return None
        head, tail = link_template(self.context.get("request"), "pacsseries-detail")
        return f"{head}{series.pk}{tail}"


def _dicom_attrs() -> dict[str, Any]:
    kinds = {"PatientAge": SeriesInt, "PatientBirthDate": SeriesDate, "StudyDate": SeriesDate}
    return {name: kinds.get(name, SeriesText)() for name in (*DICOM_FIELDS, "pacs_identifier")}


PACS_FILE_FIELDS = ("url", "id", "creation_date", "fname", "fsize", "public", "owner_username", *DICOM_FIELDS,
                    "pacs_identifier", "file_resource", "parent_folder", "owner", "series")


def _file_serializer(name: str, detail: str, resource: str) -> Any:
    attrs: dict[str, Any] = {
        "url": PkLinkField(detail),
        "fsize": serializers.IntegerField(source="size", read_only=True),
        "owner_username": serializers.CharField(source="owner.username", read_only=True),
        "file_resource": FileLinkField(resource),
        "parent_folder": PkLinkField("chrisfolder-detail", "parent_folder_id"),
        "owner": PkLinkField("user-detail", "owner_id"),
        "series": SeriesLinkField(),
        **_dicom_attrs(),
        "Meta": type("Meta", (), {"model": ChrisFile, "fields": PACS_FILE_FIELDS}),
    }
    return type(name, (CachedFieldsMixin, serializers.ModelSerializer), attrs)


# The current URL (/pacs/files/) and the classic one (/pacsfiles/): one representation, two addresses.
PACSFileSerializer = _file_serializer("PACSFileSerializer", "pacsfile-detail", "pacsfile-resource")
ClassicPACSFileSerializer = _file_serializer("ClassicPACSFileSerializer", "classicpacsfile-detail",
                                             "classicpacsfile-resource")


class ServiceFileSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    """The classic /servicefiles/ item: a file under SERVICES/<service>/."""

    url = PkLinkField("servicefile-detail")
    fsize = serializers.IntegerField(source="size", read_only=True)
    service_identifier = serializers.SerializerMethodField()
    file_resource = FileLinkField("servicefile-resource")

    class Meta:
        model = ChrisFile
        fields = ("url", "id", "creation_date", "fname", "fsize", "service_identifier", "file_resource")

    def get_service_identifier(self, obj: ChrisFile) -> str:
        parts = obj.fname.split("/")
        return parts[1] if len(parts) > 2 else ""
