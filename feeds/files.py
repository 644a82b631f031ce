"""Feed files for the classic client generation: ``/api/v1/<feed>/files/``,
``/api/v1/plugins/instances/<id>/files/`` and ``/api/v1/files/`` with ``fname``, ``feed_id``,
``plugin_inst_id`` and a ``file_resource`` link. They are the same registry rows the file browser shows
(the current generation reaches them through the instance's ``output_folder``)."""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, serializers

from cube.api.fields import CachedFieldsMixin, ItemLinkField
from cube.api.views import CJViewMixin
from uploads.filters import UploadedFileFilter
from uploads.models import ChrisFile
from uploads.selectors import access_file_by_id
from uploads.serializers import FileLinkField, classic_fname
from uploads.views.common import DownloadView

from . import selectors
from .models import PluginInstance

# home/<owner>/feeds/feed_<F>/.../<plugin>_<I>/data/...: the feed and the run that produced the file.
OUTPUT_RE = re.compile(r"^home/[^/]+/feeds/feed_(?P<feed>\d+)/(?:.*/)?[^/]+_(?P<inst>\d+)/data/")


def _ids(fname: str) -> tuple[int | None, int | None]:
    m = OUTPUT_RE.match(fname)
    return (int(m["feed"]), int(m["inst"])) if m else (None, None)


class _IdLink(ItemLinkField):
    def __init__(self, view_name: str, which: int, **kwargs: Any) -> None:
        self.view_name, self.which = view_name, which
        super().__init__(**kwargs)

    def to_representation(self, obj: ChrisFile) -> str | None:
        from rest_framework.reverse import reverse

        pk = _ids(obj.fname)[self.which]
        return None if pk is None else reverse(self.view_name, kwargs={"pk": pk}, request=self.context.get("request"))


class FeedFileSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="feedfile-detail")
    fname = serializers.SerializerMethodField()
    fsize = serializers.IntegerField(source="size", read_only=True)
    feed_id = serializers.SerializerMethodField()
    plugin_inst_id = serializers.SerializerMethodField()
    file_resource = FileLinkField("feedfile-resource")
    feed = _IdLink("feed-detail", 0)
    plugin_inst = _IdLink("plugininstance-detail", 1)

    class Meta:
        model = ChrisFile
        fields = ("url", "id", "creation_date", "fname", "fsize", "size", "feed_id", "plugin_inst_id",
                  "file_resource", "feed", "plugin_inst")

    def get_fname(self, obj: ChrisFile) -> str:
        return classic_fname(obj.fname)

    def get_feed_id(self, obj: ChrisFile) -> int | None:
        return _ids(obj.fname)[0]

    def get_plugin_inst_id(self, obj: ChrisFile) -> int | None:
        return _ids(obj.fname)[1]


def _files_under(path: str) -> Any:
    return ChrisFile.objects.filter(fname__startswith=path + "/").order_by("id")


class FeedFileList(CJViewMixin, generics.ListAPIView):
    serializer_class = FeedFileSerializer
    cj_links = {"feed": ("feed-detail", {"pk": "pk"})}

    def get_queryset(self) -> Any:
        feed = selectors.access_feed_by_id(self.request.user, self.kwargs["pk"])
        return _files_under(feed.folder.path) if feed.folder else ChrisFile.objects.none()


def _instance_feed_link(view: Any) -> str:
    """The feed of the run whose files are listed: the classic client's PluginInstanceFileList.getFeed()."""
    from rest_framework.reverse import reverse

    inst = selectors.access_instance_by_id(view.request.user, view.kwargs["pk"])
    return reverse("feed-detail", kwargs={"pk": inst.feed_id}, request=view.request)


class PluginInstanceFileList(CJViewMixin, generics.ListAPIView):
    serializer_class = FeedFileSerializer
    cj_links = {"plugin_inst": ("plugininstance-detail", {"pk": "pk"}), "feed": _instance_feed_link}

    def get_queryset(self) -> Any:
        inst = selectors.access_instance_by_id(self.request.user, self.kwargs["pk"])
        return _files_under(inst.output_folder.path) if inst.output_folder else ChrisFile.objects.none()


class AllFeedFileList(CJViewMixin, generics.ListAPIView):
    """Every output of your feeds and of the feeds shared with you (classic root link ``files``)."""

    serializer_class = FeedFileSerializer
    cj_search = "allfeedfile-list-query-search"

    def get_queryset(self) -> Any:
        return selectors.feed_output_files(self.request.user)


class FeedFileFilter(UploadedFileFilter):
    """The classic ``files/search/``: the uploaded-file filters (fname in either generation's form: chrs
    searches a run's outputs by its current ``output_path``) plus the feed and the run."""

    feed_id = django_filters.NumberFilter(method="_feed")
    plugin_inst_id = django_filters.NumberFilter(method="_instance")

    class Meta(UploadedFileFilter.Meta):
        fields = (*UploadedFileFilter.Meta.fields, "feed_id", "plugin_inst_id")

    def _feed(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(fname__regex=rf"^home/[^/]+/feeds/feed_{int(value)}/")

    def _instance(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        # The queryset already holds only the outputs of feeds listed for the caller; looking the run up
        # among those they may read as well keeps that true should the queryset ever widen.
        runs = selectors.visible_instances(self.request.user) if self.request else PluginInstance.objects.none()
        path = runs.filter(id=value).values_list("output_folder__path", flat=True).first()
        return queryset.filter(fname__startswith=f"{path}/") if path else queryset.none()


class AllFeedFileListSearch(AllFeedFileList):
    filter_backends = (DjangoFilterBackend,)
    filterset_class = FeedFileFilter


def _feed_file(user: Any, pk: Any) -> ChrisFile:
    from django.http import Http404

    file = access_file_by_id(user, pk)
    if _ids(file.fname)[0] is None:
        raise Http404("Not found.")  # not a feed output: it has its own URL in the file browser
    return file


class FeedFileDetail(CJViewMixin, generics.RetrieveAPIView):
    serializer_class = FeedFileSerializer

    def get_object(self) -> ChrisFile:
        return _feed_file(self.request.user, self.kwargs["pk"])


class FeedFileResource(DownloadView):
    def get_object(self) -> ChrisFile:
        return _feed_file(self.request.user, self.kwargs["pk"])
