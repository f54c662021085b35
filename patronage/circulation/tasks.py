"""Background jobs of circulation (django-tasks): run by the task worker on a schedule, or
at once with the matching management command."""

from __future__ import annotations

from django_tasks import task

from patronage.audit.context import Actor, Channel

OVERDUE_FINES_JOB = "overdue-fines"


@task()
def accrue_overdue_fines() -> int:
    """Grow the fine of every overdue loan to what it owes today."""
    from .actions import accrue_overdue_fines as accrue

    return accrue(actor=Actor.system(Channel.JOB, job=OVERDUE_FINES_JOB))
