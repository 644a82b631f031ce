from __future__ import annotations

from typing import Any

from rest_framework import generics, permissions, serializers

from cube.api.views import CJViewMixin

from .models import ChrisInstance
from .services import chris_instance


class ChrisInstanceSerializer(serializers.HyperlinkedModelSerializer):
    class Meta:
        model = ChrisInstance
        fields = ("url", "id", "creation_date", "name", "uuid", "job_id_prefix", "description")
        extra_kwargs = {"url": {"view_name": "chrisinstance-detail"}}


class ChrisInstanceDetail(CJViewMixin, generics.RetrieveAPIView):
    """The pk is ignored, as in CUBE: there is one instance."""

    serializer_class = ChrisInstanceSerializer
    permission_classes = (permissions.IsAuthenticated,)

    def get_object(self) -> Any:
        return chris_instance()
