"""``patronage purge_users``: delete the users whose purge date has come (also a task)."""

from __future__ import annotations

from typing import Any

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.circulation.deletion import PURGE_JOB, purge_users


class Command(PatronageCommand):
    help = (
        "Delete every user whose purge date has come and who meets the deletion "
        "preconditions; list the ones kept and why."
    )
    required_permission = Permission.USERS_DELETE
    cli_job = PURGE_JOB

    def handle(self, *args: Any, **options: Any) -> None:
        report = purge_users(actor=self.actor)
        self.stdout.write(f"Users purged: {report.deleted}")
        for user_id, unmet in sorted(report.kept.items()):
            self.stdout.write(f"Kept user {user_id}: {', '.join(unmet)}")
