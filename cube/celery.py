"""The Celery application; configuration comes from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

from .broker import register as register_embedded_broker

register_embedded_broker()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cube.settings")

app = Celery("cube")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
