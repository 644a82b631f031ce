"""A feed's note (``note<pk>/``, without the slash, as CUBE) and its comments (``<feed>/comments/``
(+``search/``), ``comments/<pk>/``). Access through feeds.selectors, changes through feeds.services.social."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response

from cube.api.fields import CachedFieldsMixin, ReverseLinkField
from cube.api.views import CJViewMixin

from . import selectors
from .filters import CommentFilter
from .models import Comment, Note
from .services import social


class NoteSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("note-detail")
    feed = ReverseLinkField("feed-detail", kwargs={"pk": "feed_id"})

    class Meta:
        model = Note
        fields = ("url", "id", "title", "content", "feed")


class CommentSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = ReverseLinkField("comment-detail")
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    feed_id = serializers.IntegerField(read_only=True)
    feed = ReverseLinkField("feed-detail", kwargs={"pk": "feed_id"})
    owner = ReverseLinkField("user-detail", kwargs={"pk": "owner_id"})

    class Meta:
        model = Comment
        fields = ("url", "id", "title", "owner_username", "content", "creation_date", "feed_id", "feed", "owner")


class NoteDetail(CJViewMixin, generics.RetrieveUpdateAPIView):
    serializer_class = NoteSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = ("title", "content")
    http_method_names = ["get", "put", "head", "options"]

    def get_object(self) -> Note:
        write = self.request.method not in permissions.SAFE_METHODS
        return selectors.access_note_by_id(self.request.user, self.kwargs["pk"], write=write)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        note = social.note_update(note=self.get_object(), data=request.data)
        return Response(self.get_serializer(note).data)


class CommentList(CJViewMixin, generics.ListAPIView):
    """GET: the feed's comments. POST {title, content}: comment on a feed you may write to."""

    serializer_class = CommentSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_links = {"feed": ("feed-detail", {"pk": "pk"})}
    cj_search = "comment-list-query-search"
    cj_search_kwargs = {"pk": "pk"}
    cj_template = ("title", "content")

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular describing the view: no request
            return Comment.objects.none()
        feed = selectors.access_feed_by_id(self.request.user, self.kwargs["pk"])
        return Comment.objects.filter(feed=feed).select_related("owner").order_by("id")

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        feed = selectors.access_feed_by_id(request.user, self.kwargs["pk"], write=True)
        comment = social.comment_create(feed=feed, owner=request.user, data=request.data)
        return Response(self.get_serializer(comment).data, status=status.HTTP_201_CREATED)


class CommentListSearch(CommentList):
    filter_backends = (DjangoFilterBackend,)
    filterset_class = CommentFilter
    http_method_names = ["get", "head", "options"]


class CommentDetail(CJViewMixin, generics.RetrieveUpdateDestroyAPIView):
    serializer_class = CommentSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    cj_template = ("title", "content")
    http_method_names = ["get", "put", "delete", "head", "options"]

    def get_object(self) -> Comment:
        action = {"PUT": "edit", "DELETE": "delete"}.get(self.request.method, "read")
        return selectors.access_comment_by_id(self.request.user, self.kwargs["pk"], action=action)

    def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        comment = social.comment_update(comment=self.get_object(), data=request.data)
        return Response(self.get_serializer(comment).data)

    def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        social.comment_delete(comment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
