"""Prometheus metrics at ``/metrics``: request latency by route, authorization denials, the
task queue's depth and age, and what other apps count (imports).

Labels are route patterns (``/users/<int:pk>/``), never paths, so no patron's id or name
ends up in a metric and the number of series stays bounded. Under several worker processes
(``patronage serve``) the processes share their samples through files in
``PROMETHEUS_MULTIPROC_DIR``, which ``serve`` sets up (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import HttpRequest
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUEST_SECONDS = Histogram(
    "patronage_http_request_duration_seconds",
    "Time to answer a request, by route pattern",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DENIALS = Counter(
    "patronage_authorization_denials_total",
    "Requests refused for want of a permission (403), by route pattern",
    ["route"],
)
IMPORTED = Counter(
    "patronage_import_records_total",
    "Records processed by SIS imports, by outcome",
    ["outcome"],
)


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return f"/{match.route}" if match is not None and match.route else "unmatched"


def observe(request: HttpRequest, status: int, seconds: float) -> None:
    route = route_of(request)
    REQUEST_SECONDS.labels(str(request.method), route, str(status)).observe(seconds)
    if status == 403:
        DENIALS.labels(route).inc()


class TaskQueueCollector(Collector):
    """Read at scrape time from the task table: tasks waiting, by queue, and the age of
    the oldest (a stuck or missing worker shows as a growing age). With the database out of
    reach the two are left out, and the rest is still scraped (``/readyz`` tells why)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django_tasks_db.models import DBTaskResult

        depth = GaugeMetricFamily(
            "patronage_task_queue_depth", "Tasks waiting to run", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "patronage_task_queue_oldest_age_seconds",
            "Age of the oldest task waiting to run",
            labels=["queue"],
        )
        now = timezone.now()
        try:
            waiting = list(
                DBTaskResult.objects.ready()
                .values("queue_name")
                .annotate(count=Count("id"), oldest=Min("enqueued_at"))
            )
        except DatabaseError:
            return
        for row in waiting:
            depth.add_metric([row["queue_name"]], row["count"])
            age.add_metric([row["queue_name"]], (now - row["oldest"]).total_seconds())
        yield depth
        yield age


def registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (REQUEST_SECONDS, DENIALS, IMPORTED):
            registry.register(metric)
    registry.register(TaskQueueCollector())
    return registry
