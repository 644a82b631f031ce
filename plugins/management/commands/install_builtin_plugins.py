"""Install the built-in plugins as executables in a directory, for compute nodes without containers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Install every built-in plugin as an executable DEST/<selfexec> (with _common.py beside them), "
            "for compute nodes that run plugins outside containers: point the slurm runner's plugin_dir "
            "(CUBE_SLURM_PLUGIN_DIR) at DEST as the nodes see it. Safe to run again: files are replaced whole.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("dest", help="directory on a file system the compute nodes share (created if missing)")

    def handle(self, *args: Any, **options: Any) -> None:
        from plugins.builtin.install import install

        try:
            paths = install(options["dest"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"installing the built-in plugins into {options['dest']} failed: {exc}") from exc
        for path in paths:
            self.stdout.write(f"installed {path}")
