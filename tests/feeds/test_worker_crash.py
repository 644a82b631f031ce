"""Killing the worker that follows a job leaves nothing stuck: after a restart the job is picked up and
finishes, or (if its process died too) ends finishedWithError with the reason. Real Celery worker
processes on the machine's Redis, real local-runner jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import in_ci
from tests.feeds.conftest import use_broker

REDIS = os.environ.get("CUBE_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture
def crashable(transactional_db: Any, settings: Any, tmp_path: Any, storage_root: str) -> Any:
    if not redis_up():
        if in_ci():
            pytest.fail(f"Redis is required at {REDIS}")
        pytest.skip(f"no Redis at {REDIS}")
    import redis
    from django.db import connection

    redis.Redis.from_url(REDIS).flushdb()
    jobs = tmp_path / "jobs"
    settings.CUBE_JOBS_DIR = str(jobs)
    settings.CUBE_RUNNERS = {**settings.CUBE_RUNNERS, "local": {
        "BACKEND": "cube.runners.local.LocalRunner", "OPTIONS": {"state_dir": str(jobs / "state")}}}
    use_broker(REDIS)
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        db_url = f"sqlite:///{db['NAME']}"
    else:
        db_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": REDIS, "CUBE_JOBS_DIR": str(jobs),
           "STORAGE_ROOT": storage_root, "CUBE_VAR_DIR": str(tmp_path / "var")}
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        p = subprocess.Popen([sys.executable, "-m", "celery", "-A", "cube", "worker", "-Q", "main,jobs,periodic",
                              "-c", "2", "-P", "threads", "--loglevel", "WARNING"], env=env,
                             cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
                             start_new_session=True)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    use_broker("memory://")


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _run_sleeper(seconds: str) -> Any:
    from django.contrib.auth.models import User

    from cube.core.services import system_setup
    from feeds.services.instances import instance_create
    from plugins.builtin import descriptor
    from plugins.models import Plugin
    from plugins.services import compute_resource_ensure_default, plugin_register

    system_setup(admin_password="chris1234")
    compute_resource_ensure_default()
    for name in ("pl-dircopy", "pl-simpledsapp"):
        plugin_register(descriptor=descriptor(name), compute_names=["host"], existing_ok=True)
    admin = User.objects.get(username="chris")
    fs = instance_create(user=admin, plugin=Plugin.objects.get(meta__name="pl-dircopy"),
                         data={"dir": "home/chris/uploads"})
    from feeds.models import PluginInstance

    _wait(lambda: PluginInstance.objects.get(id=fs.id).status == "finishedSuccessfully", 30, "the fs run")
    return instance_create(user=admin, plugin=Plugin.objects.get(meta__name="pl-simpledsapp"),
                           data={"previous_id": fs.id, "sleepLength": seconds})


def _start_then_kill_worker(crashable: Any, sleep_seconds: str) -> Any:
    """A worker process starts a sleeping run; the worker is SIGKILLed once the run has started."""
    from feeds.models import PluginInstance

    worker = crashable()
    ds = _run_sleeper(sleep_seconds)
    _wait(lambda: PluginInstance.objects.get(id=ds.id).status == "started", 30, "the job to start")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    return ds


def _age_heartbeat(instance_id: int) -> None:
    from django.utils import timezone

    from feeds.models import PluginInstance

    # What 20 s without a heartbeat looks like, without the test waiting 20 s.
    PluginInstance.objects.filter(id=instance_id).update(heartbeat=timezone.now() - timedelta(minutes=5))


@pytest.mark.django_db(transaction=True)
def test_job_survives_its_worker_being_killed(crashable: Any) -> None:
    from feeds.models import PluginInstance
    from feeds.services.jobs import reconcile

    ds = _start_then_kill_worker(crashable, "4")
    _age_heartbeat(ds.id)
    crashable()
    assert reconcile() == 1
    _wait(lambda: PluginInstance.objects.get(id=ds.id).status == "finishedSuccessfully", 40, "the job to finish")


@pytest.mark.django_db(transaction=True)
def test_job_whose_process_died_with_the_worker_ends_with_a_reason(crashable: Any) -> None:
    from feeds.models import PluginInstance
    from feeds.services.jobs import job_id, reconcile

    ds = _start_then_kill_worker(crashable, "60")
    # The machine "crashed": the job's own process group dies too.
    from django.conf import settings

    state = os.path.join(settings.CUBE_JOBS_DIR, "state", job_id(ds))
    for name in os.listdir(state):
        if name.endswith("pid"):
            pid = int(open(os.path.join(state, name)).read().split()[0])
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _age_heartbeat(ds.id)
    crashable()
    assert reconcile() == 1
    _wait(lambda: PluginInstance.objects.get(id=ds.id).status == "finishedWithError", 40, "the job to fail")
    inst = PluginInstance.objects.get(id=ds.id)
    assert inst.status_message, "a failed job must say why"
