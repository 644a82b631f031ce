"""``plugins/instances/<pk>/splits/`` (GET, POST {filter, compute_resource_name}) and
``plugins/instances/splits/<pk>/``: read with the run's feed, split by whoever may write to it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response

from cube.api.fields import CachedFieldsMixin, ReverseLinkField
from cube.api.views import CJViewMixin

from . import selectors
from .models import PluginInstanceSplit
from .services.splits import instance_split


class SplitSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("plugininstancesplit-detail")
    plugin_inst_id = serializers.IntegerField(read_only=True)
    plugin_inst = ReverseLinkField("plugininstance-detail", kwargs={"pk": "plugin_inst_id"})

    class Meta:
        model = PluginInstanceSplit
        fields = ("url", "id", "creation_date", "filter", "created_plugin_inst_ids", "plugin_inst_id", "plugin_inst")


class SplitList(CJViewMixin, generics.ListAPIView):
    serializer_class = SplitSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_links = {"plugin_inst": ("plugininstance-detail", {"pk": "pk"})}
    cj_template = ("filter", "compute_resource_name")

    def get_queryset(self) -> QuerySet:
        instance = selectors.access_instance_by_id(self.request.user, self.kwargs["pk"])
        return PluginInstanceSplit.objects.filter(plugin_inst=instance)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        instance = selectors.writable_instance(request.user, self.kwargs["pk"])
        if instance is None:
            selectors.access_instance_by_id(request.user, self.kwargs["pk"])  # 404 if it is not even readable
            return Response({"detail": "You may not add runs to this feed."}, status=status.HTTP_403_FORBIDDEN)
        split = instance_split(user=request.user, instance=instance, data=request.data)
        return Response(self.get_serializer(split).data, status=status.HTTP_201_CREATED)


class SplitDetail(CJViewMixin, generics.RetrieveAPIView):
    serializer_class = SplitSerializer

    def get_object(self) -> PluginInstanceSplit:
        return selectors.access_split_by_id(self.request.user, self.kwargs["pk"])
