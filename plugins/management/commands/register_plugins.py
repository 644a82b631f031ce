"""Register plugins from descriptor files, from an installed plugin's --json, or our built-in plugins."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from plugins import services
from plugins.descriptors import DescriptorError


class Command(BaseCommand):
    help = ("Register ChRIS plugins: descriptor JSON files, an installed plugin's `--json` (--run), or the "
            "built-in plugins (--builtins). Registering a version that exists only adds compute resources.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("files", nargs="*", help="descriptor JSON files")
        parser.add_argument("--run", action="append", default=[], metavar="COMMAND",
                            help="a plugin command to run with --json (repeatable)")
        parser.add_argument("--builtins", action="store_true", help="register pl-dircopy, pl-simpledsapp, ...")
        parser.add_argument("--compat-versions", action="store_true",
                            help="with --builtins, also register the built-ins under the older versions clients "
                                 "ask for by exact number (pl-dircopy 2.1.2, for `chrs upload`)")
        parser.add_argument("--compute-names", default="host", help="comma-separated compute resource names")

    def handle(self, *args: Any, **options: Any) -> None:
        descriptors: list[tuple[str, Any]] = []
        for path in options["files"]:
            try:
                with open(path, encoding="utf-8") as fh:
                    descriptors.append((path, json.load(fh)))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
        try:
            for command in options["run"]:
                descriptors.append((command, services.descriptor_from_command(command)))
        except DescriptorError as exc:
            raise CommandError(str(exc)) from exc
        if options["builtins"]:
            from plugins.builtin import descriptors as builtin_descriptors

            descriptors.extend((f"{d['name']} {d['version']}", d)
                               for d in builtin_descriptors(compat=options["compat_versions"]))
        if not descriptors:
            raise CommandError("nothing to register: give descriptor files, --run or --builtins")
        names = [n for n in options["compute_names"].split(",") if n.strip()]
        for source, desc in descriptors:
            try:
                plugin = services.plugin_register(descriptor=desc, compute_names=names, existing_ok=True)
            except DescriptorError as exc:
                raise CommandError(f"{source}: {exc}") from exc
            self.stdout.write(f"registered {plugin.meta.name} v{plugin.version} (id {plugin.id}) on {','.join(names)}")
