"""``patronage governance daily``: run the daily access-governance job now (it also runs as
the task ``daily_governance``): reminders before grants end, expiry of grants that ended,
separations whose date has come, reminders before confidentiality acknowledgements lapse."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.approvals.removal_actions import run_daily
from patronage.approvals.tasks import DAILY_JOB


class Command(PatronageCommand):
    help = "Access governance jobs."
    required_permission = {"daily": Permission.SEPARATIONS_PROCESS}
    cli_job = DAILY_JOB

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        commands.add_parser("daily", help="Run the daily job now")

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_daily(actor=self.actor)
        self.stdout.write(
            f"Grants ending soon, holders reminded: {report.reminded}\n"
            f"Grants expired: {report.expired}\n"
            f"Separations completed: {report.separations_completed}\n"
            f"Acknowledgement reminders: {report.acknowledgement_reminders}"
        )
