"""``patronage retention``: run retention of patron data, or change its settings.

    patronage retention run [--dry-run] [--enqueue]
    patronage retention settings [--anonymise-after DAYS] [--record-activity yes|no]

``run`` anonymises old returned loans, purges users past their purge date and deletes last
activity dates the institution does not record (``patronage.privacy.retention``); a dry run
prints the counts and changes nothing. ``settings`` with no option prints them.

Exit codes: 0 done; 1 refused (no permission, a setting out of range: nothing changed).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.errors import DomainError, ValidationFailed

from ... import retention

YES_NO = {"yes": True, "no": False}


class Command(PatronageCommand):
    help = "Run retention of patron data (anonymise loans, purge users) or change its settings."
    required_permission = {
        "run": Permission.PRIVACY_RETENTION,
        "settings": Permission.PRIVACY_RETENTION,
    }
    cli_job = retention.RETENTION_JOB

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        run = commands.add_parser("run", help="Anonymise, purge and delete what is due")
        run.add_argument("--dry-run", action="store_true", help="Count only; change nothing")
        run.add_argument("--enqueue", action="store_true", help="Run it as a background task")
        settings = commands.add_parser("settings", help="Show or change the settings")
        settings.add_argument("--anonymise-after", metavar="DAYS")
        settings.add_argument("--record-activity", choices=sorted(YES_NO))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["subcommand"] == "run":
                self.run(options["dry_run"], options["enqueue"])
            else:
                self.settings(options["anonymise_after"], options["record_activity"])
        except ValidationFailed as exc:
            reasons = "; ".join(f"{name}: {text}" for name, text in exc.errors.items())
            raise CommandError(f"Nothing was changed. {reasons}") from None
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def run(self, dry_run: bool, enqueue: bool) -> None:
        if enqueue:
            task_id = retention.enqueue_retention(actor=self.actor)
            self.stdout.write(f"Retention enqueued as task {task_id}.")
            return
        report = retention.run_retention(actor=self.actor, dry_run=dry_run)
        write = self.stdout.write
        if dry_run:
            write("Dry run: nothing was changed.")
        verb = "would be" if dry_run else "were"
        write(
            f"Returned loans older than {report.anonymise_after_days} day(s) anonymised: "
            f"{report.loans_anonymised}"
        )
        for reason, count in sorted(report.borrowers_left_alone.items()):
            if count:
                write(f"  borrowers left alone ({reason}): {count}")
        write(f"Users past their purge date that {verb} purged: {report.users_purged}")
        for code, count in sorted(report.users_kept.items()):
            write(f"  kept ({code}): {count}")
        write(f"Last patron activity dates deleted: {report.activity_dates_deleted}")

    def settings(self, days: str | None, record_activity: str | None) -> None:
        changes: dict[str, Any] = {}
        if days is not None:
            changes["anonymise_loans_after_days"] = days
        if record_activity is not None:
            changes["record_last_patron_activity"] = YES_NO[record_activity]
        values = (
            retention.update_retention_settings(actor=self.actor, changes=changes)
            if changes
            else retention.retention_settings()
        )
        self.stdout.write(
            f"Returned loans anonymised after: {values['anonymise_loans_after_days']} day(s)"
        )
        recorded = "yes" if values["record_last_patron_activity"] else "no"
        self.stdout.write(f"Last patron activity date recorded: {recorded}")
