"""The cube project package: settings, URLs, the Celery app, users and authentication, and the shared
machinery (API rendering, storage and runner adapters)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
