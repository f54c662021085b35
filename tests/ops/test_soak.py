"""A bounded soak run: several clients drive the API and the staff UI with mixed reads and
writes (tests/load.py, the mix bench/soak.py measures) against a live server for a fixed
time; then no request may have had a 5xx answer, and the audit trail must hold exactly one
event per write that succeeded.

``PATRONAGE_SOAK_SECONDS`` sets the duration (default 8 in the suite).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from patronage.access.api_key_actions import create_api_key
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM, make_user
from tests.load import Driver

pytestmark = pytest.mark.usefixtures("reference_data")

SECONDS = float(os.environ.get("PATRONAGE_SOAK_SECONDS", "8"))
# The live server's threads share the test's one connection to an in-memory SQLite
# database, which cannot serve requests side by side; concurrency is tested on PostgreSQL.
CLIENTS = 4 if connection.vendor == "postgresql" else 1


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
