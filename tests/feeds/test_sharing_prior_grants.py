"""Revoking a feed share puts back the folder grant the sharee held before the share (none, 'r' or 'w'),
and leaves alone a grant that was deleted (or deleted and made again) through the file browser while the
share existed. Everything through the HTTP API, for a user and for a group."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import json_of
from tests.feeds.social import delete, get, make_feed, make_people, post, put


@pytest.fixture
def people(system: Any, make_user: Any) -> dict[str, Any]:
    return make_people(system, make_user)


# kind -> (the grantee's name, the share and folder grant endpoints' segment, the body's name field)
KINDS = {"user": ("bobby", "userpermissions", "username"), "group": ("lab", "grouppermissions", "grp_name")}


def _folder_grant(feed: Any, kind: str) -> Any:
    """The grantee's grant on the feed's folder, or None."""
    from uploads.models import FolderGroupPermission, FolderUserPermission

    if kind == "user":
        return FolderUserPermission.objects.filter(folder=feed.folder, user__username="bobby").first()
    return FolderGroupPermission.objects.filter(folder=feed.folder, group__name="lab").first()


def _grant_folder(api: Any, alice: Any, feed: Any, kind: str, permission: str) -> dict[str, Any]:
    """A grant on the feed's folder made through the file browser, as the owner does there."""
    name, segment, field = KINDS[kind]
    r = post(api, alice, f"/api/v1/filebrowser/{feed.folder.id}/{segment}/", {field: name, "permission": permission})
    assert r.status_code == 201, r.content
    return dict(json_of(r))


def _share(api: Any, alice: Any, feed: Any, kind: str) -> dict[str, Any]:
    name, segment, field = KINDS[kind]
    r = post(api, alice, f"/api/v1/{feed.id}/{segment}/", {field: name})
    assert r.status_code == 201, r.content
    assert _folder_grant(feed, kind).permission == "w"  # the share makes it 'w' whatever it was
    return dict(json_of(r))


