"""A bounded soak run: several clients drive the API and the staff UI with mixed reads and
writes against a live server for a fixed time; then no request may have had a 5xx answer,
and the audit trail must hold exactly one event per write that succeeded.

``PATRONAGE_SOAK_SECONDS`` sets the duration (default 8 in the suite).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from patronage.access.api_key_actions import create_api_key
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM, make_user

pytestmark = pytest.mark.usefixtures("reference_data")

SECONDS = float(os.environ.get("PATRONAGE_SOAK_SECONDS", "8"))
# The live server's threads share the test's one connection to an in-memory SQLite
# database, which cannot serve requests side by side; concurrency is tested on PostgreSQL.
CLIENTS = 4 if connection.vendor == "postgresql" else 1


class Driver:
    def __init__(self, server: str, key: str, session: str, seed: int, patrons: list[int]):
        self.server, self.key, self.session = server, key, session
        self.seed = seed
        self.random = random.Random(seed)
        self.patrons = patrons
        self.outcomes: Counter[tuple[str, int]] = Counter()
        self.created: list[int] = []

    def call(self, kind: str, method: str, path: str, body: object = None, ui: bool = False):
        headers = (
            {"Cookie": f"sessionid={self.session}"}
            if ui
            else {"Authorization": f"apikey {self.key}", "Content-Type": "application/json"}
        )
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, payload = answer.status, answer.read()
        except urllib.error.HTTPError as refused:
            status, payload = refused.code, refused.read()
        self.outcomes[(kind, status)] += 1
        return status, payload

    def name(self, n: int) -> str:
        return f"S{self.seed}N{n}"

    def one(self, n: int) -> None:
        roll = self.random.random()
        patron = self.random.choice(self.patrons + self.created)
        if roll < 0.2:
            body = {
                "primary_id": f"soak-{self.name(n)}",
                "record_type": "PUBLIC",
                "first_name": "Soak",
                "last_name": f"Tester{n}",
                "user_group": "GRAD",
            }
            status, payload = self.call("create", "POST", "/api/v1/users", body)
            if status == 201:
                self.created.append(json.loads(payload)["id"])
        elif roll < 0.4:
            # A new value each time: an update that changes nothing is rightly not audited.
            self.call("update", "PATCH", f"/api/v1/users/{patron}", {"middle_name": self.name(n)})
        elif roll < 0.6:
            self.call("read", "GET", f"/api/v1/users/{patron}")
        elif roll < 0.7:
            self.call("search", "GET", "/api/v1/users?q=Soak")
        elif roll < 0.9:
            self.call("page", "GET", f"/users/{patron}/", ui=True)
        else:
            self.call("page", "GET", "/users/?q=Tester", ui=True)

    def run(self, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            self.one(n)
            n += 1


def test_mixed_load_has_no_server_errors_and_one_audit_event_per_write(http_live_server, admin):
    key = create_api_key(actor=SYSTEM, owner=admin, name="soak").key
    browser = Client()
    browser.force_login(admin)
    session = browser.cookies["sessionid"].value
    patrons = [make_user(last_name=f"Tester{n}").pk for n in range(5)]
    created_before = AuditEvent.objects.filter(verb="user.created").count()
    updated_before = AuditEvent.objects.filter(verb="user.updated").count()

    drivers = [Driver(http_live_server.url, key, session, seed, patrons) for seed in range(CLIENTS)]
    until = time.monotonic() + SECONDS
    threads = [threading.Thread(target=d.run, args=(until,)) for d in drivers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)

    outcomes = sum((d.outcomes for d in drivers), Counter())
    assert sum(outcomes.values()) > 20, outcomes  # the load really ran
    assert not [o for o in outcomes if o[1] >= 500], outcomes
    unexpected = {o for o in outcomes if o[1] not in (200, 201)}
    assert not unexpected, outcomes
    created = AuditEvent.objects.filter(verb="user.created").count() - created_before
    updated = AuditEvent.objects.filter(verb="user.updated").count() - updated_before
    assert created == outcomes[("create", 201)]
    assert updated == outcomes[("update", 200)]
