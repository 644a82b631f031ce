"""Add, change, remove, list and C-ECHO PACS nodes from the command line.

    manage.py pacs_node add ORTHANC --aet ORTHANC --host 127.0.0.1 --port 4242 [--retrieve-method get]
    manage.py pacs_node change ORTHANC --port 4243 --inactive
    manage.py pacs_node remove ORTHANC
    manage.py pacs_node list
    manage.py pacs_node echo ORTHANC
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pacs.models import PACS
from pacs.services import nodes


class Command(BaseCommand):
    help = "Manage PACS nodes: add, change, remove, list, echo (C-ECHO: does it answer?)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for action in ("add", "change"):
            p = sub.add_parser(action)
            p.add_argument("identifier", help="the node's name (it names its folder SERVICES/PACS/<identifier>)")
            p.add_argument("--aet", help="the PACS's AE title")
            p.add_argument("--host")
            p.add_argument("--port", type=int)
            p.add_argument("--retrieve-method", choices=("move", "get"))
            p.add_argument("--calling-aet", help="our AE title towards it (default: CUBE_DICOM_AET)")
            p.add_argument("--description")
            if action == "change":
                p.add_argument("--rename", metavar="NEW_IDENTIFIER")
            state = p.add_mutually_exclusive_group()
            state.add_argument("--active", dest="active", action="store_true", default=None)
            state.add_argument("--inactive", dest="active", action="store_false")
        for action in ("remove", "echo"):
            sub.add_parser(action).add_argument("identifier")
        sub.add_parser("list")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for pacs in PACS.objects.order_by("identifier"):
                state = "active" if pacs.active else "inactive"
                self.stdout.write(f"{pacs.identifier}\t{pacs.aet}@{pacs.host}:{pacs.port}\t"
                                  f"{pacs.retrieve_method}\t{state}")
            return
        fields = {name: options.get(name) for name in
                  ("aet", "host", "port", "retrieve_method", "calling_aet", "description", "active")}
        try:
            if action == "add":
                pacs = nodes.pacs_create(identifier=options["identifier"], **fields)
                self.stdout.write(f"added {pacs.identifier} ({pacs.aet}@{pacs.host}:{pacs.port})")
                return
            pacs = PACS.objects.filter(identifier=options["identifier"]).first()
            if pacs is None:
                raise CommandError(f"no PACS named {options['identifier']!r}")
            if action == "change":
                pacs = nodes.pacs_update(pacs=pacs, identifier=options.get("rename"), **fields)
                self.stdout.write(f"changed {pacs.identifier} ({pacs.aet}@{pacs.host}:{pacs.port}, "
                                  f"{'active' if pacs.active else 'inactive'})")
            elif action == "remove":
                nodes.pacs_delete(pacs=pacs)
                self.stdout.write(f"removed {options['identifier']}")
            else:
                report = nodes.pacs_echo(pacs=pacs)
                if not report.ok:
                    raise CommandError(report.message)
                self.stdout.write(f"{report.message} in {report.rtt_ms:.1f} ms")
        except nodes.NodeError as exc:
            raise CommandError(str(exc)) from None
