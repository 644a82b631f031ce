"""A real Celery worker (threads, in-memory broker) and a live HTTP server for the feeds tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def use_broker(url: str) -> None:
    """Point the test process's Celery app at a broker, dropping pools that still hold the old one."""
    from cube.celery import app

    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app._pool = None  # not closed: kombu shares pools per connection URL, a later test may reuse it
    app.amqp._producer_pool = None


@pytest.fixture
def worker(transactional_db: Any, settings: Any, tmp_path: Any) -> Iterator[None]:
    from celery.contrib.testing.worker import start_worker

    from cube.celery import app

    settings.CUBE_JOBS_DIR = str(tmp_path / "jobs")
    settings.CUBE_RUNNERS = {**settings.CUBE_RUNNERS, "local": {
        "BACKEND": "cube.runners.local.LocalRunner", "OPTIONS": {"state_dir": str(tmp_path / "jobs" / "state")}}}
    use_broker("memory://")
    with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False, loglevel="WARNING",
                      queues=["main", "jobs", "periodic"], shutdown_timeout=30):
        yield


@pytest.fixture
def server(worker: Any, live_server: Any, storage_root: str) -> Any:
    from django.core.management import call_command

    from cube.core.services import system_setup
    from plugins.services import compute_resource_ensure_default

    system_setup(admin_password="chris1234")
    compute_resource_ensure_default()
    call_command("register_plugins", "--builtins", "--compute-names", "host")
    return live_server
