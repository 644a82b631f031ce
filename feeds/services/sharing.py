"""Sharing a feed with a user or a group: a FeedUserPermission/FeedGroupPermission row, plus a 'w' grant
on the feed's folder through uploads.sharing (which also makes the ``SHARED/<path>.chrislink`` entry point
and lets the grantee read it). Access below the folder is computed from that one grant, so outputs the
feed gains later are shared too, at once (CUBE propagates grants only after a job's remote cleanup).

The grantee may already hold a grant on the folder, given through the file browser. The share raises it
to 'w' and records which grant it touched and what it was before, so revoking puts back what was there:
no grant before -> the grant goes (and uploads.sharing removes the SHARED/ link once nobody holds one);
'r' before -> 'r' again; 'w' before -> it stays. A grant that was deleted through the file browser while
the share existed (perhaps made again since) is somebody's later decision: revoking leaves it alone."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from uploads.models import FolderGroupPermission, FolderUserPermission, Permission
from uploads.sharing import GrantExistsError, grant_create, grant_delete, grant_update

from ..models import Feed, FeedGroupPermission, FeedUserPermission


def _grant_model(kind: str) -> Any:
    return FolderUserPermission if kind == "user" else FolderGroupPermission


def _folder_grant(feed: Feed, kind: str, grantee: Any) -> tuple[int | None, str | None]:
    """Give the grantee 'w' on the feed's folder; returns (the grant's id, its permission before)."""
    if feed.folder is None:
        return None, None
    model = _grant_model(kind)
    # Twice at most: a grant made or deleted by someone else between our read and our write is read again.
    for _ in range(2):
        grant = model.objects.select_for_update().filter(folder=feed.folder, **{kind: grantee}).first()
        if grant is not None:
            prior = grant.permission
            if prior != Permission.WRITE:
                grant_update(grant=grant, permission=Permission.WRITE)
            return grant.pk, prior
        try:
            return grant_create(obj=feed.folder, permission=Permission.WRITE, **{kind: grantee}).pk, None
        except GrantExistsError:
            continue
    raise ValidationError("The feed's folder permissions changed meanwhile; please try again.")


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
        share.folder_grant_pk, share.prior_folder_permission = _folder_grant(feed, kind, grantee)
        model.objects.filter(pk=share.pk).update(folder_grant_pk=share.folder_grant_pk,
                                                 prior_folder_permission=share.prior_folder_permission)
    return share


def feed_unshare(*, share: FeedUserPermission | FeedGroupPermission) -> None:
    kind = "user" if isinstance(share, FeedUserPermission) else "group"
    feed = share.feed
    with transaction.atomic():
        type(share).objects.filter(pk=share.pk).delete()
        if feed.folder is None or share.folder_grant_pk is None:
            return
        # The very grant the share made or raised, still on this folder for this grantee; locked so a file
        # browser change cannot interleave with ours.
        grant = _grant_model(kind).objects.select_for_update(of=("self",)).select_related("folder").filter(
            pk=share.folder_grant_pk, folder=feed.folder, **{f"{kind}_id": getattr(share, f"{kind}_id")}).first()
        if grant is None:
            return  # deleted through the file browser meanwhile: nothing to undo, nothing to bring back
        if share.prior_folder_permission is None:
            grant_delete(grant=grant)
        elif share.prior_folder_permission == Permission.READ and grant.permission != Permission.READ:
            grant_update(grant=grant, permission=Permission.READ)
