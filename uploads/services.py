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
from django.db import IntegrityError, transaction

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
    if ChrisFile.objects.filter(fname=path).exists() or ChrisFolder.objects.filter(path=path).exists():
        raise FileExistsError(path)
    folder = folder_get_or_create(path=parent_of(path), owner=owner)
    storage = get_storage()
    stored = storage.save(path, chunks)
    try:
        with transaction.atomic():
            return ChrisFile.objects.create(fname=path, size=stored.size, md5=stored.md5, parent_folder=folder,
                                            owner=owner, public=public)
    except IntegrityError:
        # Someone registered the same path while our bytes streamed: theirs wins, ours must not linger.
        # (Both wrote the same key; the object now holds whichever finished last, so re-check size.)
        log.warning("concurrent upload to %s; keeping the first registration", path)
        raise FileExistsError(path) from None
    except BaseException:
        storage.delete(path)
        raise


def files_register(*, owner: Any, objects: Sequence[tuple[str, int, str]]) -> int:
    """Register many already-stored objects (key, size, md5) in bulk: one query per distinct new folder
    chain plus one insert per thousand files. Returns how many rows were created."""
    if not objects:
        return 0
    folders: dict[str, ChrisFolder] = {}
    for key, _, _ in objects:
        parent = parent_of(key)
        if parent not in folders:
            folders[parent] = folder_get_or_create(path=parent, owner=owner)
    rows = [ChrisFile(fname=key, size=size, md5=md5, parent_folder=folders[parent_of(key)], owner=owner)
            for key, size, md5 in objects]
    with transaction.atomic():
        ChrisFile.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


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
