"""Deleting a registered series (202 now, the work in a task, as CUBE): its stored instances, their registry
rows and its index row. A failure is recorded on the row (deletion_status 'failed', deletion_error)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from uploads.models import ChrisFolder, DeletionStatus

from ..models import PACSSeries


def series_delete_request(*, series: PACSSeries) -> PACSSeries:
    from ..tasks import delete_series_task

    with transaction.atomic():
        changed = PACSSeries.objects.filter(
            pk=series.pk, deletion_status__in=[DeletionStatus.INACTIVE, DeletionStatus.FAILED]).update(
            deletion_status=DeletionStatus.PENDING, deletion_requested_at=timezone.now(), deletion_error="")
        if changed:
            series_id = series.pk
            transaction.on_commit(lambda: delete_series_task.apply_async(args=[series_id],
                                                                         queue=settings.CUBE_QUEUE_MAIN))
    series.refresh_from_db()
    return series


def series_delete_now(series_id: int) -> None:
    from uploads.deletion import folder_delete

    series = PACSSeries.objects.filter(pk=series_id, deletion_status=DeletionStatus.PENDING).first()
    if series is None:
        return
    try:
        ChrisFolder.objects.filter(pk=series.folder_id).update(deletion_status=DeletionStatus.PENDING)
        folder_delete(folder_id=series.folder_id)  # the folder's rows cascade to the series row
        PACSSeries.objects.filter(pk=series_id).delete()
    except Exception as exc:
        PACSSeries.objects.filter(pk=series_id).update(deletion_status=DeletionStatus.FAILED,
                                                       deletion_error=str(exc)[:2000])
        raise
