"""``patronage export users``: every user record, streamed, in the SIS import formats.

    patronage export users --format xml -o users.xml
    patronage export users --format csv > users.csv

The XML imports elsewhere (or here) with an XML profile; the CSV's heading names each
column's import target, so a CSV profile maps each heading to itself. Exporting every user
is itself audited (``users.exported``, with the count).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandParser

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.audit.actions import record

from ... import export


class Command(PatronageCommand):
    help = "Export every user record as Alma user XML or CSV."
    required_permission = {"users": Permission.USERS_EXPORT}

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="WHAT")
        users = commands.add_parser("users", help="Every user record")
        users.add_argument("--format", choices=["xml", "csv"], default="xml")
        users.add_argument("-o", "--output", help="Write to this file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        output, file_format = options.get("output"), options["format"]
        if file_format == "xml":
            if output:
                with open(output, "wb") as out:
                    count = export.write_xml(out)
            else:
                count = export.write_xml(sys.stdout.buffer)
        elif output:
            with open(output, "w", newline="", encoding="utf-8") as text:
                count = export.write_csv(text)
        else:
            count = export.write_csv(self.stdout)
        record(
            actor=self.actor,
            verb="users.exported",
            object_type="user",
            details={"format": file_format, "count": count, "file": output or "(stdout)"},
        )
        self.stderr.write(f"{count} users exported.")
