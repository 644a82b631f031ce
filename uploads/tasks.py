"""Celery tasks of the file registry: ids in, one service call each.

No automatic retry: the storage adapters already retry transient errors, and a folder whose deletion
failed is marked 'failed' with the error, from where a new DELETE request starts it again.
"""

from __future__ import annotations

from celery import shared_task

from . import deletion


@shared_task(name="uploads.delete_folder_task")
def delete_folder_task(folder_id: int) -> None:
    deletion.folder_delete(folder_id=folder_id)