def _sharee(people: Any, kind: str) -> Any:
    return people["bobby"] if kind == "user" else people["carol"]  # carol is in 'lab'


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["user", "group"])
@pytest.mark.parametrize("prior", [None, "r", "w"])
def test_revoking_restores_the_folder_grant_held_before(api: Any, people: Any, kind: str, prior: str | None) -> None:
    from tests.feeds.test_sharing import shared_link

    alice, sharee = people["alice"], _sharee(people, kind)
    feed = make_feed(alice)
    before = _grant_folder(api, alice, feed, kind, prior)["id"] if prior else None
    share = _share(api, alice, feed, kind)
    assert _folder_grant(feed, kind).id == before or prior is None  # raised in place, not made anew
    assert delete(api, alice, share["url"]).status_code == 204
    # The feed itself is no longer shared ...
    assert get(api, sharee, f"/api/v1/{feed.id}/").status_code == 404
    grant = _folder_grant(feed, kind)
    folder = get(api, sharee, f"/api/v1/filebrowser/{feed.folder.id}/")
    if prior is None:
        # ... and the grant the share made is gone, with the sharee's way in.
        assert grant is None and shared_link(feed) is None
        assert folder.status_code == 404
    else:
        # ... but the folder grant given before the share is back as it was, and still works.
        assert (grant.id, grant.permission) == (before, prior)
        assert shared_link(feed) is not None and folder.status_code == 200
    # Sharing again and revoking again gives the same result (nothing drifts).
    share = _share(api, alice, feed, kind)
    assert delete(api, alice, share["url"]).status_code == 204
    grant = _folder_grant(feed, kind)
    assert (grant.permission if grant else None) == prior


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["user", "group"])
@pytest.mark.parametrize("prior", [None, "r", "w"])
def test_a_folder_grant_deleted_meanwhile_is_not_brought_back(api: Any, people: Any, kind: str,
                                                             prior: str | None) -> None:
    from tests.feeds.test_sharing import shared_link

    alice, sharee = people["alice"], _sharee(people, kind)
    segment = KINDS[kind][1]
    feed = make_feed(alice)
    if prior:
        _grant_folder(api, alice, feed, kind, prior)
    share = _share(api, alice, feed, kind)
    # The owner deletes the folder grant through the file browser while the feed is shared.
    grant = _folder_grant(feed, kind)
    assert delete(api, alice, f"/api/v1/filebrowser/{segment}/{grant.id}/").status_code == 204
    assert _folder_grant(feed, kind) is None
    assert delete(api, alice, share["url"]).status_code == 204
    assert _folder_grant(feed, kind) is None and shared_link(feed) is None
    assert get(api, sharee, f"/api/v1/filebrowser/{feed.folder.id}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["user", "group"])
def test_a_folder_grant_made_again_meanwhile_is_left_alone(api: Any, people: Any, kind: str) -> None:
    """Deleted and given again through the file browser while shared: the new grant is the owner's later
    decision, not the share's, so revoking the share does not delete it."""
    alice, segment = people["alice"], KINDS[kind][1]
    feed = make_feed(alice)
    share = _share(api, alice, feed, kind)  # no grant before: revoking would delete the share's grant
    assert delete(api, alice, f"/api/v1/filebrowser/{segment}/{_folder_grant(feed, kind).id}/").status_code == 204
    again = _grant_folder(api, alice, feed, kind, "r")
    assert delete(api, alice, share["url"]).status_code == 204
    grant = _folder_grant(feed, kind)
    assert grant is not None and (grant.id, grant.permission) == (again["id"], "r")


@pytest.mark.django_db
@pytest.mark.parametrize(("prior", "changed_to", "after"), [(None, "r", None), ("r", "r", "r"), ("w", "r", "r")])
def test_a_folder_grant_changed_meanwhile(api: Any, people: Any, prior: str | None, changed_to: str,
                                          after: str | None) -> None:
    """Changed (not deleted) through the file browser while shared: still the share's grant, so revoking
    puts back what was there before the share; a 'w' held before is not raised back over the owner's
    later choice of 'r'."""
    alice = people["alice"]
    feed = make_feed(alice)
    if prior:
        _grant_folder(api, alice, feed, "user", prior)
    share = _share(api, alice, feed, "user")
    grant = _folder_grant(feed, "user")
    r = put(api, alice, f"/api/v1/filebrowser/userpermissions/{grant.id}/", {"permission": changed_to})
    assert r.status_code == 200, r.content
    assert _folder_grant(feed, "user").permission == changed_to
    assert delete(api, alice, share["url"]).status_code == 204
    grant = _folder_grant(feed, "user")
    assert (grant.permission if grant else None) == after


@pytest.mark.django_db
def test_shares_made_before_the_migration_revoke_as_before(api: Any, people: Any) -> None:
    """Shares that predate the record of the prior grant get their current grant recorded by the migration,
    and revoking them deletes it, as revoking always did."""
    import importlib

    from django.apps import apps

    from feeds.models import FeedGroupPermission, FeedUserPermission

    migration = importlib.import_module("feeds.migrations.0006_share_prior_folder_grant")
    alice = people["alice"]
    feed = make_feed(alice)
    shares = [_share(api, alice, feed, kind) for kind in ("user", "group")]
    FeedUserPermission.objects.update(folder_grant_pk=None, prior_folder_permission=None)
    FeedGroupPermission.objects.update(folder_grant_pk=None, prior_folder_permission=None)
    migration.record_current_grants(apps, None)
    assert FeedUserPermission.objects.get().folder_grant_pk == _folder_grant(feed, "user").id
    assert FeedGroupPermission.objects.get().folder_grant_pk == _folder_grant(feed, "group").id
    for share in shares:
        assert delete(api, alice, share["url"]).status_code == 204
    assert _folder_grant(feed, "user") is None and _folder_grant(feed, "group") is None
