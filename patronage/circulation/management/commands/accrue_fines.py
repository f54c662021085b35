"""``patronage accrue_fines``: run the overdue-fine job now (it also runs as a task)."""

from __future__ import annotations

from typing import Any

from patronage.access.commands import PatronageCommand
from patronage.access.permissions import Permission
from patronage.circulation.actions import accrue_overdue_fines
from patronage.circulation.tasks import OVERDUE_FINES_JOB


class Command(PatronageCommand):
    help = "Charge overdue fines: every open overdue loan's fine grows to what it owes today."
    required_permission = Permission.FULFILLMENT_CONFIG
    cli_job = OVERDUE_FINES_JOB

    def handle(self, *args: Any, **options: Any) -> None:
        changed = accrue_overdue_fines(actor=self.actor)
        self.stdout.write(f"Overdue fines charged or grown: {changed}")
