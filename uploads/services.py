"""Services that change the file registry: folders, stored files, link files.

Storage and database must agree: a file row exists only once its object is fully stored, and an object
whose row could not be written is deleted again (no orphans either way).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cube.core import rows as db_rows
from cube.storage import get_storage

from .models import ChrisFile, ChrisFolder, ChrisLinkFile
from .paths import LINK_SUFFIX, SYSTEM_ROOTS, ancestors, parent_of

log = logging.getLogger(__name__)


def superuser() -> Any:
    return get_user_model().objects.get(username=settings.CUBE_SUPERUSER)


def _owner_for(path: str, owner: Any, system_owner: Any) -> Any:
    # System roots and the root itself always belong to the superuser, whoever caused their creation.
    return system_owner if path == "" or path in SYSTEM_ROOTS else owner


def folder_get_or_create(*, path: str, owner: Any) -> ChrisFolder:
    """The folder at path, creating it and every missing ancestor (owned by ``owner``) if needed.

    Safe against concurrent creation of the same folders (parallel uploads into one new folder).
    """
    existing = ChrisFolder.objects.filter(path=path).first()
    if existing is not None:
        return existing
    chain = ["", *ancestors(path), path] if path else [""]
    found = {f.path: f for f in ChrisFolder.objects.filter(path__in=chain)}
    system_owner = None
    parent: ChrisFolder | None = None
    for p in chain:
        folder = found.get(p)
        if folder is None:
            if system_owner is None:
                system_owner = superuser()
            folder = _create_folder_race_safe(p, parent, _owner_for(p, owner, system_owner))
        parent = folder
    assert parent is not None
    return parent


def _create_folder_race_safe(path: str, parent: ChrisFolder | None, owner: Any) -> ChrisFolder:
    try:
        with transaction.atomic():
            return ChrisFolder.objects.create(path=path, parent=parent, owner=owner)
    except IntegrityError:
        # Another request created it between our read and our insert: use theirs.
        return ChrisFolder.objects.get(path=path)


def file_store(*, owner: Any, path: str, chunks: Iterable[bytes], public: bool = False) -> ChrisFile:
    """Stream bytes into storage at path and register the file. Raises FileExistsError if taken."""
    # One query answers both "is path a folder?" and "does its folder exist?" (the common case: yes).
    parent_path = parent_of(path)
    folders = {f.path: f for f in ChrisFolder.objects.filter(path__in=[path, parent_path])}
    if path in folders:
        raise FileExistsError(path)
    return file_store_in(folder=folders.get(parent_path), owner=owner, path=path, chunks=chunks, public=public)


def file_store_in(*, folder: ChrisFolder | None, owner: Any, path: str, chunks: Iterable[bytes],
                  public: bool = False) -> ChrisFile:
    """file_store for a caller that has already looked up path's folder (None: create it) and knows that
    path is not a folder (an upload learns both while checking permissions)."""
    if db_rows.exists(ChrisFile, "fname", path):
        raise FileExistsError(path)
    if folder is None:
        folder = folder_get_or_create(path=parent_of(path), owner=owner)
    storage = get_storage()
    stored = storage.save(path, chunks)
    try:
        # db_rows.insert: the ORM's create() compiles an INSERT per upload (a tenth of the request).
        return db_rows.insert(ChrisFile(fname=path, size=stored.size, md5=stored.md5, parent_folder=folder,
                                        owner=owner, public=public))
    except IntegrityError:
        # Someone registered the same path while our bytes streamed: theirs wins, ours must not linger.
        # (Both wrote the same key; the object now holds whichever finished last, so re-check size.)
        log.warning("concurrent upload to %s; keeping the first registration", path)
        raise FileExistsError(path) from None
    except BaseException:
        storage.delete(path)
        raise


def folders_ensure(*, paths: Iterable[str], owner: Any) -> dict[str, ChrisFolder]:
    """Every folder in paths (and their ancestors), creating the missing ones level by level: a couple of
    queries per depth, however many folders (registering 10,000 outputs in 100 folders is not 200 queries)."""
    wanted: set[str] = {""}
    for path in paths:
        wanted.add(path)
        wanted.update(ancestors(path))
    found = {f.path: f for f in ChrisFolder.objects.filter(path__in=wanted)}
    missing = sorted(wanted - set(found), key=lambda p: (p.count("/"), p))
    system_owner = superuser() if any(p == "" or p in SYSTEM_ROOTS for p in missing) else None
    by_depth: dict[int, list[str]] = {}
    for path in missing:
        by_depth.setdefault(0 if path == "" else path.count("/") + 1, []).append(path)
    for depth in sorted(by_depth):
        level = by_depth[depth]
        rows = [ChrisFolder(path=p, parent=found.get(parent_of(p)) if p else None,
                            owner=_owner_for(p, owner, system_owner)) for p in level]
        # ignore_conflicts: a concurrent request may create some of them first; we read back either way.
        ChrisFolder.objects.bulk_create(rows, ignore_conflicts=True)
        found.update({f.path: f for f in ChrisFolder.objects.filter(path__in=level)})
    return found


def files_register(*, owner: Any, objects: Sequence[tuple[str, int, str]]) -> int:
    """Register many already-stored objects (key, size, md5) in bulk: a few queries per folder depth plus
    one insert per thousand files. Returns how many rows were created."""
    if not objects:
        return 0
    folders = folders_ensure(paths={parent_of(key) for key, _, _ in objects}, owner=owner)
    now = timezone.now()
    rows = [(key, size, md5, folders[parent_of(key)].pk, owner.pk, False, now) for key, size, md5 in objects]
    with transaction.atomic():
        _insert_files(rows)
    return len(rows)


def _insert_files(rows: list[tuple[Any, ...]]) -> None:
    """INSERT file rows directly: for thousands of job outputs, Django's bulk_create spends more time
    preparing each value than the database spends storing it. Same columns, same transaction."""
    table = connection.ops.quote_name(ChrisFile._meta.db_table)
    columns = "fname, size, md5, parent_folder_id, owner_id, public, creation_date"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            execute_values(cursor.cursor, f"INSERT INTO {table} ({columns}) VALUES %s", rows,  # noqa: S608
                           page_size=1000)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                               rows)


def link_file_create(*, owner: Any, fname: str, target: str, public: bool = False) -> ChrisLinkFile:
    """Create ``fname`` (ending in .chrislink) pointing at ``target``; idempotent for the same target."""
    if not fname.endswith(LINK_SUFFIX):
        raise ValueError(f"a link file name must end with {LINK_SUFFIX}")
    existing = ChrisLinkFile.objects.filter(fname=fname).first()
    if existing is not None:
        return existing
    folder = folder_get_or_create(path=parent_of(fname), owner=owner)
    storage = get_storage()
    storage.save(fname, [target.encode()])
    try:
        with transaction.atomic():
            return ChrisLinkFile.objects.create(fname=fname, path=target, parent_folder=folder, owner=owner,
                                                public=public)
    except IntegrityError:
        return ChrisLinkFile.objects.get(fname=fname)


# --- creating, moving and deleting single objects (the API's writes; access is checked by the caller) ---


def folder_create(*, owner: Any, path: str) -> ChrisFolder:
    """A new folder (and any missing ancestors); FileExistsError if a folder or file is already there."""
    if ChrisFolder.objects.filter(path=path).exists() or ChrisFile.objects.filter(fname=path).exists():
        raise FileExistsError(path)
    return folder_get_or_create(path=path, owner=owner)


def _taken(path: str) -> bool:
    return (ChrisFile.objects.filter(fname=path).exists() or ChrisFolder.objects.filter(path=path).exists()
            or ChrisLinkFile.objects.filter(fname=path).exists())


def file_move(*, file: ChrisFile | ChrisLinkFile, new_path: str) -> ChrisFile | ChrisLinkFile:
    """Rename a file or link file in storage and in the registry; FileExistsError if new_path is taken.
    Links in PUBLIC/ and SHARED/ that point at the file follow it."""
    from .sharing import links_retarget

    old_path = file.fname
    if new_path == old_path:
        return file
    if _taken(new_path):
        raise FileExistsError(new_path)
    folder = folder_get_or_create(path=parent_of(new_path), owner=file.owner)
    storage = get_storage()
    storage.move(old_path, new_path)
    try:
        with transaction.atomic():
            type(file).objects.filter(pk=file.pk).update(fname=new_path, parent_folder=folder)
            links_retarget(old_path, new_path)
    except BaseException:
        storage.move(new_path, old_path)  # put the bytes back where the row still says they are
        raise
    file.fname, file.parent_folder = new_path, folder
    return file


def file_set_public(*, file: ChrisFile | ChrisLinkFile, public: bool) -> ChrisFile | ChrisLinkFile:
    from .sharing import public_link_sync

    with transaction.atomic():
        type(file).objects.filter(pk=file.pk).update(public=public)
        file.public = public
        public_link_sync(file, public)
    return file


def file_delete(*, file: ChrisFile | ChrisLinkFile) -> None:
    """Delete the row (and the PUBLIC/SHARED links to it), then the object. A failure between the two leaves
    an unregistered object, which a later delete of its folder removes, never a row without bytes."""
    from .sharing import links_to_delete

    with transaction.atomic():
        keys = links_to_delete(file.fname)
        type(file).objects.filter(pk=file.pk).delete()
    storage = get_storage()
    storage.delete_many([file.fname, *keys])


def folder_set_public(*, folder: ChrisFolder, public: bool) -> ChrisFolder:
    """Publish or unpublish a folder: everything beneath it follows (access is computed from ancestors)."""
    from .sharing import public_link_sync

    with transaction.atomic():
        ChrisFolder.objects.filter(pk=folder.pk).update(public=public)
        folder.public = public
        public_link_sync(folder, public)
    return folder


def folder_move(*, folder: ChrisFolder, new_path: str) -> ChrisFolder:
    """Move a folder and its whole tree: one prefix move in storage, one UPDATE per table in the registry."""
    from django.db.models import Value
    from django.db.models.functions import Concat, Substr

    from .sharing import links_retarget

    old = folder.path
    if new_path == old:
        return folder
    if new_path.startswith(old + "/"):
        raise ValueError(f"cannot move '{old}' into its own sub-folder '{new_path}'")
    if _taken(new_path):
        raise FileExistsError(new_path)
    parent = folder_get_or_create(path=parent_of(new_path), owner=folder.owner)
    storage = get_storage()
    storage.move_prefix(old, new_path)
    tail = Substr("path", len(old) + 1)  # "/rest" of a descendant's path (SQL strings count from 1)
    ftail = Substr("fname", len(old) + 1)
    try:
        with transaction.atomic():
            ChrisFolder.objects.filter(path__startswith=old + "/").update(path=Concat(Value(new_path), tail))
            ChrisFolder.objects.filter(pk=folder.pk).update(path=new_path, parent=parent)
            ChrisFile.objects.filter(fname__startswith=old + "/").update(fname=Concat(Value(new_path), ftail))
            ChrisLinkFile.objects.filter(fname__startswith=old + "/").update(
                fname=Concat(Value(new_path), ftail))
            links_retarget(old, new_path)
    except BaseException:
        storage.move_prefix(new_path, old)
        raise
    folder.path, folder.parent = new_path, parent
    return folder
