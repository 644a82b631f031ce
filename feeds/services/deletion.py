"""Asynchronous deletion of runs and feeds: 202 now, rows and stored objects removed by a task, in bulk,
with the failure recorded on the row (deletion_status='failed', deletion_error) instead of lost."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from plugins.models import PluginType
from uploads.models import ChrisFolder, DeletionStatus

from ..models import Feed, PluginInstance
from .instances import descendant_ids, instance_cancel


def delete_tree(path: str) -> None:
    """Every stored object and registry row at or below path (and the PUBLIC/SHARED links into it)."""
    from uploads.deletion import folder_delete

    folder = ChrisFolder.objects.filter(path=path).first()
    if folder is None:
        return
    ChrisFolder.objects.filter(pk=folder.pk).update(deletion_status=DeletionStatus.PENDING)
    folder_delete(folder_id=folder.pk)


def _pending() -> dict[str, Any]:
    return {"deletion_status": DeletionStatus.PENDING, "deletion_requested_at": timezone.now(),
            "deletion_error": ""}


def instance_request_delete(*, instance: PluginInstance) -> None:
    if instance.plugin.meta.type == PluginType.FS:
        raise ValidationError({"detail": "An fs plugin instance is the root of its feed: delete the feed instead."})
    instance_cancel(instance=instance, reason="Deleted by the user.")
    PluginInstance.objects.filter(id__in=descendant_ids(instance)).update(**_pending())
    from ..tasks import delete_instance_task

    transaction.on_commit(lambda: delete_instance_task.apply_async(args=[instance.id],
                                                                   queue=settings.CUBE_QUEUE_MAIN))


def instance_delete_now(instance_id: int) -> None:
    instance = PluginInstance.objects.select_related("output_folder").filter(id=instance_id).first()
    if instance is None:
        return
    try:
        if instance.output_folder:
            delete_tree(instance.output_folder.path.rsplit("/", 1)[0])  # the <plugin>_<id> folder
        instance.delete()  # descendants go with it (previous cascades)
    except Exception as exc:
        PluginInstance.objects.filter(id=instance_id).update(deletion_status=DeletionStatus.FAILED,
                                                            deletion_error=str(exc))
        raise


def feed_request_delete(*, feed: Feed) -> None:
    root = feed.plugin_instances.filter(previous__isnull=True).first()
    if root is not None:
        instance_cancel(instance=root, reason="The feed was deleted.")
    Feed.objects.filter(id=feed.id).update(**_pending())
    from ..tasks import delete_feed_task

    transaction.on_commit(lambda: delete_feed_task.apply_async(args=[feed.id], queue=settings.CUBE_QUEUE_MAIN))


def feed_delete_now(feed_id: int) -> None:
    feed = Feed.objects.select_related("folder").filter(id=feed_id).first()
    if feed is None:
        return
    try:
        if feed.folder:
            delete_tree(feed.folder.path)
        feed.delete()
    except Exception as exc:
        Feed.objects.filter(id=feed_id).update(deletion_status=DeletionStatus.FAILED, deletion_error=str(exc))
        raise
