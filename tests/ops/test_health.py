"""/healthz says the process answers; /readyz says whether the node can do its work."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from patronage.ops import views as health
from patronage.ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def answer(client, path):
    response = client.get(path, secure=True)
    return response.status_code, json.loads(response.content), response


def beat(seconds_ago: int) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id="w1",
        hostname="host",
        pid=1,
        started_at=now,
        beat_at=now - datetime.timedelta(seconds=seconds_ago),
    )


def test_healthz_answers_without_a_session_and_is_never_cached(client):
    status, body, response = answer(client, "/healthz")
    assert (status, body) == (200, {"status": "ok"})
    assert "no-store" in response["Cache-Control"]


def test_a_node_with_a_live_worker_is_ready(client):
    beat(seconds_ago=5)
    status, body, _ = answer(client, "/readyz")
    assert status == 200
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "worker": "ok"},
    }


def test_without_a_recent_worker_heartbeat_the_node_is_not_ready(client, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 60
    beat(seconds_ago=120)
    status, body, _ = answer(client, "/readyz")
    assert status == 503
    assert body["checks"]["worker"] == "stale"


def test_the_worker_check_can_be_left_out(client, settings):
    settings.READY_REQUIRES_WORKER = False
    status, body, _ = answer(client, "/readyz")
    assert status == 200 and "worker" not in body["checks"]


def test_pending_migrations_make_the_node_not_ready(client, monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: ["0099_new"])
    beat(seconds_ago=1)
    status, body, _ = answer(client, "/readyz")
    assert status == 503
    assert body["checks"]["migrations"] == "pending"
    assert "worker" not in body["checks"]


@pytest.mark.usefixtures("reference_data")  # the heartbeat is written by another connection
def test_the_worker_runs_the_queue_and_leaves_a_heartbeat():
    from django.core.management import call_command

    call_command("worker", "--batch", "--no-startup-delay", "--worker-id", "worker-test", "-v0")
    heartbeat = WorkerHeartbeat.objects.get(worker_id="worker-test")
    assert heartbeat.beat_at >= heartbeat.started_at
