"""Feeds and plugin instances. Thin: access through selectors, changes through services."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cube.api.root import root_links
from cube.api.views import CJViewMixin
from plugins.models import Plugin

from . import selectors
from .filters import FeedFilter, PluginInstanceFilter
from .jobtokens import mask_job_tokens
from .models import ACTIVE, Feed, PluginInstanceParameter, Status
from .serializers import FeedSerializer, ParameterValueSerializer, PluginInstanceSerializer
from .services import deletion, instances

SEARCH = (DjangoFilterBackend,)


class FeedList(CJViewMixin, generics.ListAPIView):
    """GET /api/v1/: the API home. Your feeds, with links to every top-level collection."""

    serializer_class = FeedSerializer
    cj_search = "feed-list-query-search"

    def get_queryset(self) -> Any:
        return selectors.user_feeds(self.request.user)

    def get_cj_links(self) -> dict[str, str]:
        return root_links(self.request)


class FeedListSearch(FeedList):
    filter_backends = SEARCH
    filterset_class = FeedFilter

    def get_cj_links(self) -> dict[str, str]:
        return {}


class PublicFeedList(CJViewMixin, generics.ListAPIView):
    serializer_class = FeedSerializer
    cj_search = "publicfeed-list-query-search"

    def get_queryset(self) -> Any:
        return selectors.public_feeds()


class PublicFeedListSearch(PublicFeedList):
    filter_backends = SEARCH
    filterset_class = FeedFilter


class FeedDetail(CJViewMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = FeedSerializer
    # An anonymous write is a 401 (sign in), not a 404 or 403 that reads as "no such feed" or "not yours".
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = ("name", "public")

    def get_object(self) -> Feed:
        write = self.request.method not in permissions.SAFE_METHODS
        # Deleting is for the owner and the superuser only; a sharee may write to the feed, not remove it.
        admin = self.request.method == "DELETE"
        return selectors.access_feed_by_id(self.request.user, self.kwargs["pk"], write=write, admin=admin)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        feed = self.get_object()
        serializer = self.get_serializer(feed, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        public = data.get("public")
        if public is not None and public != feed.public:
            selectors.require_feed(request.user, feed, selectors.ADMIN)  # sharees cannot publish it
        instances.feed_update(feed=feed, name=data.get("name"), public=public)
        return Response(self.get_serializer(self.get_object()).data)

    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        feed = self.get_object()
        with transaction.atomic():
            deletion.feed_request_delete(feed=feed)
        return Response(status=status.HTTP_202_ACCEPTED)


class FeedPluginInstanceList(CJViewMixin, generics.ListAPIView):
    serializer_class = PluginInstanceSerializer
    cj_links = {"feed": ("feed-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        feed = selectors.access_feed_by_id(self.request.user, self.kwargs["pk"])
        return selectors.visible_instances(self.request.user).filter(feed=feed).order_by("id")


class PluginInstanceList(CJViewMixin, generics.ListCreateAPIView):
    """GET: your runs of this plugin. POST: run it (fs: a new feed)."""

    serializer_class = PluginInstanceSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_links = {"plugin": ("plugin-detail", {"pk": "pk"})}

    def get_cj_template(self) -> Any:
        plugin = get_object_or_404(Plugin, pk=self.kwargs["pk"])
        base = ["title", "compute_resource_name", "previous_id", "cpu_limit", "memory_limit", "number_of_workers",
                "gpu_limit"]
        return base + list(plugin.parameters.values_list("name", flat=True))

    def get_queryset(self) -> Any:
        if not self.request.user.is_authenticated:
            return selectors.visible_instances(self.request.user).none()
        return selectors.visible_instances(self.request.user).filter(
            plugin_id=self.kwargs["pk"], owner=self.request.user).order_by("-id")

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        plugin = get_object_or_404(Plugin.objects.select_related("meta"), pk=self.kwargs["pk"])
        if not hasattr(request.data, "get"):
            raise ValidationError({"detail": "The request body must be an object of parameter values."})
        instance = instances.instance_create(user=request.user, plugin=plugin, data=request.data)
        instance = selectors.access_instance_by_id(request.user, instance.id)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)


class AllPluginInstanceList(CJViewMixin, generics.ListAPIView):
    serializer_class = PluginInstanceSerializer
    cj_links = {"plugins": "plugin-list"}  # @fnndsc/chrisapi's AllPluginInstanceList.getPlugins()
    cj_search = "allplugininstance-list-query-search"

    def get_queryset(self) -> Any:
        return selectors.visible_instances(self.request.user).order_by("-id")


class AllPluginInstanceListSearch(AllPluginInstanceList):
    filter_backends = SEARCH
    filterset_class = PluginInstanceFilter


class PluginInstanceDetail(CJViewMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = PluginInstanceSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = ("title", "status")

    def get_object(self) -> Any:
        write = self.request.method not in permissions.SAFE_METHODS
        delete = self.request.method == "DELETE"
        return selectors.access_instance_by_id(self.request.user, self.kwargs["pk"], write=write, delete=delete)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        data = request.data if hasattr(request.data, "get") else {}
        title = data.get("title")
        new_status = data.get("status")
        if title is not None:
            if not isinstance(title, str) or len(title) > 100:
                raise ValidationError({"title": ["At most 100 characters."]})
        if new_status not in (None, "", instance.status):
            if new_status != Status.CANCELLED:
                raise ValidationError({"status": ["The only status a client can set is 'cancelled'."]})
            if instance.status not in ACTIVE:
                raise ValidationError({"status": [f"A {instance.status} instance cannot be cancelled."]})
        with transaction.atomic():
            if title is not None:
                type(instance).objects.filter(id=instance.id).update(title=title)
            if new_status == Status.CANCELLED and instance.status in ACTIVE:
                instances.instance_cancel(instance=instance)
        return Response(self.get_serializer(self.get_object()).data)

    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        with transaction.atomic():
            deletion.instance_request_delete(instance=instance)
        return Response(status=status.HTTP_202_ACCEPTED)


class PluginInstanceDescendantList(CJViewMixin, generics.ListAPIView):
    serializer_class = PluginInstanceSerializer

    def get_queryset(self) -> Any:
        instance = selectors.access_instance_by_id(self.request.user, self.kwargs["pk"])
        ids = instances.descendant_ids(instance)
        return selectors.visible_instances(self.request.user).filter(id__in=ids).order_by("id")


class PluginInstanceParameterList(CJViewMixin, generics.ListAPIView):
    serializer_class = ParameterValueSerializer
    cj_links = {"plugin_inst": ("plugininstance-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        instance = selectors.access_instance_by_id(self.request.user, self.kwargs["pk"])
        return PluginInstanceParameter.objects.filter(plugin_inst=instance).select_related("plugin_param")


class TypedParameterDetail(CJViewMixin, generics.RetrieveAPIView):
    """/plugins/<type>-parameter/<pk>/: the value, if its parameter has that type and its run is visible."""

    serializer_class = ParameterValueSerializer
    param_type = ""

    def get_object(self) -> Any:
        row = PluginInstanceParameter.objects.select_related("plugin_param").filter(
            pk=self.kwargs["pk"], plugin_param__type=self.param_type).first()
        if row is None:
            raise Http404("Not found.")
        selectors.access_instance_by_id(self.request.user, row.plugin_inst_id)
        return row


class PluginInstanceLogs(generics.GenericAPIView):
    """The job's full output (CUBE keeps only its last 1800 characters)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Any, pk: int) -> Response:
        instance = selectors.access_instance_by_id(request.user, pk)
        logs = instance.job_logs
        if instance.status == Status.STARTED:
            from .services.jobs import job_id, runner_for

            try:
                logs = runner_for(instance.compute_resource).logs(job_id(instance))
            except Exception as exc:  # the runner may be unreachable: report it, do not fail the request
                logs = f"(live logs unavailable: {exc})"
        return Response({"id": instance.id, "status": instance.status, "logs": mask_job_tokens(logs or "")})
