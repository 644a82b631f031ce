"""Bootstrap: idempotent, run by `manage.py cube_setup` (make run) and by the test fixtures."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .models import ChrisInstance

REQUIRED_GROUPS = ("all_users", "pacs_users")


def chris_instance() -> ChrisInstance:
    instance, _ = ChrisInstance.objects.get_or_create(id=1, defaults={"name": settings.CUBE_INSTANCE_NAME})
    return instance


@transaction.atomic
def system_setup(*, admin_password: str | None = None) -> Any:
    """Create (or repair) the superuser, the required groups, the system folders and the instance row."""
    from cube.users.services import user_home_create
    from uploads.paths import SYSTEM_ROOTS
    from uploads.services import folder_get_or_create

    User = get_user_model()
    admin, created = User.objects.get_or_create(
        username=settings.CUBE_SUPERUSER,
        defaults={"email": "dev@babymri.org", "is_staff": True, "is_superuser": True},
    )
    password = admin_password if admin_password is not None else settings.CUBE_ADMIN_PASSWORD
    if created or not admin.check_password(password):
        admin.set_password(password)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    groups = [Group.objects.get_or_create(name=name)[0] for name in REQUIRED_GROUPS]
    admin.groups.add(*groups)
    for root in ("", *SYSTEM_ROOTS):
        folder_get_or_create(path=root, owner=admin)
    user_home_create(user=admin)
    chris_instance()
    return admin
