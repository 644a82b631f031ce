"""Access selectors: every read or write of a folder, file or link file is decided here.

Who may do what (CUBE's semantics, computed instead of materialised):
- the superuser (``chris``) may do everything;
- the owner of an object, or of any folder above it below the system roots (``home/alice`` owns
  everything under it), may read and write it; inside another user's home, owning a row (made there
  through a 'w' grant) gives nothing beyond the grant;
- a user or group grant on the object or on any folder above it gives 'r' or 'w';
- a public flag on the object or on any folder above it gives read to anyone, anonymous included;
- system roots: '' , PUBLIC and PIPELINES can be listed by anyone; home, SHARED and SERVICES by any
  signed-in user; only the superuser writes to them directly.
Each decision is a bounded number of queries (about three), however deep the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from rest_framework.exceptions import PermissionDenied, ValidationError

from cube.api.permissions import is_superuser
from cube.core import rows

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
)
from .paths import PathError, ancestors, check_user_path, inheriting, parent_of

READ, WRITE = "r", "w"
_RANK = {None: 0, READ: 1, WRITE: 2}
ANON_ROOTS = {"", "PUBLIC", "PIPELINES"}
USER_ROOTS = {"home", "SHARED", "SERVICES"}


def _best(*levels: str | None) -> str | None:
    return max(levels, key=lambda lvl: _RANK[lvl])


def grantee_by_name(kind: str, name: str) -> Any:
    """The user (kind 'user', by username) or group (by name) that a grant or a feed share names; a 400
    saying so when there is none."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    if kind == "user":
        found = get_user_model().objects.filter(username=name).first()
        missing = f"Couldn't find any user with username '{name}'."
    else:
        found = Group.objects.filter(name=name).first()
        missing = f"Couldn't find any group with name '{name}'."
    if found is None:
        raise ValidationError([missing])
    return found


def user_group_ids(user: Any) -> list[int]:
    """The user's group ids, read once per request (the user object lives as long as the request)."""
    cached = getattr(user, "_cube_group_ids", None)
    if cached is None:
        cached = list(user.groups.values_list("id", flat=True))
        user._cube_group_ids = cached
    return cached


def _owns(user: Any, owner_id: int | None, path: str) -> bool:
    """Whether owning the row at ``path`` gives the user its owner's rights. Not inside another user's
    home: what a grantee creates there stays theirs by name only, or they could publish and re-share it
    (a 'w' grant allows neither) and would keep it, and whatever is put in it later, after the grant is
    revoked. There the home's owner and the grants decide."""
    if not (user.is_authenticated and owner_id == user.id):
        return False
    parts = path.split("/", 2)
    return not (parts[0] == "home" and len(parts) > 1 and parts[1] != user.username)


def _inherited_level(user: Any, path: str) -> str | None:
    """The access that folders at or above ``path`` (below the system roots) give the user."""
    chain = inheriting(path)
    if not chain:
        return None
    level: str | None = None
    folder_rows = ChrisFolder.objects.filter(path__in=chain).values_list("path", "owner_id", "public")
    for folder_path, owner_id, public in folder_rows:
        if _owns(user, owner_id, folder_path):
            return WRITE
        if public:
            level = READ
    if user.is_authenticated:
        grants = FolderUserPermission.objects.filter(folder__path__in=chain, user=user).values_list(
            "permission", flat=True)
        group_grants = FolderGroupPermission.objects.filter(
            folder__path__in=chain, group_id__in=user_group_ids(user)).values_list("permission", flat=True)
        level = _best(level, *grants, *group_grants)
    return level


def folder_level(user: Any, folder: ChrisFolder) -> str | None:
    if is_superuser(user):
        return WRITE
    if folder.path in ANON_ROOTS:
        return READ
    if folder.path in USER_ROOTS:
        return READ if user.is_authenticated else None
    return _inherited_level(user, folder.path)


def _own_grants(user: Any, obj: Any, user_model: Any, group_model: Any, fk: str) -> str | None:
    if not user.is_authenticated:
        return None
    levels = list(user_model.objects.filter(**{fk: obj, "user": user}).values_list("permission", flat=True))
    levels += list(group_model.objects.filter(**{fk: obj, "group_id__in": user_group_ids(user)})
                   .values_list("permission", flat=True))
    return _best(None, *levels)


