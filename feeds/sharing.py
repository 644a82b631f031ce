"""Feed shares: ``<feed>/grouppermissions/`` and ``<feed>/userpermissions/`` (GET, POST, +``search/``),
``grouppermissions/<pk>/`` and ``userpermissions/<pk>/`` (GET, DELETE). Both grantee kinds come from one
definition. Listing needs write access to the feed; sharing and revoking, its owner or the superuser."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cube.api.fields import CachedFieldsMixin, ReverseLinkField
from cube.api.views import CJViewMixin
from uploads.selectors import grantee_by_name

from . import selectors
from .filters import FeedGroupPermissionFilter, FeedUserPermissionFilter
from .models import FeedGroupPermission, FeedUserPermission
from .services.sharing import feed_share, feed_unshare


class FeedGroupPermissionSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("feed-group-permission-detail")
    feed_id = serializers.IntegerField(read_only=True)
    feed_name = serializers.CharField(source="feed.name", read_only=True)
    group_id = serializers.IntegerField(read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True)
    feed = ReverseLinkField("feed-detail", kwargs={"pk": "feed_id"})
    group = ReverseLinkField("group-detail", kwargs={"pk": "group_id"})

    class Meta:
        model = FeedGroupPermission
        fields = ("url", "id", "feed_id", "feed_name", "group_id", "group_name", "feed", "group")


class FeedUserPermissionSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("feed-user-permission-detail")
    feed_id = serializers.IntegerField(read_only=True)
    feed_name = serializers.CharField(source="feed.name", read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    user_username = serializers.CharField(source="user.username", read_only=True)
    feed = ReverseLinkField("feed-detail", kwargs={"pk": "feed_id"})
    user = ReverseLinkField("user-detail", kwargs={"pk": "user_id"})

    class Meta:
        model = FeedUserPermission
        fields = ("url", "id", "feed_id", "feed_name", "user_id", "user_username", "feed", "user")


def _grantee(kind: str, data: Any) -> Any:
    field = "username" if kind == "user" else "grp_name"
    name = data.get(field) if hasattr(data, "get") else None
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({field: ["This field is required."]})
    try:
        return grantee_by_name(kind, name)
    except ValidationError as exc:
        raise ValidationError({field: exc.detail}) from None


def make_share_views(kind: str) -> tuple[Any, Any, Any]:
    """(list+create, search, detail) view classes for shares with users or with groups."""
    model: Any = FeedUserPermission if kind == "user" else FeedGroupPermission
    serializer: Any = FeedUserPermissionSerializer if kind == "user" else FeedGroupPermissionSerializer
    filterset: Any = FeedUserPermissionFilter if kind == "user" else FeedGroupPermissionFilter
    name = f"feed-{kind}-permission"

    class ShareList(CJViewMixin, generics.ListAPIView):
        serializer_class = serializer
        permission_classes = (permissions.IsAuthenticated,)
        cj_links = {"feed": ("feed-detail", {"pk": "pk"})}
        cj_search = f"{name}-list-query-search"
        cj_search_kwargs = {"pk": "pk"}
        cj_template = ("username",) if kind == "user" else ("grp_name",)

        def get_queryset(self) -> Any:
            if getattr(self, "swagger_fake_view", False):  # drf-spectacular describing the view: no request
                return model.objects.none()
            feed = selectors.access_feed_by_id(self.request.user, self.kwargs["pk"], write=True)
            return model.objects.filter(feed=feed).select_related("feed", kind).order_by("id")

        def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
            feed = selectors.access_feed_by_id(request.user, self.kwargs["pk"], admin=True)
            share = feed_share(feed=feed, **{kind: _grantee(kind, request.data)})
            return Response(self.get_serializer(share).data, status=status.HTTP_201_CREATED)

    class ShareListSearch(ShareList):
        filter_backends = (DjangoFilterBackend,)
        filterset_class = filterset
        http_method_names = ["get", "head", "options"]

    class ShareDetail(CJViewMixin, generics.RetrieveDestroyAPIView):
        serializer_class = serializer
        permission_classes = (permissions.IsAuthenticated,)

        def get_object(self) -> Any:
            admin = self.request.method == "DELETE"
            return selectors.access_feed_share_by_id(self.request.user, model, self.kwargs["pk"], admin=admin)

        def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
            feed_unshare(share=self.get_object())
            return Response(status=status.HTTP_204_NO_CONTENT)

    for cls, suffix in ((ShareList, "List"), (ShareListSearch, "ListSearch"), (ShareDetail, "Detail")):
        cls.__name__ = cls.__qualname__ = f"Feed{kind.title()}Permission{suffix}"
    return ShareList, ShareListSearch, ShareDetail


SHARE_VIEWS = {kind: make_share_views(kind) for kind in ("group", "user")}
