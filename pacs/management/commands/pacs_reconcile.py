"""Register PACS objects that are in storage but not in the file registry, and say what waits in the spool.

    manage.py pacs_reconcile [--dry-run] [--node IDENTIFIER]

The listener journals what it could not register (a database outage) in its spool and registers it itself
once the database is back or at its next start; this command is for any other drift: it lists storage
under SERVICES/PACS/ (one node's with --node), reads the header of each object that has no file record,
and registers it where it is stored, under its series. --dry-run prints the same lines and writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cube.storage import InvalidKey
from pacs.services.listener import listener_state_read
from pacs.services.recovery import pacs_reconcile


class Command(BaseCommand):
    help = "Register objects under SERVICES/PACS/ in storage that have no file record (--dry-run: only say so)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="print what would be registered; change nothing")
        parser.add_argument("--node", default=None, help="only this PACS node's folder (its identifier)")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        state = listener_state_read()
        if state is not None:
            self.stdout.write(f"listener (as it last reported): {json.dumps(state, sort_keys=True)}")
        try:
            report = pacs_reconcile(dry_run=dry_run, node=options["node"])
        except InvalidKey as exc:
            raise CommandError(f"invalid --node: {exc}") from None
        verb = "would register" if dry_run else "registered"
        for key, uid in report.registered:
            self.stdout.write(f"{verb} {key} (series {uid})")
        for key, why in report.skipped:
            self.stdout.write(f"skipped {key}: {why}")
        self.stdout.write(f"{len(report.registered)} object(s) {verb}, {len(report.skipped)} skipped, "
                          f"{report.checked} checked" + (" (dry run: nothing changed)" if dry_run else ""))
