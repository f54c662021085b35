"""``patronage audit``: chain, verify and archive the audit trail.

    patronage audit chain                      # link new events (run it every minute)
    patronage audit verify                     # exit 1 at the first broken link
    patronage audit archive --before 2025-01-01 [--enqueue]

``archive`` exports the chained events older than the date (JSON Lines under
``AUDIT_ARCHIVE_DIR``), anchors the chain there and only then removes them; ``--enqueue`` runs
it as a background task instead. ``verify`` recomputes every link since the last anchor.

Exit codes: 0 done (verify: the chain is intact); 1 refused, or verify found a broken link.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.errors import DomainError

from ... import actions, chain, tasks


def _day(value: str) -> datetime.datetime:
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--before: '{value}' is not a date (YYYY-MM-DD).") from None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class Command(PatronageCommand):
    help = "Chain, verify and archive the audit trail."
    required_permission = {
        "chain": Permission.AUDIT_VERIFY,
        "verify": Permission.AUDIT_VERIFY,
        "archive": Permission.AUDIT_ARCHIVE,
    }
    cli_job = "audit"

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        commands.add_parser("chain", help="Link the events committed since the last run")
        commands.add_parser("verify", help="Recompute the hash chain; report the first break")
        archive = commands.add_parser(
            "archive", help="Export, anchor and remove the events older than a date"
        )
        archive.add_argument("--before", required=True, metavar="YYYY-MM-DD")
        archive.add_argument("--enqueue", action="store_true", help="Run it as a background task")

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = options["subcommand"]
        if subcommand == "chain":
            self.stdout.write(f"{chain.chain_pending()} event(s) chained.")
        elif subcommand == "verify":
            result = chain.verify()
            if not result.ok:
                raise CommandError(result.summary())
            self.stdout.write(result.summary())
        else:
            self.archive(_day(options["before"]), options["enqueue"])

    def archive(self, before: datetime.datetime, enqueue: bool) -> None:
        if enqueue:
            user_id = self.actor.user.pk if self.actor.user else None
            result = tasks.archive_audit_trail.enqueue(user_id, before.isoformat())
            self.stdout.write(f"Archiving enqueued as task {result.id}.")
            return
        try:
            done = actions.archive_trail(actor=self.actor, before=before)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        anchor = done.anchor
        self.stdout.write(
            f"Archived {anchor.event_count} event(s) (links up to #{anchor.last_seq}) to "
            f"{done.path} (SHA-256 {anchor.file_sha256}); the chain now starts at that anchor."
        )
