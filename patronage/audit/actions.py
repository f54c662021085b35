"""Writing audit events. Called by other apps' actions inside their own transaction.

Also the privileged writers of the trail itself: forgetting a subject (crypto-shredding),
and archiving old events (export, anchor, then delete).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from patronage.access.checks import require
from patronage.access.permissions import Permission
from patronage.bulk import insert_rows

from . import chain
from .context import Actor
from .models import AuditEvent, SubjectKey
from .shredding import seal, seal_changes, subject_fernets


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
    object_id: str = "",
    subject: Any = None,
    subject_id: int | None = None,
    changes: list[dict[str, Any]] | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
    sealed_details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. With a ``subject``, the before/after values of ``changes`` and the
    ``sealed_details`` (names and other personal values) are sealed with the subject's key,
    so forgetting the subject erases them; ``details`` stay readable (codes, counts)."""
    changes = changes or []
    details = dict(details or {})
    if subject is not None and (changes or sealed_details):
        changes, sealed = seal(subject.pk, changes, sealed_details)
        details.update(sealed)
    elif sealed_details:
        details.update(sealed_details)
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
        object_id=object_id or (str(obj.pk) if obj is not None else ""),
        subject_id=subject.pk if subject is not None else subject_id,
        reason=reason,
        changes=changes,
        details=details,
    )


def event(
    *,
    actor: Actor,
    verb: str,
    object_type: str,
    object_id: str = "",
    subject_id: int | None = None,
    changes: list[dict[str, Any]] | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """The column values of one event for ``record_many``."""
    return {
        "actor_id": actor.user.pk if actor.user is not None else None,
        "actor_label": actor.label,
        "channel": actor.channel,
        "ip": actor.ip,
        "request_id": actor.request_id,
        "job": actor.job,
        "terminal": actor.terminal,
        "verb": verb,
        "object_type": object_type,
        "object_id": object_id,
        "subject_id": subject_id,
        "reason": reason,
        "changes": changes or [],
        "details": {},
    }


def record_many(events: list[dict[str, Any]]) -> None:
    """Append a batch of events built by ``event``, inside the caller's transaction: the path
    of bulk jobs (SIS imports), which write thousands of changes per transaction. Values are
    sealed with each subject's key as ``record`` does (the keys read, and created, for the
    whole batch at once); rows go in with multi-row INSERTs, and the chaining step links
    them like any other event."""
    fernets = subject_fernets({e["subject_id"] for e in events if e["subject_id"] and e["changes"]})
    now = timezone.now()
    rows = []
    for values in events:
        if values["subject_id"] and values["changes"]:
            changes, sealed = seal_changes(fernets[values["subject_id"]], values["changes"])
            values = {**values, "changes": changes, "details": {**values["details"], **sealed}}
        rows.append({**values, "occurred_at": now})
    insert_rows(AuditEvent, rows)


@transaction.atomic
def forget_subject(*, actor: Actor, user_id: int, reason: str = "") -> bool:
    """Destroy the key sealing this person's values in the audit trail (crypto-shredding).

    Their History then shows "(erased)" for every value, the chain still verifies, and values
    recorded about them later are stored erased. Returns False if they were forgotten already.
    Called by the deletion and right-to-be-forgotten paths, in their transaction.
    """
    key, _ = SubjectKey.objects.select_for_update().get_or_create(subject_id=user_id)
    if key.destroyed_at is not None:
        return False
    key.key = None
    key.destroyed_at = timezone.now()
    key.save(update_fields=["key", "destroyed_at"])
    # No subject on this event: it names the record by id only, and must stay readable.
    record(
        actor=actor,
        verb="audit.subject_forgotten",
        object_type="user",
        object_id=str(user_id),
        reason=reason,
    )
    return True


def archive_trail(*, actor: Actor, before: datetime.datetime) -> chain.ArchiveResult:
    """Export the chained events older than ``before``, anchor the chain, delete them; the
    archive itself is an event (with the anchor) at the head of what remains."""
    require(actor, Permission.AUDIT_ARCHIVE)
    if before > timezone.now():
        raise chain.ArchiveRefused("Events can only be archived up to now, not a future date.")
    with transaction.atomic():
        result = chain.archive(before, actor.label)
        anchor = result.anchor
        record(
            actor=actor,
            verb="audit.archived",
            obj=anchor,
            details={
                "file": anchor.file_name,
                "sha256": anchor.file_sha256,
                "events": anchor.event_count,
                "last_seq": anchor.last_seq,
                "last_hash": anchor.last_hash,
                "before": before.isoformat(),
            },
        )
    return result
