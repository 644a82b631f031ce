"""Celery: Redis (or any kombu URL) from CELERY_BROKER_URL; without it, kombu's filesystem transport under
var/ so the embedded mode needs no broker service."""

from __future__ import annotations

from .. import env

_broker = env.get("CELERY_BROKER_URL")
if _broker:
    CELERY_BROKER_URL = _broker
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    _queue_dir = env.VAR_DIR / "celery-broker"
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "cubefs://"  # kombu's filesystem transport with atomic writes (cube/broker.py)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),  # kombu's default is ./control in the cwd
        "store_processed": False,
        # How often an idle worker looks for a message: it bounds how soon a job or a PACS retrieve starts
        # (kombu's default, 1 s, would dominate both; 0.1 s was a fifth of a 192-instance retrieve). Three
        # empty-folder listings per poll cost an idle worker well under 1% of a core.
        "polling_interval": float(env.get("CUBE_BROKER_POLL_SECONDS", "0.02")),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.get_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True  # a task a dead worker was running is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queues, named here and nowhere else (ARCHITECTURE: "Queues are named in settings").
CUBE_QUEUE_MAIN = "main"          # short tasks: deletions, registrations, PACS queries
CUBE_QUEUE_JOBS = "jobs"          # running and watching plugin jobs
CUBE_QUEUE_PERIODIC = "periodic"  # beat's reconcilers
CELERY_TASK_DEFAULT_QUEUE = CUBE_QUEUE_MAIN
CUBE_POLL_INTERVAL = float(env.get("CUBE_CELERY_POLL_INTERVAL", "5"))
CELERY_BEAT_SCHEDULE = {
    "reconcile-jobs": {
        "task": "feeds.reconcile_jobs_task",
        "schedule": CUBE_POLL_INTERVAL,
        "options": {"queue": CUBE_QUEUE_PERIODIC, "expires": CUBE_POLL_INTERVAL * 2},
    },
}
