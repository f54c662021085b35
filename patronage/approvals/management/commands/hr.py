"""``patronage hr separations FILE``: process a separation file from HR.

The file is CSV with the header ``primary_id,separation_date`` (YYYY-MM-DD). Each good row
ends the person's grants at the separation date (and, once it has come, revokes their
sessions and API keys and deactivates the login); each bad row — malformed, an unknown
person, a person named twice — is reported with its line number and changes nothing.

Exit codes: 0 every row applied; 1 the file was refused, or some rows were (the good rows are
applied all the same).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.accounts.management.commands.users import refusal
from patronage.approvals.removal_actions import process_separation_file
from patronage.errors import DomainError


class Command(PatronageCommand):
    help = "HR feeds: process a separation file."
    required_permission = {"separations": Permission.SEPARATIONS_PROCESS}
    cli_job = "hr-separations"

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        separations = commands.add_parser("separations", help="Process a separation CSV from HR")
        separations.add_argument("file", metavar="FILE", help="CSV: primary_id,separation_date")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            report = process_separation_file(actor=self.actor, content=content, source=path.name)
        except DomainError as exc:
            raise CommandError(refusal(exc)) from None
        for row in report.applied:
            self.stdout.write(f"line {row.line}: {row.primary_id}: {row.message}")
        for row in report.errors:
            self.stderr.write(f"line {row.line}: {row.primary_id or '-'}: {row.message}")
        self.stdout.write(f"Applied {len(report.applied)}, refused {len(report.errors)}.")
        if report.errors:
            raise CommandError(f"{len(report.errors)} row(s) refused; the others were applied.")
