"""Speaking JSON to /api/v1 in tests, and counting what was written."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from patronage.accounts.models import (
    Address,
    Email,
    Phone,
    User,
    UserBlock,
    UserIdentifier,
    UserNote,
    UserStatistic,
)
from patronage.audit.models import AuditEvent

BASE = "/api/v1"
WRITTEN = (
    User,
    UserIdentifier,
    Email,
    Phone,
    Address,
    UserNote,
    UserStatistic,
    UserBlock,
    AuditEvent,
)


class ApiClient:
    """A test client speaking JSON to /api/v1, signed in as ``user`` (or anonymous)."""

    def __init__(self, user: User | None = None, *, enforce_csrf_checks: bool = False):
        self.client = Client(enforce_csrf_checks=enforce_csrf_checks)
        if user is not None:
            self.client.force_login(user)

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs = {
                "data": body if isinstance(body, str) else json.dumps(body),
                "content_type": "application/json",
            }
        elif query:
            kwargs = {"data": query}
        response = getattr(self.client, method.lower())(f"{BASE}{path}", **kwargs)
        response.json_body = json.loads(response.content) if response.content else None
        return response

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, {} if body is None else body)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)


def written() -> dict[str, int]:
    """Row counts of everything the user-record actions write, audit trail included."""
    return {model.__name__: model.objects.count() for model in WRITTEN}
