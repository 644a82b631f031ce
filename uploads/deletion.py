"""Asynchronous deletion of a folder tree (202 + deletion_status, as CUBE).

The request only marks the folder (compare-and-set inactive/failed → pending) and enqueues
``delete_folder_task`` once that commits. The task removes the stored objects in bulk (one prefix delete,
not one call per file), then the rows, then sweeps the prefix again for anything an upload wrote in
between, so neither storage nor the registry keeps an orphan. A failure marks the folder 'failed' with
the error; deleting again retries.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cube.storage import get_storage

from .models import (
    ChrisFile,
    ChrisFolder,
    ChrisLinkFile,
    DeletionStatus,
    FileGroupPermission,
    FileUserPermission,
    LinkFileGroupPermission,
    LinkFileUserPermission,
)
from .sharing import links_to_delete

log = logging.getLogger(__name__)
BATCH = 5000


def folder_delete_request(*, folder: ChrisFolder) -> ChrisFolder:
    """Mark the folder for deletion and enqueue the task after commit. Idempotent while pending."""
    from django.conf import settings

    from .tasks import delete_folder_task

    now = timezone.now()
    with transaction.atomic():
        changed = ChrisFolder.objects.filter(
            pk=folder.pk, deletion_status__in=[DeletionStatus.INACTIVE, DeletionStatus.FAILED]).update(
            deletion_status=DeletionStatus.PENDING, deletion_requested_at=now, deletion_error="")
        if changed:
            folder_id = folder.pk
            transaction.on_commit(lambda: delete_folder_task.apply_async(
                args=[folder_id], queue=settings.CUBE_QUEUE_MAIN))
    folder.refresh_from_db()
    return folder


def _tree(path: str) -> Q:
    return Q(path=path) | Q(path__startswith=path + "/")


def _delete_rows_in_batches(model: Any, prefix: str, grant_models: tuple[Any, ...], fk: str) -> None:
    # Bounded memory whatever the tree's size: ids in batches, grant rows by id, then the rows.
    while True:
        ids = list(model.objects.filter(fname__startswith=prefix).values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        with transaction.atomic():
            for grant_model in grant_models:
                grant_model.objects.filter(**{f"{fk}_id__in": ids}).delete()
            model.objects.filter(pk__in=ids).delete()


def folder_delete(*, folder_id: int) -> None:
    """Delete a folder marked pending: its objects, its rows, and the PUBLIC/SHARED links into it."""
    folder = ChrisFolder.objects.filter(pk=folder_id).first()
    if folder is None or folder.deletion_status != DeletionStatus.PENDING:
        return  # already deleted, or the request was withdrawn
    path = folder.path
    storage = get_storage()
    try:
        storage.delete_prefix(path)
        prefix = path + "/"
        _delete_rows_in_batches(ChrisFile, prefix, (FileUserPermission, FileGroupPermission), "file")
        _delete_rows_in_batches(ChrisLinkFile, prefix, (LinkFileUserPermission, LinkFileGroupPermission),
                                "link_file")
        with transaction.atomic():
            link_keys = links_to_delete(path)
            ChrisFolder.objects.filter(_tree(path)).delete()  # few rows: the files went in batches above
        storage.delete_many(link_keys)
        storage.delete_prefix(path)  # anything stored while we deleted (its row, if any, is gone now)
    except Exception as exc:
        log.exception("deleting folder %s failed", path)
        ChrisFolder.objects.filter(pk=folder_id).update(deletion_status=DeletionStatus.FAILED,
                                                        deletion_error=str(exc)[:2000])
        raise
