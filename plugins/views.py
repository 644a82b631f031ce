"""Read-only catalogue views (anonymous read, as CUBE)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics

from cube.api.views import CJViewMixin

from .filters import ComputeResourceFilter, PluginFilter, PluginMetaFilter
from .models import ComputeResource, Plugin, PluginMeta, PluginParameter
from .serializers import (
    ComputeResourceSerializer,
    PluginMetaSerializer,
    PluginParameterSerializer,
    PluginSerializer,
)

PLUGINS = Plugin.objects.select_related("meta").order_by("meta__type", "-creation_date", "id")


class Search:
    filter_backends = (DjangoFilterBackend,)


class PluginMetaList(CJViewMixin, generics.ListAPIView):
    queryset = PluginMeta.objects.order_by("type", "-creation_date", "id")
    serializer_class = PluginMetaSerializer
    cj_links = {"plugins": "plugin-list", "feeds": "feed-list"}  # @fnndsc/chrisapi's PluginMetaList.getFeeds()
    cj_search = "pluginmeta-list-query-search"


class PluginMetaListSearch(Search, PluginMetaList):
    filterset_class = PluginMetaFilter


class PluginMetaDetail(CJViewMixin, generics.RetrieveAPIView):
    queryset = PluginMeta.objects.all()
    serializer_class = PluginMetaSerializer


class PluginMetaPluginList(CJViewMixin, generics.ListAPIView):
    serializer_class = PluginSerializer
    cj_links = {"meta": ("pluginmeta-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        meta = get_object_or_404(PluginMeta, pk=self.kwargs["pk"])
        return PLUGINS.filter(meta=meta)


class PluginList(CJViewMixin, generics.ListAPIView):
    queryset = PLUGINS
    serializer_class = PluginSerializer
    cj_links = {"compute_resources": "computeresource-list", "plugin_metas": "pluginmeta-list",
                "feeds": "feed-list"}  # @fnndsc/chrisapi's PluginList.getFeeds()
    cj_search = "plugin-list-query-search"


class PluginListSearch(Search, PluginList):
    filterset_class = PluginFilter

    def get_queryset(self) -> Any:
        return super().get_queryset().distinct()


class PluginDetail(CJViewMixin, generics.RetrieveAPIView):
    queryset = PLUGINS
    serializer_class = PluginSerializer


class PluginParameterList(CJViewMixin, generics.ListAPIView):
    serializer_class = PluginParameterSerializer
    cj_links = {"plugin": ("plugin-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        plugin = get_object_or_404(Plugin, pk=self.kwargs["pk"])
        return PluginParameter.objects.filter(plugin=plugin).order_by("id")


class PluginParameterDetail(CJViewMixin, generics.RetrieveAPIView):
    queryset = PluginParameter.objects.all()
    serializer_class = PluginParameterSerializer


class PluginComputeResourceList(CJViewMixin, generics.ListAPIView):
    serializer_class = ComputeResourceSerializer
    cj_links = {"plugin": ("plugin-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        plugin = get_object_or_404(Plugin, pk=self.kwargs["pk"])
        return plugin.compute_resources.order_by("id")


class ComputeResourceList(CJViewMixin, generics.ListAPIView):
    queryset = ComputeResource.objects.order_by("id")
    serializer_class = ComputeResourceSerializer
    cj_links = {"feeds": "feed-list"}  # @fnndsc/chrisapi's ComputeResourceList.getFeeds()
    cj_search = "computeresource-list-query-search"


class ComputeResourceListSearch(Search, ComputeResourceList):
    filterset_class = ComputeResourceFilter

    def get_queryset(self) -> Any:
        return super().get_queryset().distinct()


class ComputeResourceDetail(CJViewMixin, generics.RetrieveAPIView):
    queryset = ComputeResource.objects.all()
    serializer_class = ComputeResourceSerializer
