"""Publishing the confidentiality policy, acknowledging it, and the reminders before an
acknowledgement lapses (seed 000: "review and acknowledge ... each year")."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from patronage.access.checks import require
from patronage.access.permissions import Permission
from patronage.audit.actions import record
from patronage.audit.context import Actor
from patronage.errors import ValidationFailed

from . import acknowledgements
from .acknowledgements import current_policy
from .models import Acknowledgement, ConfidentialityPolicy
from .notifications import link, notify


@transaction.atomic
def publish_policy(*, actor: Actor, title: str, text: str) -> ConfidentialityPolicy:
    """A new version of the policy: everyone who looks patrons up acknowledges it anew."""
    require(actor, Permission.DIRECTORY_MANAGE)
    errors = {}
    if not title.strip():
        errors["title"] = "Give the policy a title."
    if not text.strip():
        errors["text"] = "The policy needs its text."
    if errors:
        raise ValidationFailed(errors)
    latest = ConfidentialityPolicy.objects.select_for_update().order_by("-version").first()
    policy = ConfidentialityPolicy.objects.create(
        version=(latest.version + 1) if latest else 1,
        title=title.strip(),
        text=text.strip(),
        published_at=timezone.now(),
        published_by=actor.user,
    )
    acknowledgements.published_policy.forget()
    record(
        actor=actor,
        verb="confidentiality_policy.published",
        obj=policy,
        details={"version": policy.version},
    )
    return policy


@transaction.atomic
def acknowledge(*, actor: Actor, version: int) -> Acknowledgement:
    """The acting staff member acknowledges the version of the policy they were shown."""
    if actor.user is None:
        raise ValidationFailed({"user": "Only a person acknowledges the policy."})
    policy = current_policy()
    if policy is None or policy.version != version:
        raise ValidationFailed(
            {
                "version": "This version of the policy is no longer current; read the current "
                "version and acknowledge it."
            },
            code="outdated_policy",
        )
    acknowledgement = Acknowledgement.objects.create(
        user=actor.user, policy=policy, acknowledged_at=timezone.now()
    )
    acknowledgements.forget(actor.user)
    record(
        actor=actor,
        verb="confidentiality_policy.acknowledged",
        obj=acknowledgement,
        subject=actor.user,
        details={"version": policy.version},
    )
    return acknowledgement


@transaction.atomic
def remind_lapsing(*, actor: Actor) -> int:
    """Remind holders whose acknowledgement lapses within the reminder period, once each."""
    policy = current_policy()
    if policy is None:
        return 0
    now = timezone.now()
    soon = now + datetime.timedelta(days=settings.CONFIDENTIALITY_ACK_REMINDER_DAYS)
    count = 0
    for row in acknowledgements.holders_status():
        if row.lapses_at is None or not (now < row.lapses_at <= soon):
            continue
        latest = acknowledgements.latest_acknowledgement(row.user, policy)
        if latest is None or latest.reminded_at is not None:
            continue
        latest.reminded_at = now
        latest.save(update_fields=["reminded_at"])
        notify(
            [row.user],
            "Please acknowledge the confidentiality policy",
            f"Your acknowledgement of {policy} lapses on "
            f"{timezone.localdate(row.lapses_at)}. Without it, looking patrons up by name and "
            f"seeing their details stop working. Acknowledge it at {link('acknowledgement')}\n",
        )
        record(
            actor=actor, verb="confidentiality_policy.reminder_sent", obj=latest, subject=row.user
        )
        count += 1
    return count
