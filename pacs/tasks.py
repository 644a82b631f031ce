"""Celery tasks of the pacs app: ids in, one service call each."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="pacs.query_task", acks_late=True)
def query_task(query_id: int) -> None:
    from .services.queries import query_run

    query_run(query_id)


@shared_task(name="pacs.retrieve_task", acks_late=True)
def retrieve_task(retrieve_id: int) -> None:
    from .services.retrieves import retrieve_run

    retrieve_run(retrieve_id)


# No automatic retry: a failure is recorded on the series (deletion_status 'failed'); DELETE again retries.
@shared_task(name="pacs.delete_series_task")
def delete_series_task(series_id: int) -> None:
    from .services.series import series_delete_now

    series_delete_now(series_id)
