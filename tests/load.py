"""The mixed load of the soak test (tests/ops/test_soak.py) and of bench/soak.py, kept in one
place so that the test proves correctness under the very load the benchmark measures.

Each ``Driver`` is one keep-alive client of a live server. Per request it draws: create a
patron (20%), change one (20%) or read one (20%) through ``/api/v1``, search by name (10%),
and open a user record (20%) or a name search (10%) in the staff UI. It counts every answer
by kind and status and keeps each request's latency by kind.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections import Counter
from urllib.parse import urlsplit


class Driver:
    def __init__(self, server: str, key: str, session: str, seed: int, patrons: list[int]):
        address = urlsplit(server)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.key, self.session = key, session
        self.seed = seed
        self.random = random.Random(seed)
        self.patrons = patrons
        self.outcomes: Counter[tuple[str, int]] = Counter()
        self.latencies: dict[str, list[float]] = {}
        self.created: list[int] = []

    def call(
        self, kind: str, method: str, path: str, body: object = None, ui: bool = False
    ) -> tuple[int, bytes]:
        headers = (
            {"Cookie": f"sessionid={self.session}"}
            if ui
            else {"Authorization": f"apikey {self.key}", "Content-Type": "application/json"}
        )
        data = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        try:
            self.connection.request(method, path, data, headers)
            answer = self.connection.getresponse()
            status, payload = answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            # A dropped connection is an outcome of its own (status 0), never a silent retry:
            # the write may or may not have happened, and the audit count must say which.
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            status, payload = 0, b""
        self.latencies.setdefault(kind, []).append(time.perf_counter() - started)
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
        self.connection.close()
