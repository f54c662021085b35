"""The privacy officer's reports on the read-access log (seed 000).

* who looked at patron X (``views_of``), and what staff member Y looked at (``views_by``):
  every read event, newest first, over a period;
* unusual volume (``unusual_volume``): staff who viewed far more distinct patrons in a period
  than their peers -- more than ``factor`` times the median of everyone who viewed any, and at
  least ``minimum`` patrons.

Each requires ``privacy:access_log:view`` (403 otherwise).

And the legal-process register: only holders of ``privacy:legal_request:manage`` (the
Privacy Officer, General Counsel) see it; anyone else gets 403, an entry outside their
scope or missing is 404.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet
from django.utils import timezone

from patronage.access.checks import can, restrict
from patronage.access.permissions import Permission
from patronage.accounts.models import User, identifier_key
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, NotFound, ValidationFailed
from patronage.replica import reporting_database

from .models import LegalDocument, LegalRelease, LegalRequest, PrivacySettings
from .reads import READ_VERBS, VIEWED

DEFAULT_PERIOD = datetime.timedelta(days=30)
MAX_PERIOD = datetime.timedelta(days=3660)


def require_access_log(actor: User | None) -> None:
    if not can(actor, Permission.PRIVACY_ACCESS_LOG):
        raise Forbidden(
            f"You do not have the permission to do this ({Permission.PRIVACY_ACCESS_LOG.label}).",
            code="permission_denied",
        )


@dataclass(frozen=True)
class Period:
    start: datetime.datetime
    end: datetime.datetime

    @classmethod
    def of(cls, start: datetime.date | None, end: datetime.date | None) -> Period:
        """[start, end] as whole local days; the last 30 days by default."""
        today = timezone.localdate()
        end = end or today
        start = start or end - DEFAULT_PERIOD
        if start > end:
            raise ValidationFailed({"start": "The period starts after it ends."})
        if end - start > MAX_PERIOD:
            raise ValidationFailed({"start": "A period is at most ten years long."})
        tz = timezone.get_current_timezone()
        return cls(
            start=datetime.datetime.combine(start, datetime.time.min, tz),
            end=datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tz),
        )


def _reads(actor: User | None, period: Period) -> QuerySet[AuditEvent]:
    require_access_log(actor)
    return (
        AuditEvent.objects.using(reporting_database())
        .filter(verb__in=READ_VERBS, occurred_at__gte=period.start, occurred_at__lt=period.end)
        .order_by("-occurred_at", "-id")
    )


def views_of(actor: User | None, subject_id: int, period: Period) -> QuerySet[AuditEvent]:
    """Who looked at this patron's record (UI, API, CLI, exports)."""
    return _reads(actor, period).filter(subject_id=subject_id)


def views_by(actor: User | None, staff_id: int, period: Period) -> QuerySet[AuditEvent]:
    """What this staff member looked at and searched for."""
    return _reads(actor, period).filter(actor_id=staff_id)


@dataclass(frozen=True)
class VolumeRow:
    actor_id: int
    actor_label: str
    patrons: int
    views: int
    ratio: Decimal  # patrons viewed / the median


@dataclass(frozen=True)
class VolumeReport:
    period: Period
    median: Decimal
    factor: Decimal
    minimum: int
    staff_count: int
    unusual: list[VolumeRow]


def unusual_volume(actor: User | None, period: Period) -> VolumeReport:
    """Staff whose number of distinct patrons viewed exceeds factor x the peers' median."""
    config = PrivacySettings.current()
    rows = list(
        _reads(actor, period)
        .filter(verb=VIEWED, actor__isnull=False)
        .order_by()
        .values("actor_id")
        .annotate(patrons=Count("subject_id", distinct=True), views=Count("id"))
    )
    counts = [row["patrons"] for row in rows]
    median = Decimal(str(statistics.median(counts))) if counts else Decimal(0)
    threshold = median * config.unusual_volume_factor
    flagged = [
        row
        for row in rows
        if row["patrons"] > threshold and row["patrons"] >= config.unusual_volume_minimum
    ]
    labels = dict(
        User.objects.using(reporting_database())
        .filter(pk__in=[row["actor_id"] for row in flagged])
        .values_list("pk", "primary_id")
    )
    unusual = [
        VolumeRow(
            actor_id=row["actor_id"],
            actor_label=labels.get(row["actor_id"], f"user {row['actor_id']}"),
            patrons=row["patrons"],
            views=row["views"],
            ratio=(Decimal(row["patrons"]) / median).quantize(Decimal("0.1")),
        )
        for row in sorted(flagged, key=lambda row: -row["patrons"])
    ]
    return VolumeReport(
        period=period,
        median=median,
        factor=config.unusual_volume_factor,
        minimum=config.unusual_volume_minimum,
        staff_count=len(counts),
        unusual=unusual,
    )


# --- the legal-process register ---------------------------------------------------------------


def require_register(actor: User | None) -> None:
    """Only the Privacy Officer and counsel see the register (seed 000)."""
    if not can(actor, Permission.PRIVACY_LEGAL_REQUEST):
        raise Forbidden(
            "Only the Privacy Officer and General Counsel see the legal-process register.",
            code="permission_denied",
        )


def legal_requests(actor: User | None, state: str = "") -> QuerySet[LegalRequest]:
    require_register(actor)
    requests = restrict(LegalRequest.objects.all(), actor, Permission.PRIVACY_LEGAL_REQUEST)
    if state:
        requests = requests.filter(state=state)
    return requests.select_related("library", "recorded_by")


def get_legal_request(actor: User | None, pk: int | str) -> LegalRequest:
    try:
        return legal_requests(actor).get(pk=int(pk))
    except (LegalRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such request in the register.", code="legal_request_not_found") from None


def legal_document(request: LegalRequest, pk: int | str) -> LegalDocument:
    document = request.documents.filter(pk=pk).first()
    if document is None:
        raise NotFound("This request has no such document.", code="document_not_found")
    return document


def legal_release(request: LegalRequest) -> LegalRelease:
    release = LegalRelease.objects.filter(request=request).first()
    if release is None:
        raise NotFound("Nothing has been released for this request.", code="release_not_found")
    return release


def patrons_named(identifiers: list[str]) -> list[User]:
    """The users an order names by primary ID or identifier (exact, case-insensitive).

    Counsel names patrons without seeing their records, so this is not scoped to the actor;
    an identifier nobody has is refused with the identifier named.
    """
    found: list[User] = []
    unknown: list[str] = []
    for value in identifiers:
        user = User.objects.filter(identifiers__key=identifier_key(value)).first()
        if user is None:
            unknown.append(value)
        elif user not in found:
            found.append(user)
    if unknown:
        raise ValidationFailed({"patrons": f"No user has the identifier {', '.join(unknown)}."})
    return found
