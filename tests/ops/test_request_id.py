"""Every request has one id: in the answer, in its log line and in the audit events it causes."""

from __future__ import annotations

import json
import logging

import pytest

from patronage.audit.models import AuditEvent
from patronage.ops.logs import JsonFormatter
from tests.api.client import ApiClient

pytestmark = pytest.mark.django_db


def test_the_answer_names_the_request_and_its_audit_events_carry_the_id(admin, settings):
    settings.SECURE_SSL_REDIRECT = False  # the in-process client speaks plain HTTP
    response = ApiClient(admin).post(
        "/users",
        {
            "primary_id": "rid1",
            "record_type": "PUBLIC",
            "first_name": "Req",
            "last_name": "Uest",
            "user_group": "GRAD",
        },
    )
    assert response.status_code == 201
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert AuditEvent.objects.get(request_id=request_id).verb == "user.created"


def test_a_proxys_request_id_is_kept_and_a_malformed_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21-0001"}, secure=True)
    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001"
    for bad in ("x" * 65, "short", "<script>alert(1)</script>"):
        replaced = client.get("/healthz", headers={"X-Request-ID": bad}, secure=True)
        assert replaced["X-Request-ID"] != bad and len(replaced["X-Request-ID"]) == 32


def test_the_access_log_is_json_with_the_request_id_and_no_query_string(client, caplog):
    with caplog.at_level(logging.INFO, logger="patronage.access_log"):
        response = client.get("/users/?q=Smith", secure=True)
    (record,) = [r for r in caplog.records if r.name == "patronage.access_log"]
    line = json.loads(JsonFormatter().format(record))
    assert line["path"] == "/users/" and "Smith" not in json.dumps(line)
    assert line["status"] == response.status_code
    assert line["method"] == "GET" and line["logger"] == "patronage.access_log"
    assert isinstance(line["duration_ms"], float)
