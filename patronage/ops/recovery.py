"""Tasks whose worker died are run again.

django-tasks' database worker marks a task RUNNING when it claims it; a worker killed
mid-task (OOM, SIGKILL, a lost host) would leave it RUNNING for ever. A task is orphaned
when the worker that claimed it last has a heartbeat (``patronage worker``) that has gone
stale: it is made READY again, and another worker runs it. Tasks write in transactions,
so the killed attempt left nothing half-done, and the retry does the work once. A task
that keeps killing its workers fails after ``MAX_ATTEMPTS`` claims instead of looping.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


class WorkerDied(Exception):
    """Recorded on a task whose workers died ``MAX_ATTEMPTS`` times while running it."""


def requeue_orphaned_tasks() -> int:
    """Make the tasks of dead workers READY again (or FAILED after too many attempts).

    Returns how many were made READY. Safe to run from several workers at once: each task
    row is taken under a lock that the others skip.
    """
    limit = timezone.now() - datetime.timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    dead = set(
        WorkerHeartbeat.objects.filter(beat_at__lt=limit).values_list("worker_id", flat=True)
    )
    if not dead:
        return 0
    requeued = 0
    with transaction.atomic():
        running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
        for result in running.select_for_update(skip_locked=True):
            if not result.worker_ids or result.worker_ids[-1] not in dead:
                continue
            if len(result.worker_ids) >= MAX_ATTEMPTS:
                logger.error("task %s: its worker died %d times; failed", result.id, MAX_ATTEMPTS)
                result.set_failed(WorkerDied(f"its worker died {MAX_ATTEMPTS} times"))
                continue
            logger.warning(
                "task %s: worker %s died while running it; queued again",
                result.id,
                result.worker_ids[-1],
            )
            result.status = TaskResultStatus.READY
            result.started_at = None
            result.save(update_fields=["status", "started_at"])
            requeued += 1
    return requeued
