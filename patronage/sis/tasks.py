"""SIS imports as background jobs (django-tasks, database backend: ``patronage db_worker``).

``run_import`` reads the run's files and applies its chunks; with ``workers`` > 1 it first
enqueues that many more ``apply_chunks`` jobs, which take chunks beside it (PostgreSQL: one
per worker process). Both are safe to run again on the same run after a crash: they carry on
where it stopped.
"""

from __future__ import annotations

from django_tasks import task

from patronage.errors import ValidationFailed

from . import actions


def _counts(run_id: int) -> dict[str, object]:
    from .models import ImportRun

    run = ImportRun.objects.get(pk=run_id)
    return {"status": run.status, **{name: getattr(run, name) for name in actions.COUNTERS}}


@task()
def run_import(run_id: int, workers: int = 1) -> dict[str, object]:
    try:
        actions.read_run(run_id=run_id)
    except ValidationFailed:  # a malformed file: the run failed, its error says why
        return _counts(run_id)
    for _ in range(max(0, workers - 1)):
        apply_chunks.enqueue(run_id)
    actions.apply_run(run_id=run_id)
    return _counts(run_id)


@task()
def apply_chunks(run_id: int) -> dict[str, object]:
    actions.apply_run(run_id=run_id)
    return _counts(run_id)
