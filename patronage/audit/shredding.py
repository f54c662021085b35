"""Crypto-shredding: a person's personal values in the audit trail, sealed with their own key.

The before/after values of a subject's changes and the personal part of an event's details
(``record(..., sealed_details=...)``) are stored encrypted (Fernet: AES-128-CBC + HMAC) with
the subject's key; field names, verbs, actors and times stay readable. Forgetting the person
(``actions.forget_subject``) empties the key: the values become unreadable -- "(erased)" --
while the stored bytes, and so the hash chain over them, stay exactly as they were.

An event's changes keep their field names; their before/after values are sealed together,
as one token in ``details["sealed_changes"]`` (one encryption per event, which bulk jobs that
record a change of fifteen fields per user can afford). Events recorded before that carry one
token per change (``{"field": …, "sealed": …}``); both read back the same.

Once a subject is forgotten their key row stays, emptied: values recorded about them later
are stored as erased straight away rather than under a fresh, readable key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from django.db import IntegrityError, transaction
from django.utils import timezone

from patronage.bulk import insert_rows

from .models import AuditEvent, SubjectKey

SEALED = "sealed"
SEALED_CHANGES = "sealed_changes"
ERASED_MARK = {"erased": True}
ERASED = "(erased)"


def _subject_fernet(subject_id: int) -> Fernet | None:
    """The subject's key, created on first use; None once the subject is forgotten."""
    row = SubjectKey.objects.filter(subject_id=subject_id).values_list("key", flat=True)
    found = list(row)
    if not found:
        try:
            with transaction.atomic():
                key = Fernet.generate_key()
                SubjectKey.objects.create(subject_id=subject_id, key=key)
                return Fernet(key)
        except IntegrityError:  # created by a concurrent writer meanwhile
            found = list(row)
    stored = found[0]
    return Fernet(bytes(stored)) if stored else None


def _seal(fernet: Fernet | None, value: Any) -> Any:
    if fernet is None:
        return ERASED_MARK
    return fernet.encrypt(orjson.dumps(value)).decode()


def seal_changes(
    fernet: Fernet | None, changes: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The changes' field names, and the details entry sealing all their values at once."""
    if not changes:
        return [], {}
    values = [[change["old"], change["new"]] for change in changes]
    return [{"field": change["field"]} for change in changes], {
        SEALED_CHANGES: _seal(fernet, values)
    }


def seal(
    subject_id: int, changes: list[dict[str, Any]], sealed_details: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Changes with their values sealed, and the details' sealed entries."""
    fernet = _subject_fernet(subject_id)
    changes, details = seal_changes(fernet, changes)
    if sealed_details:
        details[SEALED] = _seal(fernet, sealed_details)
    return changes, details


def subject_fernets(subject_ids: set[int]) -> dict[int, Fernet | None]:
    """The keys of many subjects (bulk jobs), those missing created in one statement."""
    keys = SubjectKey.objects.filter(subject_id__any_of=subject_ids)
    found = dict(keys.values_list("subject_id", "key"))
    if missing := subject_ids - set(found):
        created = {subject: Fernet.generate_key() for subject in missing}
        now = timezone.now()
        rows = [{"subject_id": s, "key": key, "created_at": now} for s, key in created.items()]
        if len(insert_rows(SubjectKey, rows, returning_ids=True, ignore_conflicts=True)) == len(
            rows
        ):
            found.update(created)
        else:  # a concurrent writer's key won for some: read them all back
            found = dict(keys.values_list("subject_id", "key"))
    return {subject: Fernet(bytes(key)) if key else None for subject, key in found.items()}


class Opener:
    """Opens the sealed values of a batch of events with one query for their subjects' keys."""

    def __init__(self, events: Iterable[AuditEvent]) -> None:
        subjects = {event.subject_id for event in events if event.subject_id is not None}
        self._keys = {
            subject_id: Fernet(bytes(key)) if key else None
            for subject_id, key in SubjectKey.objects.filter(
                subject_id__any_of=subjects
            ).values_list("subject_id", "key")
        }

    def _open(self, event: AuditEvent, token: Any) -> Any:
        fernet = self._keys.get(event.subject_id) if event.subject_id is not None else None
        if fernet is None or not isinstance(token, str):
            return None
        try:
            return json.loads(fernet.decrypt(token.encode()))
        except InvalidToken:
            return None

    def changes(self, event: AuditEvent) -> list[dict[str, Any]]:
        """``[{"field", "old", "new", "erased"}]``: the values, or ERASED when unreadable."""
        details = event.details or {}
        if SEALED_CHANGES in details:
            values = self._open(event, details[SEALED_CHANGES])
            if values is None:
                return [
                    {"field": change["field"], "old": ERASED, "new": ERASED, "erased": True}
                    for change in event.changes or []
                ]
            return [
                {"field": change["field"], "old": old, "new": new, "erased": False}
                for change, (old, new) in zip(event.changes or [], values, strict=True)
            ]
        opened = []
        for change in event.changes or []:
            if SEALED not in change:  # recorded before sealing existed, or no subject
                opened.append({**change, "erased": False})
                continue
            values = self._open(event, change[SEALED])
            if values is None:
                opened.append(
                    {"field": change["field"], "old": ERASED, "new": ERASED, "erased": True}
                )
            else:
                opened.append(
                    {"field": change["field"], "old": values[0], "new": values[1], "erased": False}
                )
        return opened

    def details(self, event: AuditEvent) -> dict[str, Any]:
        """The details with their sealed part opened (``{"sealed": "(erased)"}`` if not)."""
        details = dict(event.details or {})
        details.pop(SEALED_CHANGES, None)  # opened by ``changes``
        if SEALED in details:
            opened = self._open(event, details.pop(SEALED))
            details.update(opened if isinstance(opened, dict) else {SEALED: ERASED})
        return details
