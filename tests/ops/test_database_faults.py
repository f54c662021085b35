"""The PostgreSQL connection is killed in the middle of a write: the client is told plainly,
nothing is half-written, and the next request succeeds."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import psycopg
import pytest
from django.db import connection

from patronage.access.api_key_actions import create_api_key
from patronage.accounts import actions as account_actions
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_terminate_backend"),
    pytest.mark.usefixtures("reference_data"),
]


def new_user(primary_id: str) -> dict[str, str]:
    return {
        "primary_id": primary_id,
        "record_type": "PUBLIC",
        "first_name": "Fault",
        "last_name": "Tolerant",
        "user_group": "GRAD",
    }


def post(server: str, key: str, body: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server}/api/v1/users",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"apikey {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_a_connection_killed_mid_write(http_live_server, monkeypatch, admin):
    live_server = http_live_server
    key = create_api_key(actor=SYSTEM, owner=admin, name="fault test").key
    dsn = connection.get_connection_params()
    real_record = account_actions.record

    def record_after_killing_the_connection(**event):
        # The user row is written; now the request's own connection dies, as in a failover.
        if event["verb"] == "user.created" and event["subject"].primary_id == "lost1":
            from django.db import connection as request_connection

            with request_connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (pid,) = cursor.fetchone()
            with psycopg.connect(**dsn, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return real_record(**event)

    monkeypatch.setattr(account_actions, "record", record_after_killing_the_connection)
    status, body = post(live_server.url, key, new_user("lost1"))
    assert status == 503
    assert body["code"] == "database_unavailable"
    assert "nothing was saved" in body["message"]
    assert not User.objects.filter(primary_id="lost1").exists()
    assert not AuditEvent.objects.filter(details__primary_id="lost1").exists()
    status, body = post(live_server.url, key, new_user("next1"))
    assert status == 201, body
    assert User.objects.filter(primary_id="next1").exists()
