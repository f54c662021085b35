"""The append-only audit trail: every write and every sensitive read.

There is no update or delete path: ``save`` refuses an existing row, ``delete`` refuses
always, and on PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE outright.
The one sanctioned removal is archiving (``patronage.audit.chain.archive``), which exports a
verified prefix of the chain, anchors it (``AuditAnchor``) and only then deletes it.

Tamper evidence (``chain.py``): each event, once committed, is given a ``AuditLink`` -- its
position in the chain and a keyed hash over its stored fields and the previous link's hash.
Personal values of a subject's events are sealed with that subject's key (``SubjectKey``,
``shredding.py``); destroying the key erases them without touching the chain.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    pass


M = TypeVar("M", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[M]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # audit_actor_time leads with it
        related_name="+",
    )
    actor_label = models.CharField(max_length=255)
    channel = models.CharField(max_length=20)
    ip = models.CharField(max_length=64, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    job = models.CharField(max_length=100, blank=True, default="")
    terminal = models.CharField(max_length=100, blank=True, default="")
    verb = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True, default="")
    # The user record the event concerns: the index behind each user's History tab.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # audit_subject_time leads with it
        related_name="+",
    )
    reason = models.TextField(blank=True, default="")
    changes = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet["AuditEvent"].as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["subject", "-occurred_at"], name="audit_subject_time"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb} {self.object_type}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events cannot be deleted")


class AuditLink(models.Model):
    """An event's place in the hash chain: written by the chaining step, never by writers.

    ``seq`` is the chain position (the order in which committed events were chained, which
    on PostgreSQL may differ from id order); ``hash`` = HMAC(key, previous hash + canonical
    event). No foreign-key constraint: a deleted event must leave its link behind, so that
    ``verify`` can name it.
    """

    seq = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(
        AuditEvent,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="link",
    )
    hash = models.CharField(max_length=64)

    objects = AppendOnlyQuerySet["AuditLink"].as_manager()

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class AuditAnchor(models.Model):
    """Where an archived prefix of the chain ended: the chain goes on from ``last_hash``."""

    created_at = models.DateTimeField(auto_now_add=True)
    last_seq = models.BigIntegerField(unique=True)
    last_hash = models.CharField(max_length=64)
    archived_before = models.DateTimeField()
    event_count = models.PositiveIntegerField()
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    actor_label = models.CharField(max_length=255)

    class Meta:
        ordering = ["-last_seq"]

    def __str__(self) -> str:
        return f"anchor at #{self.last_seq}"


class SubjectKey(models.Model):
    """The key sealing one person's personal values in the audit trail.

    ``key`` is emptied (never the row deleted) when the person is forgotten: their sealed
    values can no longer be read, and ``destroyed_at`` says since when.
    """

    subject_id = models.BigIntegerField(unique=True)
    key = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"key of user {self.subject_id}"
