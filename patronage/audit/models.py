"""The append-only audit trail: every write and every sensitive read.

There is no update or delete path: ``save`` refuses an existing row, ``delete`` refuses
always, and on PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE outright.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
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
        related_name="+",
    )
    reason = models.TextField(blank=True, default="")
    changes = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

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
