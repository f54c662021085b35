"""``patronage worker``: run background tasks (django-tasks' database worker) and keep a
heartbeat for ``/readyz``.

    patronage worker [--queue-name NAME] [--interval SECONDS] [--batch] [--max-tasks N]

Every option of ``db_worker`` applies. Run as many as the load needs, on any host: each
claims tasks with row locks (PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED``), so no task
runs twice; and each, with its heartbeat, queues again the tasks of workers that died while
running them (``ops.recovery``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from patronage.access.commands import TRUSTED, PatronageCommand
from patronage.ops.models import WorkerHeartbeat
from patronage.ops.recovery import requeue_orphaned_tasks

logger = logging.getLogger(__name__)


class Heartbeat:
    """The worker's sign of life: written once at start, then every
    ``WORKER_HEARTBEAT_SECONDS`` from a thread of its own until stopped. A failed beat is
    logged, not fatal (the database may come back); it shows as a stale worker in /readyz."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self.started, self.host, self.pid = timezone.now(), socket.gethostname(), os.getpid()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._keep, name="heartbeat", daemon=True)

    def write(self) -> None:
        try:
            WorkerHeartbeat.objects.update_or_create(
                worker_id=self.worker_id,
                defaults={
                    "hostname": self.host,
                    "pid": self.pid,
                    "started_at": self.started,
                    "beat_at": timezone.now(),
                },
            )
        except DatabaseError:
            logger.exception("worker %s: heartbeat not written", self.worker_id)

    def _keep(self) -> None:
        try:
            while not self.stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                self.write()
                try:
                    requeue_orphaned_tasks()
                except DatabaseError:
                    logger.exception("worker %s: orphaned tasks not looked for", self.worker_id)
        finally:
            connection.close()


class Command(PatronageCommand, DbWorkerCommand):
    help = "Run background tasks, with a heartbeat for /readyz."
    # Whoever may start processes on the server runs the worker; tasks carry their own actor.
    required_permission = TRUSTED

    def handle(self, *args: Any, **options: Any) -> None:
        heartbeat = Heartbeat(options["worker_id"])
        heartbeat.write()
        heartbeat.thread.start()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop.set()
            heartbeat.thread.join(timeout=5)
