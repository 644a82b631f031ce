"""Sharing a feed with a user or a group: a FeedUserPermission/FeedGroupPermission row, plus a 'w' grant
on the feed's folder through uploads.sharing (which also makes the ``SHARED/<path>.chrislink`` entry point
and lets the grantee read it). Access below the folder is computed from that one grant, so outputs the
feed gains later are shared too, at once (CUBE propagates grants only after a job's remote cleanup).
Revoking removes the row and the folder grant; uploads.sharing removes the SHARED/ link when nobody
holds a grant on it any more."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from uploads.models import FolderGroupPermission, FolderUserPermission, Permission
from uploads.sharing import GrantExistsError, grant_create, grant_delete, grant_update

from ..models import Feed, FeedGroupPermission, FeedUserPermission


def _folder_grant(feed: Feed, kind: str, grantee: Any) -> None:
    if feed.folder is None:
        return
    try:
        grant_create(obj=feed.folder, permission=Permission.WRITE, **{kind: grantee})
    except GrantExistsError:
        # Already granted on the folder through the file browser: sharing the feed makes it 'w'.
        model = FolderUserPermission if kind == "user" else FolderGroupPermission
        grant = model.objects.get(folder=feed.folder, **{kind: grantee})
        grant_update(grant=grant, permission=Permission.WRITE)


def feed_share(*, feed: Feed, user: Any = None, group: Any = None) -> FeedUserPermission | FeedGroupPermission:
    """Share feed with exactly one of user or group."""
    kind = "user" if user is not None else "group"
    grantee = user if user is not None else group
    if kind == "user" and grantee.id == feed.owner_id:
        raise ValidationError({"username": ["The feed's owner already has access to it."]})
    model: Any = FeedUserPermission if kind == "user" else FeedGroupPermission
    field = "username" if kind == "user" else "grp_name"
    with transaction.atomic():
        try:
            with transaction.atomic():
                share = model.objects.create(feed=feed, **{kind: grantee})
        except IntegrityError:
            raise ValidationError({field: [f"The feed is already shared with '{grantee}'."]}) from None
        _folder_grant(feed, kind, grantee)
    return share


def feed_unshare(*, share: FeedUserPermission | FeedGroupPermission) -> None:
    kind = "user" if isinstance(share, FeedUserPermission) else "group"
    feed = share.feed
    with transaction.atomic():
        type(share).objects.filter(pk=share.pk).delete()
        if feed.folder is None:
            return
        model: Any = FolderUserPermission if kind == "user" else FolderGroupPermission
        grant = model.objects.select_related("folder").filter(
            folder=feed.folder, **{f"{kind}_id": getattr(share, f"{kind}_id")}).first()
        if grant is not None:
            grant_delete(grant=grant)
