"""Writing audit events. Called by other apps' actions inside their own transaction."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import models

from .context import Actor
from .models import AuditEvent


def _plain(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value for the before/after diff."""
    if isinstance(value, datetime.date | datetime.datetime | Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-level changes between two snapshots, in the order of ``after``."""
    return [
        {"field": name, "old": _plain(before.get(name)), "new": _plain(value)}
        for name, value in after.items()
        if before.get(name) != value
    ]


def record(
    *,
    actor: Actor,
    verb: str,
    obj: models.Model | None = None,
    object_type: str = "",
    subject: Any = None,
    changes: list[dict[str, Any]] | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor.user,
        actor_label=actor.label,
        channel=actor.channel,
        ip=actor.ip,
        request_id=actor.request_id,
        job=actor.job,
        terminal=actor.terminal,
        verb=verb,
        object_type=object_type or (obj._meta.model_name or "" if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None else "",
        subject=subject,
        reason=reason,
        changes=changes or [],
        details=details or {},
    )
