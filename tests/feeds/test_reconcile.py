"""The reconciler re-sends a scheduled job whose task was lost, once a minute at most, and leaves alone
jobs whose watcher is alive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest


@pytest.mark.django_db
def test_lost_scheduled_job_is_resent_once_per_minute(system: Any, make_user: Any) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from feeds.models import PluginInstance, Status
    from feeds.services.instances import instance_create
    from feeds.services.jobs import reconcile
    from plugins.models import Plugin
    from tests.feeds.conftest import use_broker

    use_broker("memory://")  # nothing consumes: we only count what is re-sent
    call_command("register_plugins", "--builtins", "--compute-names", "host")
    alice = make_user("alice")
    inst = instance_create(user=alice, plugin=Plugin.objects.get(meta__name="pl-dircopy"),
                           data={"dir": "home/alice/uploads"})
    assert inst.status == Status.SCHEDULED
    assert reconcile() == 0  # just scheduled: its task is presumably still queued
    PluginInstance.objects.filter(id=inst.id).update(modification_date=timezone.now() - timedelta(minutes=2))
    assert reconcile() == 1
    assert reconcile() == 0  # claimed: not re-sent again within the minute
    PluginInstance.objects.filter(id=inst.id).update(status=Status.STARTED, heartbeat=timezone.now())
    assert reconcile() == 0  # a live watcher's job is left alone
