"""Access selectors for feeds and everything hung on them (runs, tags, notes, comments, shares).

A feed gives each user one access level:
- ADMIN: its owner and the superuser. Only they delete the feed, change ``public`` and decide who it is
  shared with (CUBE lets a sharee delete the whole feed; we do not).
- WRITE: a user it is shared with, directly or through one of their groups: they read it, run plugins
  in it, rename it, edit its note and tag it.
- READ: anyone, anonymous included, when the feed is public.
Whoever has no level gets a 404, so the existence of a private feed is never disclosed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import StrIndex, Substr
from django.http import Http404
from rest_framework.exceptions import PermissionDenied

from cube.api.permissions import is_superuser
from uploads.models import ChrisFile
from uploads.selectors import user_group_ids

from .models import Comment, Feed, Note, PluginInstance, Status, Tag, Tagging, Workflow

JOB_COUNTS = {
    "created_jobs": Status.CREATED, "waiting_jobs": Status.WAITING, "scheduled_jobs": Status.SCHEDULED,
    "started_jobs": Status.STARTED, "registering_jobs": Status.REGISTERING, "finished_jobs": Status.SUCCEEDED,
    "errored_jobs": Status.FAILED, "cancelled_jobs": Status.CANCELLED,
}

NONE, READ, WRITE, ADMIN = 0, 1, 2, 3


def _shared_with(user: Any, prefix: str = "") -> Q:
    """Feeds shared with the user or one of their groups, as id subqueries (no join, so no duplicates)."""
    from .models import FeedGroupPermission, FeedUserPermission

    users = FeedUserPermission.objects.filter(user=user).values("feed_id")
    groups = FeedGroupPermission.objects.filter(group_id__in=user_group_ids(user)).values("feed_id")
    return Q(**{f"{prefix}id__in": users}) | Q(**{f"{prefix}id__in": groups})


def _readable(user: Any, prefix: str = "") -> Q:
    if is_superuser(user):
        return Q()
    public = Q(**{f"{prefix}public": True})
    if user.is_authenticated:
        return Q(**{f"{prefix}owner": user}) | public | _shared_with(user, prefix)
    return public


def is_shared_with(user: Any, feed: Feed) -> bool:
    if not user.is_authenticated:
        return False
    return Feed.objects.filter(_shared_with(user), id=feed.id).exists()


def feed_level(user: Any, feed: Feed) -> int:
    if is_superuser(user) or (user.is_authenticated and feed.owner_id == user.id):
        return ADMIN
    if is_shared_with(user, feed):
        return WRITE
    return READ if feed.public else NONE


def require_feed(user: Any, feed: Feed, needed: int) -> Feed:
    level = feed_level(user, feed)
    if level >= needed:
        return feed
    if level == NONE:
        raise Http404("Not found.")
    if needed == ADMIN:
        raise PermissionDenied("Only the feed's owner or the superuser may do this.")
    raise PermissionDenied("You do not have permission to change this feed.")


def with_job_counts(qs: QuerySet) -> QuerySet:
    """Per-status job counts for every feed of the page in the same query (CUBE: one query per count)."""
    return qs.annotate(**{name: Count("plugin_instances", filter=Q(plugin_instances__status=status))
                          for name, status in JOB_COUNTS.items()})


FEED_RELATED = ("owner", "folder", "note")


def user_feeds(user: Any) -> QuerySet:
    """The API home: your own feeds and those shared with you (the superuser sees every non-public feed,
    as in CUBE)."""
    if not user.is_authenticated:
        return Feed.objects.none()
    if is_superuser(user):
        qs = Feed.objects.filter(public=False)
    else:
        qs = Feed.objects.filter(Q(owner=user) | _shared_with(user))
    return with_job_counts(qs.select_related(*FEED_RELATED)).order_by("-creation_date", "-id")


# Up to this many shared feeds the listing names each one's folder (an index range each); above it, it
# matches every file's feed folder against theirs in one pass. Measured on PostgreSQL with 200,000 files:
# 100 shared feeds 38 ms named vs 137 ms matched; 1,267 shared feeds 3.3 s named vs 0.2 s matched.
MAX_NAMED_FOLDERS = 100


def _feed_dir() -> Any:
    """The feed folder a feed file lies in, ``home/<owner>/feeds/feed_<id>``, cut from its fname with
    functions PostgreSQL and SQLite share (no portable regex capture)."""
    user_len = StrIndex(Substr(F("fname"), 6), Value("/"))  # 'home/' is 5 characters; '<owner>/'
    feed_len = StrIndex(Substr(F("fname"), user_len + 12), Value("/"))  # then 'feeds/'; then 'feed_<id>/'
    return Substr(F("fname"), 1, user_len + feed_len + 10)


def feed_output_files(user: Any) -> QuerySet:
    """The files of the feeds on the user's home page (user_feeds: their own and those shared with them or
    a group of theirs; the superuser: every non-public feed), for the classic ``files/``. Not other
    people's public feeds, as in CUBE. A fixed number of queries however many feeds there are."""
    if not user.is_authenticated:
        return ChrisFile.objects.none()
    files = ChrisFile.objects.order_by("id")
    # All of one's own feeds lie under one folder: one index range however many there are.
    own = Q(fname__startswith=f"home/{user.username}/feeds/")
    if is_superuser(user):
        others = Feed.objects.filter(public=False).exclude(owner=user)
    else:
        others = Feed.objects.filter(_shared_with(user)).exclude(owner=user)
        paths = list(others.exclude(folder=None).values_list("folder__path", flat=True)[:MAX_NAMED_FOLDERS + 1])
        if len(paths) <= MAX_NAMED_FOLDERS:
            for path in paths:
                own |= Q(fname__startswith=f"{path}/")
            return files.filter(own)
    # The superuser's listing is most of the table, and many shared feeds make too many ranges: one pass
    # over the files with a hashed lookup of the feed folders.
    return files.alias(feed_dir=_feed_dir()).filter(own | Q(feed_dir__in=others.values("folder__path")))


