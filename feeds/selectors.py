"""Access selectors for feeds and plugin instances. Read: owner, superuser, or a public feed (anyone).
Write (rename, publish, run plugins into, cancel, delete): owner or superuser."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from rest_framework.exceptions import PermissionDenied

from cube.api.permissions import is_superuser

from .models import Feed, PluginInstance, Status

JOB_COUNTS = {
    "created_jobs": Status.CREATED, "waiting_jobs": Status.WAITING, "scheduled_jobs": Status.SCHEDULED,
    "started_jobs": Status.STARTED, "registering_jobs": Status.REGISTERING, "finished_jobs": Status.SUCCEEDED,
    "errored_jobs": Status.FAILED, "cancelled_jobs": Status.CANCELLED,
}


def _readable(user: Any) -> Q:
    if is_superuser(user):
        return Q()
    if user.is_authenticated:
        return Q(owner=user) | Q(public=True)
    return Q(public=True)


def with_job_counts(qs: QuerySet) -> QuerySet:
    """Per-status job counts for every feed of the page in the same query (CUBE: one query per count)."""
    return qs.annotate(**{name: Count("plugin_instances", filter=Q(plugin_instances__status=status))
                          for name, status in JOB_COUNTS.items()})


def user_feeds(user: Any) -> QuerySet:
    """The API home: your own feeds (the superuser sees every non-public feed, as in CUBE)."""
    if not user.is_authenticated:
        return Feed.objects.none()
    qs = Feed.objects.filter(public=False) if is_superuser(user) else Feed.objects.filter(owner=user)
    return with_job_counts(qs.select_related("owner", "folder")).order_by("-creation_date", "-id")


def public_feeds() -> QuerySet:
    return with_job_counts(Feed.objects.filter(public=True).select_related("owner", "folder")).order_by("-id")


def _check(obj: Any, user: Any, write: bool) -> Any:
    if is_superuser(user) or (user.is_authenticated and obj.owner_id == user.id):
        return obj
    feed = obj if isinstance(obj, Feed) else obj.feed
    if feed.public and not write:
        return obj
    if feed.public:
        raise PermissionDenied("Only the owner may change this.")
    raise Http404("Not found.")


def access_feed_by_id(user: Any, feed_id: Any, write: bool = False) -> Feed:
    feed = with_job_counts(Feed.objects.select_related("owner", "folder")).filter(pk=feed_id).first()
    if feed is None:
        raise Http404("Not found.")
    return _check(feed, user, write)


INSTANCE_RELATED = ("plugin__meta", "feed", "owner", "compute_resource", "output_folder", "previous")


def access_instance_by_id(user: Any, instance_id: Any, write: bool = False) -> PluginInstance:
    inst = PluginInstance.objects.select_related(*INSTANCE_RELATED).filter(pk=instance_id).first()
    if inst is None:
        raise Http404("Not found.")
    # Writes to a run are decided by its feed: the feed's owner may cancel a sharee's run.
    if write and not (is_superuser(user) or (user.is_authenticated and inst.feed.owner_id == user.id)):
        _check(inst.feed, user, False)
        raise PermissionDenied("Only the feed's owner may change this.")
    return _check(inst, user, write)


def writable_instance(user: Any, instance_id: int) -> PluginInstance | None:
    """An instance the user may add a run below (owner of its feed, or the superuser), else None."""
    inst = PluginInstance.objects.select_related("feed", "output_folder").filter(pk=instance_id).first()
    if inst is None:
        return None
    if is_superuser(user) or inst.feed.owner_id == user.id:
        return inst
    return None


def visible_instances(user: Any) -> QuerySet:
    qs = PluginInstance.objects.select_related(*INSTANCE_RELATED)
    if is_superuser(user):
        return qs
    if user.is_authenticated:
        return qs.filter(Q(feed__owner=user) | Q(feed__public=True))
    return qs.filter(feed__public=True)
