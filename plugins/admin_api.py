"""The admin REST API at /chris-admin/api/v1/: plugin registration and compute resources (staff only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cube.api.parsers import (
    CollectionJsonParser,
    CubeFormParser,
    CubeMultiPartParser,
    TemplateAwareJSONParser,
)
from cube.api.permissions import IsStaff
from cube.api.views import CJViewMixin

from . import services
from .descriptors import DescriptorError
from .models import ComputeResource, Plugin
from .serializers import AdminComputeResourceSerializer, AdminPluginSerializer

MAX_DESCRIPTOR_BYTES = 1024 * 1024


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [n for n in str(value or "").split(",") if n.strip()]


def _body(request: Any) -> Any:
    """The body as an object of fields; a JSON array or bare value is a 400, not an AttributeError (a 500)."""
    if not hasattr(request.data, "get"):
        raise ValidationError({"detail": ["The request body must be an object of fields."]})
    return request.data


def _read_descriptor(data: Any) -> Any:
    upload = data.get("fname")
    if upload is None:
        if data.get("plugin_store_url"):
            raise ValidationError({"plugin_store_url": [
                "Registration from a ChRIS Store is not available on this server; upload the descriptor "
                "file (the JSON the plugin prints with --json) as 'fname'."]})
        raise ValidationError({"fname": ["A plugin descriptor file is required."]})
    if hasattr(upload, "read"):
        if upload.size > MAX_DESCRIPTOR_BYTES:
            raise ValidationError({"fname": ["The descriptor file is larger than 1 MiB."]})
        raw = upload.read()
    elif isinstance(upload, (dict, list)):
        return upload
    else:
        raw = str(upload).encode()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError({"fname": [f"The descriptor is not valid JSON: {exc}"]}) from None


@contextmanager
def descriptor_errors_as_400() -> Iterator[None]:
    """The catalogue services report every problem by field; the API answers them as one 400."""
    try:
        yield
    except DescriptorError as exc:
        raise ValidationError(exc.errors) from None


class AdminPluginList(CJViewMixin, generics.ListCreateAPIView):
    permission_classes = (IsStaff,)
    parser_classes = (CubeMultiPartParser, CubeFormParser, TemplateAwareJSONParser, CollectionJsonParser)
    serializer_class = AdminPluginSerializer
    queryset = Plugin.objects.select_related("meta").prefetch_related("compute_resources").order_by("id")
    cj_links = {"compute_resources": "admin-computeresource-list"}
    cj_template = ("fname", "compute_names", "plugin_store_url")

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        descriptor = _read_descriptor(_body(request))
        with descriptor_errors_as_400():
            plugin = services.plugin_register(descriptor=descriptor,
                                              compute_names=_names(request.data.get("compute_names")))
        return Response(self.get_serializer(plugin).data, status=status.HTTP_201_CREATED)


class AdminPluginDetail(CJViewMixin, generics.RetrieveUpdateDestroyAPIView):
    permission_classes = (IsStaff,)
    serializer_class = AdminPluginSerializer
    queryset = Plugin.objects.select_related("meta").prefetch_related("compute_resources")
    cj_template = ("compute_names",)
    http_method_names = ["get", "put", "delete", "head", "options"]

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        plugin = self.get_object()
        with descriptor_errors_as_400():
            services.plugin_set_compute_resources(plugin=plugin,
                                                  compute_names=_names(_body(request).get("compute_names")))
        return Response(self.get_serializer(self.get_object()).data)

    def perform_destroy(self, instance: Plugin) -> None:
        services.plugin_delete(plugin=instance)


class AdminComputeResourceCreate(serializers.Serializer):
    name = serializers.RegexField(r"^[\w.-]{1,100}$")
    runner = serializers.CharField(default="local")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    # The column is a 32-bit integer: a larger value was a DataError (a 500) at the INSERT.
    max_job_exec_seconds = serializers.IntegerField(required=False, default=-1, min_value=-1, max_value=2**31 - 1)
    runner_options = serializers.JSONField(required=False, default=dict)

    def validate_name(self, value: str) -> str:
        if ComputeResource.objects.filter(name=value).exists():
            raise serializers.ValidationError("A compute resource with this name already exists.")
        return value


class AdminComputeResourceList(CJViewMixin, generics.ListCreateAPIView):
    permission_classes = (IsStaff,)
    serializer_class = AdminComputeResourceSerializer
    queryset = ComputeResource.objects.order_by("id")
    cj_template = ("name", "runner", "description", "max_job_exec_seconds", "runner_options")

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        data = AdminComputeResourceCreate(data=request.data)
        data.is_valid(raise_exception=True)
        with descriptor_errors_as_400():
            cr = services.compute_resource_create(**data.validated_data)
        return Response(self.get_serializer(cr).data, status=status.HTTP_201_CREATED)


class AdminComputeResourceDetail(CJViewMixin, generics.RetrieveDestroyAPIView):
    permission_classes = (IsStaff,)
    serializer_class = AdminComputeResourceSerializer
    queryset = ComputeResource.objects.all()

    def perform_destroy(self, instance: ComputeResource) -> None:
        with descriptor_errors_as_400():
            services.compute_resource_delete(compute_resource=instance)