def public_feeds() -> QuerySet:
    return with_job_counts(Feed.objects.filter(public=True).select_related(*FEED_RELATED)).order_by("-id")


def readable_feeds(user: Any) -> QuerySet:
    return Feed.objects.filter(_readable(user))


def access_feed_by_id(user: Any, feed_id: Any, write: bool = False, admin: bool = False) -> Feed:
    feed = with_job_counts(Feed.objects.select_related(*FEED_RELATED)).filter(pk=feed_id).first()
    if feed is None:
        raise Http404("Not found.")
    return require_feed(user, feed, ADMIN if admin else WRITE if write else READ)


INSTANCE_RELATED = ("plugin__meta", "feed", "owner", "compute_resource", "output_folder", "previous",
                    "workflow__pipeline")


def access_instance_by_id(user: Any, instance_id: Any, write: bool = False, delete: bool = False) -> PluginInstance:
    """Read: whoever reads its feed. Write (rename, cancel, delete): the run's owner while they may still
    write to the feed, the feed's owner (who may cancel a sharee's run), or the superuser. Deleting takes
    every run below with it, so a sharee deletes only a subtree that is all their own."""
    inst = PluginInstance.objects.select_related(*INSTANCE_RELATED).filter(pk=instance_id).first()
    if inst is None:
        raise Http404("Not found.")
    level = feed_level(user, inst.feed)
    if level == NONE:
        raise Http404("Not found.")
    if (write or delete) and not (level == ADMIN or (level == WRITE and inst.owner_id == user.id)):
        raise PermissionDenied("Only the run's owner or the feed's owner may change this.")
    if delete and level != ADMIN:
        from .services.instances import descendant_ids

        if PluginInstance.objects.filter(id__in=descendant_ids(inst)).exclude(owner_id=user.id).exists():
            raise PermissionDenied("Runs of other users depend on this one: only the feed's owner may delete it.")
    return inst


def writable_instance(user: Any, instance_id: int) -> PluginInstance | None:
    """An instance the user may add a run below (one whose feed they may write to), else None."""
    inst = PluginInstance.objects.select_related("feed", "output_folder").filter(pk=instance_id).first()
    if inst is None or feed_level(user, inst.feed) < WRITE:
        return None
    return inst


def visible_instances(user: Any) -> QuerySet:
    qs = PluginInstance.objects.select_related(*INSTANCE_RELATED)
    if is_superuser(user):
        return qs
    return qs.filter(_readable(user, "feed__"))


# --- tags ---


def visible_tags(user: Any) -> QuerySet:
    """Your own tags (the superuser: all). CUBE lists every user's tags to everyone, anonymous included;
    a tag's name is the owner's private label (often a patient or a study), so we do not."""
    qs = Tag.objects.select_related("owner").order_by("id")
    if is_superuser(user):
        return qs
    if not user.is_authenticated:
        return qs.none()
    return qs.filter(owner=user)


def access_tag_by_id(user: Any, tag_id: Any, write: bool = False) -> Tag:
    """Read: the owner, the superuser, or whoever can read a feed that carries the tag (so a shared or
    public feed's tags can be shown). Write: the owner or the superuser."""
    tag = Tag.objects.select_related("owner").filter(pk=tag_id).first()
    if tag is None:
        raise Http404("Not found.")
    if is_superuser(user) or (user.is_authenticated and tag.owner_id == user.id):
        return tag
    if not Tagging.objects.filter(tag=tag).filter(_readable(user, "feed__")).exists():
        raise Http404("Not found.")
    if write:
        raise PermissionDenied("Only the tag's owner may change it.")
    return tag


def visible_taggings(user: Any) -> QuerySet:
    qs = Tagging.objects.select_related("tag__owner", "feed").order_by("id")
    return qs if is_superuser(user) else qs.filter(_readable(user, "feed__"))


