"""/metrics: request latency by route, authorization denials, the task queue — behind a
bearer token, and with route patterns, never patrons' ids, in the labels."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from patronage.audit.tasks import chain_audit_trail
from tests.factories import make_user

pytestmark = pytest.mark.django_db

TOKEN = "scrape-secret-1234"


@pytest.fixture(autouse=True)
def _scrapable(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.METRICS_TOKEN = TOKEN
    settings.STORAGES = {  # no collectstatic in tests: plain names
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    text = response.content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }, text


def test_requests_and_denials_are_counted_by_route(client, admin, no_roles):
    patron = make_user(primary_id="metrics-patron")
    before, _ = scrape(client)
    client.force_login(admin)
    assert client.get(f"/users/{patron.pk}/").status_code == 200
    client.force_login(no_roles)
    assert client.get(f"/users/{patron.pk}/").status_code == 403
    after, text = scrape(client)
    route = ("route", "/users/<int:pk>/")
    served = (
        "patronage_http_request_duration_seconds_count",
        (("method", "GET"), route, ("status", "200")),
    )
    denied = ("patronage_authorization_denials_total", (route,))
    assert after[served] == before.get(served, 0) + 1
    assert after[denied] == before.get(denied, 0) + 1
    assert f"/users/{patron.pk}/" not in text and "metrics-patron" not in text


def test_the_task_queue_depth_and_age(client):
    chain_audit_trail.enqueue()
    chain_audit_trail.enqueue()
    samples, _ = scrape(client)
    assert samples[("patronage_task_queue_depth", (("queue", "default"),))] == 2
    assert samples[("patronage_task_queue_oldest_age_seconds", (("queue", "default"),))] >= 0


def test_metrics_need_the_token(client, settings):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"] == "Bearer"
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
