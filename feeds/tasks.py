"""Celery tasks: ids in, one service call each."""

from __future__ import annotations

from celery import shared_task

from .services import jobs


@shared_task(name="feeds.run_job_task", acks_late=True)
def run_job_task(instance_id: int) -> None:
    jobs.run_job(instance_id)


@shared_task(name="feeds.reconcile_jobs_task")
def reconcile_jobs_task() -> int:
    return jobs.reconcile()


@shared_task(name="feeds.delete_instance_task", autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def delete_instance_task(instance_id: int) -> None:
    from .services.deletion import instance_delete_now

    instance_delete_now(instance_id)


@shared_task(name="feeds.delete_feed_task", autoretry_for=(Exception,), max_retries=3, retry_backoff=True)
def delete_feed_task(feed_id: int) -> None:
    from .services.deletion import feed_delete_now

    feed_delete_now(feed_id)