def file_level(user: Any, file: ChrisFile | ChrisLinkFile) -> str | None:
    if is_superuser(user):
        return WRITE
    if _owns(user, file.owner_id, file.fname):
        return WRITE
    if isinstance(file, ChrisLinkFile):
        own = _own_grants(user, file, LinkFileUserPermission, LinkFileGroupPermission, "link_file")
    else:
        own = _own_grants(user, file, FileUserPermission, FileGroupPermission, "file")
    parent = file.fname.rsplit("/", 1)[0] if "/" in file.fname else ""
    return _best(READ if file.public else None, own, _inherited_level(user, parent))


def _require(level: str | None, needed: str, found: bool = True) -> None:
    if _RANK[level] >= _RANK[needed]:
        return
    if level is None:
        raise Http404("Not found.")  # do not reveal that something exists to those who may not see it
    raise PermissionDenied("You do not have permission to change this.")


def _get_or_404(model: Any, field: str, value: Any) -> Any:
    try:
        key = int(value) if field == "pk" else value
    except (TypeError, ValueError):
        raise Http404("Not found.") from None
    # The lookup every file request makes: without the ORM's query compilation (cube.core.rows).
    found = rows.get_one(model, field, key, related="owner")
    if found is None:
        raise Http404("Not found.")
    return found


def access_folder_by_id(user: Any, folder_id: Any, needed: str = READ) -> ChrisFolder:
    folder = _get_or_404(ChrisFolder, "pk", folder_id)
    _require(folder_level(user, folder), needed)
    return folder


def access_folder_by_path(user: Any, path: str, needed: str = READ) -> ChrisFolder:
    folder = _get_or_404(ChrisFolder, "path", path)
    _require(folder_level(user, folder), needed)
    return folder


def access_file_by_id(user: Any, file_id: Any, needed: str = READ) -> ChrisFile:
    file = _get_or_404(ChrisFile, "pk", file_id)
    _require(file_level(user, file), needed)
    return file


def access_link_file_by_id(user: Any, link_id: Any, needed: str = READ) -> ChrisLinkFile:
    link = _get_or_404(ChrisLinkFile, "pk", link_id)
    _require(file_level(user, link), needed)
    return link


def can_read_path(user: Any, path: str) -> bool:
    """Whether ``path`` (a folder, a file or a link file) exists and the user may read it."""
    folder = ChrisFolder.objects.filter(path=path).first()
    if folder is not None:
        return folder_level(user, folder) is not None
    obj: ChrisFile | ChrisLinkFile | None = ChrisFile.objects.filter(fname=path).first()
    if obj is None:
        obj = ChrisLinkFile.objects.filter(fname=path).first()
    return obj is not None and file_level(user, obj) is not None


def _visible(user: Any, qs: QuerySet, prefix: str = "") -> QuerySet:
    """Rows of qs the user may see on their own account (for listings inside system roots)."""
    if is_superuser(user):
        return qs
    cond = Q(**{f"{prefix}public": True})
    if user.is_authenticated:
        groups = user_group_ids(user)
        cond |= Q(**{f"{prefix}owner": user})
        cond |= Q(**{f"{prefix}user_permissions__user": user})
        cond |= Q(**{f"{prefix}group_permissions__group_id__in": groups})
    return qs.filter(cond).distinct()


def _inside_system_root(folder: ChrisFolder) -> bool:
    return folder.path in ANON_ROOTS or folder.path in USER_ROOTS


def visible_children(user: Any, folder: ChrisFolder) -> QuerySet:
    """Sub-folders of a folder the user can read (caller has checked the folder itself)."""
    qs = ChrisFolder.objects.filter(parent=folder).select_related("owner").order_by("path")
    return _visible(user, qs) if _inside_system_root(folder) else qs


def visible_files(user: Any, folder: ChrisFolder) -> QuerySet:
    qs = ChrisFile.objects.filter(parent_folder=folder).select_related("owner").order_by("id")
    return _visible(user, qs) if _inside_system_root(folder) else qs


def visible_link_files(user: Any, folder: ChrisFolder) -> QuerySet:
    qs = ChrisLinkFile.objects.filter(parent_folder=folder).select_related("owner").order_by("id")
    return _visible(user, qs) if _inside_system_root(folder) else qs


# --- writes: where a user may create, and who may administer (public flag, grants) ---


