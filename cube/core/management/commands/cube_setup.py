from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cube.core.services import system_setup


class Command(BaseCommand):
    help = "Create the superuser chris, the required groups and folders, and the default compute resource."

    def handle(self, *args: Any, **options: Any) -> None:
        admin = system_setup()
        from plugins.services import compute_resource_ensure_default

        cr = compute_resource_ensure_default()
        self.stdout.write(f"superuser {admin.username}; compute resource {cr.name} ({cr.runner})")
