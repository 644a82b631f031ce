"""Tags and taggings: ``tags/`` (+``search/``), ``tags/<pk>/`` (+``feeds/``, ``taggings/``),
``taggings/<pk>/``, ``<feed>/tags/`` and ``<feed>/taggings/``. Access through feeds.selectors, changes
through feeds.services.social."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cube.api.fields import CachedFieldsMixin, ReverseLinkField
from cube.api.views import CJViewMixin

from . import selectors
from .filters import TagFilter
from .models import Tag, Tagging
from .serializers import FeedSerializer
from .services import social


class TagSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("tag-detail")
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    feeds = ReverseLinkField("tag-feed-list")
    taggings = ReverseLinkField("tag-tagging-list")
    owner = ReverseLinkField("user-detail", kwargs={"pk": "owner_id"})

    class Meta:
        model = Tag
        fields = ("url", "id", "name", "owner_username", "color", "feeds", "taggings", "owner")


class TaggingSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("tagging-detail")
    owner_username = serializers.CharField(source="tag.owner.username", read_only=True)
    tag_id = serializers.IntegerField(read_only=True)
    feed_id = serializers.IntegerField(read_only=True)
    tag = ReverseLinkField("tag-detail", kwargs={"pk": "tag_id"})
    feed = ReverseLinkField("feed-detail", kwargs={"pk": "feed_id"})

    class Meta:
        model = Tagging
        fields = ("url", "id", "owner_username", "tag_id", "feed_id", "tag", "feed")


def _tagging_reply(view: Any, tagging: Tagging) -> Response:
    tagging = selectors.visible_taggings(view.request.user).get(pk=tagging.pk)
    return Response(TaggingSerializer(tagging, context=view.get_serializer_context()).data,
                    status=status.HTTP_201_CREATED)


class TagList(CJViewMixin, generics.ListAPIView):
    """GET: your tags. POST {name, color}: a new tag."""

    serializer_class = TagSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_links = {"feeds": "feed-list"}  # chrisapi's TagList.getFeeds
    cj_search = "tag-list-query-search"
    cj_template = ("name", "color")

    def get_queryset(self) -> QuerySet:
        return selectors.visible_tags(self.request.user)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        tag = social.tag_create(owner=request.user, data=request.data)
        return Response(self.get_serializer(tag).data, status=status.HTTP_201_CREATED)


class TagListSearch(TagList):
    filter_backends = (DjangoFilterBackend,)
    filterset_class = TagFilter
    http_method_names = ["get", "head", "options"]


class TagDetail(CJViewMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = TagSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = ("name", "color")
    http_method_names = ["get", "put", "delete", "head", "options"]

    def get_object(self) -> Tag:
        write = self.request.method not in permissions.SAFE_METHODS
        return selectors.access_tag_by_id(self.request.user, self.kwargs["pk"], write=write)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        tag = social.tag_update(tag=self.get_object(), data=request.data)
        return Response(self.get_serializer(tag).data)

    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        social.tag_delete(tag=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagFeedList(CJViewMixin, generics.ListAPIView):
    """The feeds carrying the tag that you can read."""

    serializer_class = FeedSerializer
    cj_links = {"tag": ("tag-detail", {"pk": "pk"})}

    def get_queryset(self) -> QuerySet:
        tag = selectors.access_tag_by_id(self.request.user, self.kwargs["pk"])
        feeds = selectors.readable_feeds(self.request.user).filter(taggings__tag=tag)
        return selectors.with_job_counts(feeds.select_related(*selectors.FEED_RELATED)).order_by("-id")


class TagTaggingList(CJViewMixin, generics.ListAPIView):
    """GET: the tag's taggings on feeds you can read. POST {feed_id}: tag a feed (your tag, a feed you
    may write to)."""

    serializer_class = TaggingSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_links = {"tag": ("tag-detail", {"pk": "pk"})}
    cj_template = ("feed_id",)

    def get_queryset(self) -> QuerySet:
        tag = selectors.access_tag_by_id(self.request.user, self.kwargs["pk"])
        return selectors.visible_taggings(self.request.user).filter(tag=tag)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        tag = selectors.access_tag_by_id(request.user, self.kwargs["pk"], write=True)
        feed = selectors.access_feed_by_id(request.user, social.input_id(request.data, "feed_id"), write=True)
        return _tagging_reply(self, social.tagging_create(tag=tag, feed=feed))


class TaggingDetail(CJViewMixin, generics.RetrieveDestroyAPIView):
    serializer_class = TaggingSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)

    def get_object(self) -> Tagging:
        delete = self.request.method == "DELETE"
        return selectors.access_tagging_by_id(self.request.user, self.kwargs["pk"], delete=delete)

    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        social.tagging_delete(tagging=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedTagList(CJViewMixin, generics.ListAPIView):
    serializer_class = TagSerializer
    cj_links = {"feed": ("feed-detail", {"pk": "pk"})}

    def get_queryset(self) -> QuerySet:
        feed = selectors.access_feed_by_id(self.request.user, self.kwargs["pk"])
        return Tag.objects.filter(taggings__feed=feed).select_related("owner").order_by("id")


class FeedTaggingList(CJViewMixin, generics.ListAPIView):
    """GET: the feed's taggings. POST {tag_id}: tag this feed with one of your tags."""

    serializer_class = TaggingSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_links = {"feed": ("feed-detail", {"pk": "pk"})}
    cj_template = ("tag_id",)

    def get_queryset(self) -> QuerySet:
        feed = selectors.access_feed_by_id(self.request.user, self.kwargs["pk"])
        return Tagging.objects.filter(feed=feed).select_related("tag__owner", "feed").order_by("id")

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        feed = selectors.access_feed_by_id(request.user, self.kwargs["pk"], write=True)
        tag_id = social.input_id(request.data, "tag_id")
        tag = selectors.visible_tags(request.user).filter(pk=tag_id).first()
        if tag is None:
            raise ValidationError({"tag_id": [f"You have no tag {tag_id}."]})
        return _tagging_reply(self, social.tagging_create(tag=tag, feed=feed))
