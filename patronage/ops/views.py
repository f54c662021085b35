"""``/healthz``, ``/readyz`` and ``/metrics``: what operators and their tools ask a node.

``/healthz``: the process answers. ``/readyz``: it can do its work — the database answers,
every migration is applied, and a task worker has shown a sign of life recently.

A load balancer sends traffic only to ready nodes; an orchestrator restarts a node whose
``/healthz`` stops answering. Neither needs a session, and neither says more than which
check failed.
"""

from __future__ import annotations

import datetime
import hmac

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from patronage.access.decorators import public

from . import metrics as collected
from .models import WorkerHeartbeat

_migrated = False  # once every migration is applied, it stays so until the next deployment


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "unreachable"
    return "ok"


def _migrations() -> str:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return "pending"
        _migrated = True
    return "ok"


def _worker() -> str:
    limit = timezone.now() - datetime.timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    return "ok" if WorkerHeartbeat.objects.filter(beat_at__gte=limit).exists() else "stale"


@public
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@public
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database()}
    if checks["database"] == "ok":
        checks["migrations"] = _migrations()
        if checks["migrations"] == "ok" and settings.READY_REQUIRES_WORKER:
            checks["worker"] = _worker()
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


@public
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Scraped with ``Authorization: Bearer <PATRONAGE_METRICS_TOKEN>``; without a token
    configured the endpoint answers 404, as if it did not exist."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse(status=404)
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), token.encode()):
        return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(generate_latest(collected.registry()), content_type=CONTENT_TYPE_LATEST)
