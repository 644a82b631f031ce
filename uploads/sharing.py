"""Sharing: user/group grants on folders, files and link files, and the PUBLIC/ and SHARED/ entry points.

As CUBE (§5.2): making something public creates ``PUBLIC/<path with '/' as '_'>.chrislink`` pointing at it;
sharing it creates ``SHARED/<same>.chrislink``, readable by every grantee. A grant itself is one row on
the object: access below a folder is computed from its ancestors (selectors.py), so granting or revoking
never rewrites a tree. Unlike CUBE, deleting or moving the target deletes or follows its links, so
PUBLIC/ and SHARED/ never hold dangling entries.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr

from cube.storage import get_storage

from .models import (
    ChrisFile,
    ChrisFolder,
    ChrisLinkFile,
    FileGroupPermission,
    FileUserPermission,
    FolderGroupPermission,
    FolderUserPermission,
    LinkFileGroupPermission,
    LinkFileUserPermission,
    Permission,
)
from .paths import LINK_SUFFIX
from .services import link_file_create

Shareable = ChrisFolder | ChrisFile | ChrisLinkFile
ENTRY_ROOTS = ("PUBLIC", "SHARED")


def target_path(obj: Shareable) -> str:
    return obj.path if isinstance(obj, ChrisFolder) else obj.fname


def entry_link_name(root: str, path: str) -> str:
    return f"{root}/{path.replace('/', '_')}{LINK_SUFFIX}"


def _entry_links() -> Q:
    return Q(fname__startswith="PUBLIC/") | Q(fname__startswith="SHARED/")


def _entry_link(root: str, obj: Shareable, *, create: bool) -> ChrisLinkFile | None:
    path = target_path(obj)
    name = entry_link_name(root, path)
    link = ChrisLinkFile.objects.filter(fname=name).first()
    if link is not None and link.path != path:
        # 'a/b_c' and 'a_b/c' flatten to one name: the second target gets a name of its own.
        name = f"{name[:-len(LINK_SUFFIX)]}-{obj.pk}{LINK_SUFFIX}"
        link = ChrisLinkFile.objects.filter(fname=name).first()
    if link is None and create:
        link = link_file_create(owner=obj.owner, fname=name, target=path, public=(root == "PUBLIC"))
    return link


def public_link_sync(obj: Shareable, public: bool) -> None:
    """Create or remove obj's PUBLIC/ link to match its public flag."""
    if public:
        _entry_link("PUBLIC", obj, create=True)
        return
    link = _entry_link("PUBLIC", obj, create=False)
    if link is not None:
        _delete_links([link])


def _delete_links(links: list[ChrisLinkFile]) -> None:
    keys = [link.fname for link in links]
    ChrisLinkFile.objects.filter(pk__in=[link.pk for link in links]).delete()
    transaction.on_commit(lambda: get_storage().delete_many(keys))


def links_to_delete(path: str) -> list[str]:
    """Delete the PUBLIC/ and SHARED/ link rows that point at path or inside it; returns their storage keys
    for the caller to delete once its own rows are gone."""
    links = list(ChrisLinkFile.objects.filter(_entry_links()).filter(
        Q(path=path) | Q(path__startswith=path + "/")).values_list("pk", "fname"))
    ChrisLinkFile.objects.filter(pk__in=[pk for pk, _ in links]).delete()
    return [fname for _, fname in links]


def links_retarget(old: str, new: str) -> None:
    """Point every link at old (or inside it) at the same place under new, bytes included."""
    qs = ChrisLinkFile.objects.filter(Q(path=old) | Q(path__startswith=old + "/"))
    ids = list(qs.values_list("pk", flat=True))
    if not ids:
        return
    ChrisLinkFile.objects.filter(pk__in=ids).update(path=Concat(Value(new), Substr("path", len(old) + 1)))
    moved = list(ChrisLinkFile.objects.filter(pk__in=ids).values_list("fname", "path"))

    def rewrite() -> None:
        storage = get_storage()
        for fname, target in moved:
            storage.save(fname, [target.encode()])

    transaction.on_commit(rewrite)


# --- grants ---

GRANT_MODELS: dict[tuple[type, str], tuple[Any, str]] = {
    (ChrisFolder, "user"): (FolderUserPermission, "folder"),
    (ChrisFolder, "group"): (FolderGroupPermission, "folder"),
    (ChrisFile, "user"): (FileUserPermission, "file"),
    (ChrisFile, "group"): (FileGroupPermission, "file"),
    (ChrisLinkFile, "user"): (LinkFileUserPermission, "link_file"),
    (ChrisLinkFile, "group"): (LinkFileGroupPermission, "link_file"),
}


class GrantExistsError(Exception):
    """The grantee already holds a grant on this object (change it with PUT instead)."""


def grant_create(*, obj: Shareable, permission: str, user: Any = None, group: Any = None) -> Any:
    """Grant 'r' or 'w' on obj to a user or a group, and give the grantee read on obj's SHARED/ link."""
    kind = "user" if user is not None else "group"
    model, fk = GRANT_MODELS[(type(obj), kind)]
    grantee = user if user is not None else group
    with transaction.atomic():
        try:
            with transaction.atomic():
                grant = model.objects.create(**{fk: obj, kind: grantee, "permission": Permission(permission)})
        except IntegrityError:
            raise GrantExistsError() from None
        if not _is_entry_link(obj):
            link = _entry_link("SHARED", obj, create=True)
            assert link is not None
            link_model, link_fk = GRANT_MODELS[(ChrisLinkFile, kind)]
            link_model.objects.get_or_create(**{link_fk: link, kind: grantee},
                                             defaults={"permission": Permission.READ})
    return grant


def grant_update(*, grant: Any, permission: str) -> Any:
    type(grant).objects.filter(pk=grant.pk).update(permission=Permission(permission))
    grant.permission = permission
    return grant


def grant_delete(*, grant: Any) -> None:
    """Revoke a grant; the grantee loses the SHARED/ link too, and the link goes once nobody holds one."""
    obj = grant.folder if hasattr(grant, "folder") else grant.file if hasattr(grant, "file") else grant.link_file
    kind = "user" if hasattr(grant, "user_id") else "group"
    grantee_id = grant.user_id if kind == "user" else grant.group_id
    with transaction.atomic():
        type(grant).objects.filter(pk=grant.pk).delete()
        if _is_entry_link(obj):
            return
        link = _entry_link("SHARED", obj, create=False)
        if link is None:
            return
        link_model, link_fk = GRANT_MODELS[(ChrisLinkFile, kind)]
        link_model.objects.filter(**{link_fk: link, f"{kind}_id": grantee_id}).delete()
        if not (LinkFileUserPermission.objects.filter(link_file=link).exists()
                or LinkFileGroupPermission.objects.filter(link_file=link).exists()):
            _delete_links([link])


def _is_entry_link(obj: Shareable) -> bool:
    # Sharing a SHARED/ or PUBLIC/ entry point again would only create links to links.
    return isinstance(obj, ChrisLinkFile) and obj.fname.split("/", 1)[0] in ENTRY_ROOTS