def check_create_path(user: Any, path: str) -> str:
    """The cleaned path if ``user`` may create a file or folder there, else PathError saying why.

    As CUBE: the path must be under home/, and the nearest folder that already exists above it must give
    the user write access (their own home, or a 'w' grant); missing folders are then created. Nothing
    may be created in a tree that is being deleted.
    """
    return creation_target(user, path).path


@dataclass(frozen=True)
class Target:
    path: str  # cleaned
    folder: ChrisFolder | None  # the folder it goes in, if that exists already
    is_folder: bool  # a folder is already at path


def creation_target(user: Any, path: str) -> Target:
    """check_create_path, plus what an upload needs to know next (its folder, and whether a folder is
    there already), from the same single query."""
    p = check_user_path(path)
    if p != "home" and not p.startswith("home/"):
        raise PathError(f"'{p}': files and folders can only be created under home/")
    chain = ["", *ancestors(p)]
    found = {f.path: f for f in rows.get_in(ChrisFolder, "path", [*chain, p])}
    if any(row.deletion_status != "inactive" for row in found.values()):
        raise PathError(f"'{p}': a folder above it is being deleted")
    if len(found) < len(chain):  # some folder above is missing: a file may be in its place (was a 500)
        above = [a for a in chain[1:] if a not in found]
        blocking = (ChrisFile.objects.filter(fname__in=above).values_list("fname", flat=True).first()
                    or ChrisLinkFile.objects.filter(fname__in=above).values_list("fname", flat=True).first())
        if blocking:
            raise PathError(f"'{p}': '{blocking}' above it is a file, not a folder")
    nearest = next(a for a in reversed(chain) if a in found)
    target = Target(p, found.get(parent_of(p)), p in found)
    if is_superuser(user):
        return target
    if any(_owns(user, found[a].owner_id, a) for a in inheriting(nearest) if a in found):
        return target
    if nearest in ANON_ROOTS or nearest in USER_ROOTS or _inherited_level(user, nearest) != WRITE:
        raise PathError(f"'{p}': you do not have write permission on '{nearest or '/'}'")
    return target


def can_administer(user: Any, obj: ChrisFolder | ChrisFile | ChrisLinkFile) -> bool:
    """Whether user may change obj's public flag and grants: the superuser, its owner, or the owner of a
    folder above it (below the system roots). A 'w' grant lets one write, not re-share."""
    if is_superuser(user):
        return True
    if not user.is_authenticated:
        return False
    if _owns(user, obj.owner_id, obj.path if isinstance(obj, ChrisFolder) else obj.fname):
        return True
    path = obj.path if isinstance(obj, ChrisFolder) else parent_of(obj.fname)
    owned = ChrisFolder.objects.filter(path__in=inheriting(path), owner_id=user.id).values_list("path", flat=True)
    return any(_owns(user, user.id, p) for p in owned)


def readable_folder(user: Any, *, folder_id: Any = None, path: str | None = None) -> ChrisFolder | None:
    """The folder if it exists and the user may read it, else None (searches answer empty, not 404)."""
    try:
        if folder_id is not None:
            return access_folder_by_id(user, folder_id)
        return access_folder_by_path(user, path or "")
    except (Http404, PermissionDenied):
        return None


def user_files(user: Any) -> QuerySet:
    """The files a user owns in their home (the superuser: every file under home/), for /userfiles/ and
    /uploadedfiles/. Not those they made in another's home through a grant: owning them there gives
    nothing (_owns), and once the grant is revoked they could not be opened, only listed."""
    qs = ChrisFile.objects.filter(fname__startswith="home/").select_related("owner").order_by("id")
    if is_superuser(user):
        return qs
    return qs.filter(owner=user, fname__startswith=f"home/{user.username}/")


def tree_objects(folder: ChrisFolder) -> tuple[QuerySet, QuerySet]:
    """Every file and link file under a folder, at any depth (for zips and deletions). Only for a folder
    below the system roots: read access to it is read access to all of them."""
    if folder.path in ANON_ROOTS or folder.path in USER_ROOTS:
        raise PermissionDenied("A system folder cannot be handled as one tree.")
    prefix = folder.path + "/"
    return (ChrisFile.objects.filter(fname__startswith=prefix).order_by("fname"),
            ChrisLinkFile.objects.filter(fname__startswith=prefix).order_by("fname"))


def visible_download_tokens(user: Any) -> QuerySet:
    from .models import FileDownloadToken

    qs = FileDownloadToken.objects.select_related("owner")
    return qs if is_superuser(user) else qs.filter(owner=user)
