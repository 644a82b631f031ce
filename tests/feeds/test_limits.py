"""Resource limits of a run: one core and 1 GiB by default, within the plugin's range; explicit values
are checked against that range."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.exceptions import ValidationError


@pytest.mark.django_db
def test_default_and_explicit_limits(system: Any, make_user: Any) -> None:
    from django.core.management import call_command

    from feeds.services.instances import instance_create
    from plugins.models import Plugin
    from tests.feeds.conftest import use_broker

    use_broker("memory://")
    call_command("register_plugins", "--builtins", "--compute-names", "host")
    alice = make_user("alice")
    dircopy = Plugin.objects.get(meta__name="pl-dircopy")  # CPU allowed: 50m to 1000m
    inst = instance_create(user=alice, plugin=dircopy, data={"dir": "home/alice/uploads"})
    assert (inst.cpu_limit, inst.memory_limit) == (1000, 1024)
    dircopy.max_cpu_limit, dircopy.max_memory_limit = 500, 512
    dircopy.save()
    inst = instance_create(user=alice, plugin=dircopy, data={"dir": "home/alice/uploads"})
    assert (inst.cpu_limit, inst.memory_limit) == (500, 512)  # the default never exceeds the plugin's max
    inst = instance_create(user=alice, plugin=dircopy,
                           data={"dir": "home/alice/uploads", "cpu_limit": "100m", "memory_limit": "256Mi"})
    assert (inst.cpu_limit, inst.memory_limit) == (100, 256)
    with pytest.raises(ValidationError):
        instance_create(user=alice, plugin=dircopy, data={"dir": "home/alice/uploads", "cpu_limit": "10m"})
