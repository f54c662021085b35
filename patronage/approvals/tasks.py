"""Background jobs of access governance (django-tasks): the daily job, run by the task worker
on a schedule, or at once with ``patronage governance daily``."""

from __future__ import annotations

from dataclasses import asdict

from django_tasks import task

from patronage.audit.context import Actor, Channel

DAILY_JOB = "governance-daily"


@task()
def daily_governance() -> dict[str, int]:
    """Remind holders of grants about to end, record the grants that ended, complete the
    separations whose date has come, remind holders of lapsing acknowledgements."""
    from .removal_actions import run_daily

    return asdict(run_daily(actor=Actor.system(Channel.JOB, job=DAILY_JOB)))