def access_tagging_by_id(user: Any, tagging_id: Any, delete: bool = False) -> Tagging:
    """Read: whoever reads the feed. Delete: the tag's owner, or the feed's owner (a sharee's label on
    your feed is yours to remove), or the superuser."""
    tagging = Tagging.objects.select_related("tag__owner", "feed").filter(pk=tagging_id).first()
    if tagging is None:
        raise Http404("Not found.")
    level = feed_level(user, tagging.feed)
    if level == NONE:
        raise Http404("Not found.")
    if delete and level != ADMIN and tagging.tag.owner_id != user.id:
        raise PermissionDenied("Only the tag's owner or the feed's owner may remove this tagging.")
    return tagging


# --- the note and comments ---


def access_note_by_id(user: Any, note_id: Any, write: bool = False) -> Note:
    """The note follows its feed: read with the feed, edited by whoever may write to it."""
    note = Note.objects.select_related("feed").filter(pk=note_id).first()
    if note is None:
        raise Http404("Not found.")
    require_feed(user, note.feed, WRITE if write else READ)
    return note


def access_comment_by_id(user: Any, comment_id: Any, action: str = "read") -> Comment:
    """read: whoever reads the feed. edit: the comment's author while they may still write to the feed
    (as commenting needs), or the superuser; nobody rewrites another's words. delete: the author, the
    feed's owner or the superuser."""
    comment = Comment.objects.select_related("feed", "owner").filter(pk=comment_id).first()
    if comment is None:
        raise Http404("Not found.")
    level = feed_level(user, comment.feed)
    if level == NONE:
        raise Http404("Not found.")
    author = user.is_authenticated and comment.owner_id == user.id
    if action == "edit" and not ((author and level >= WRITE) or is_superuser(user)):
        raise PermissionDenied("Only the comment's author, while they may write to the feed, may change it.")
    if action == "delete" and not (author or level == ADMIN):
        raise PermissionDenied("Only the comment's author or the feed's owner may delete it.")
    return comment


# --- workflows ---


def with_workflow_job_counts(qs: QuerySet) -> QuerySet:
    return qs.annotate(**{name: Count("plugin_instances", filter=Q(plugin_instances__status=status))
                          for name, status in JOB_COUNTS.items()})


def visible_workflows(user: Any) -> QuerySet:
    """The workflows that ran in a feed you can read, and your own that have no runs left (CUBE lists every
    user's workflows to anyone signed in). Not your own in a feed no longer shared with you: its title and
    job counts describe runs you may not see."""
    qs = Workflow.objects.select_related("owner", "pipeline")
    if not is_superuser(user):
        in_readable = PluginInstance.objects.filter(_readable(user, "feed__"), workflow__isnull=False)
        cond = Q(id__in=in_readable.values("workflow_id"))
        if user.is_authenticated:
            with_runs = PluginInstance.objects.filter(workflow__isnull=False).values("workflow_id")
            cond |= Q(owner=user) & ~Q(id__in=with_runs)
        qs = qs.filter(cond)
    return with_workflow_job_counts(qs).order_by("-creation_date", "-id")


def access_workflow_by_id(user: Any, workflow_id: Any, write: bool = False) -> Workflow:
    """Read: as visible_workflows. Write (rename, delete): its owner or the superuser."""
    workflow = visible_workflows(user).filter(pk=workflow_id).first()
    if workflow is None:
        raise Http404("Not found.")
    if write and not is_superuser(user):
        if workflow.owner_id != user.id:
            raise PermissionDenied("Only the workflow's owner may change it.")
        # Deleting cancels its runs (and whatever runs below them): not for an owner whose share of the
        # feed they ran in has been revoked since.
        feeds = Feed.objects.filter(plugin_instances__workflow=workflow).distinct()
        if any(feed_level(user, feed) < WRITE for feed in feeds):
            raise PermissionDenied("You may no longer write to the feed this workflow ran in.")
    return workflow


# --- shares ---


def access_feed_share_by_id(user: Any, model: Any, share_id: Any, admin: bool = False) -> Any:
    """A FeedUserPermission or FeedGroupPermission row. Read: whoever may write to the feed (its owner,
    its sharees, the superuser); public readers do not learn who it is shared with. Revoke: the feed's
    owner or the superuser."""
    share = model.objects.select_related("feed", "feed__owner", "feed__folder").filter(pk=share_id).first()
    if share is None:
        raise Http404("Not found.")
    level = feed_level(user, share.feed)
    if level < WRITE:
        raise Http404("Not found.")
    if admin and level < ADMIN:
        raise PermissionDenied("Only the feed's owner or the superuser may change who it is shared with.")
    return share


def access_split_by_id(user: Any, split_id: Any) -> Any:
    from .models import PluginInstanceSplit

    split = PluginInstanceSplit.objects.select_related("plugin_inst__feed").filter(pk=split_id).first()
    if split is None or feed_level(user, split.plugin_inst.feed) == NONE:
        raise Http404("Not found.")
    return split
