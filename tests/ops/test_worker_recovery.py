"""A worker that dies mid-task: the task runs again on another worker, and completes once."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from patronage.accounts.models import User
from patronage.audit.tasks import chain_audit_trail
from patronage.ops.models import WorkerHeartbeat
from patronage.ops.recovery import MAX_ATTEMPTS, requeue_orphaned_tasks
from tests.ops.fault_tasks import slow_then_write

ROOT = Path(__file__).resolve().parents[2]


def heartbeat(worker_id: str, seconds_ago: int) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname="h",
        pid=1,
        started_at=now,
        beat_at=now - datetime.timedelta(seconds=seconds_ago),
    )


def running(claimed_by: list[str]) -> DBTaskResult:
    result = DBTaskResult.objects.get(id=chain_audit_trail.enqueue().id)
    result.status, result.worker_ids = TaskResultStatus.RUNNING, claimed_by
    result.save()
    return result


@pytest.mark.django_db
def test_only_the_tasks_of_dead_workers_are_queued_again(settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 60
    heartbeat("dead", seconds_ago=120)
    heartbeat("alive", seconds_ago=5)
    orphan = running(["dead"])
    busy = running(["alive"])
    unknown = running(["plain-db_worker"])  # no heartbeat: nothing is known of it
    retried_by_alive = running(["dead", "alive"])
    assert requeue_orphaned_tasks() == 1
    statuses = {
        r.id: r.status for r in DBTaskResult.objects.filter(id__in=[orphan.id, busy.id, unknown.id])
    }
    assert statuses == {
        orphan.id: TaskResultStatus.READY,
        busy.id: TaskResultStatus.RUNNING,
        unknown.id: TaskResultStatus.RUNNING,
    }
    retried_by_alive.refresh_from_db()
    assert retried_by_alive.status == TaskResultStatus.RUNNING


@pytest.mark.django_db
def test_a_task_that_keeps_killing_its_workers_fails_instead_of_looping(settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 60
    for n in range(MAX_ATTEMPTS):
        heartbeat(f"dead{n}", seconds_ago=120)
    result = running([f"dead{n}" for n in range(MAX_ATTEMPTS)])
    assert requeue_orphaned_tasks() == 0
    result.refresh_from_db()
    assert result.status == TaskResultStatus.FAILED
    assert "died" in result.exception_class_path + str(result.traceback)


def worker(worker_id: str, *args: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=(
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
        ),
        PATRONAGE_WORKER_HEARTBEAT_SECONDS="1",
        PATRONAGE_WORKER_HEARTBEAT_MAX_AGE="3",
        PYTHONPATH=str(ROOT),
    )
    command = [sys.executable, "-m", "patronage", "worker", "--worker-id", worker_id]
    return subprocess.Popen(
        [*command, "--no-startup-delay", "--interval", "0.2", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="workers in other processes")
@pytest.mark.usefixtures("reference_data")
def test_a_worker_killed_mid_task_the_task_is_retried_and_completes_once(tmp_path):
    result_id = slow_then_write.enqueue(str(tmp_path), "made-once").id
    first = worker("first")
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "started").exists():
            assert first.poll() is None, first.stdout.read()
            assert time.monotonic() < deadline, "the first worker never started the task"
            time.sleep(0.2)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    second = worker("second", "--max-tasks", "1")
    try:
        assert second.wait(timeout=90) == 0, second.stdout.read()
    finally:
        second.kill()
    result = DBTaskResult.objects.get(id=result_id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.worker_ids == ["first", "second"]
    assert User.objects.filter(primary_id="made-once").count() == 1
