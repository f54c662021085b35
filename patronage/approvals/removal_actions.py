"""Removing access (seed 003 "Removing roles"): separations from HR, transfers between units,
and grants that end (student employees), expired by the daily job.

These write ``access.RoleGrant`` rows directly — removal is HR's and Library IT's authority
(``access:separation:process``), not delegated granting — and each does what the roles code
does when power shrinks: ``grants_changed`` in the same transaction (no cached decision
survives), ``end_sessions`` (sessions end, API keys are revoked at once), an audit event.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from patronage.access.actions import grants_changed
from patronage.access.checks import require
from patronage.access.models import RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts.actions import end_sessions, update_user
from patronage.accounts.choices import UserStatus
from patronage.accounts.models import User, identifier_key
from patronage.audit.actions import record
from patronage.audit.context import Actor
from patronage.errors import DomainError, ValidationFailed

from . import directory
from .actions import close
from .choices import CLOSED_STATUSES, RequestStatus
from .models import GrantNotice, Placement, Separation, Unit
from .notifications import link, notify

SEPARATION_COLUMNS = ("primary_id", "separation_date")


def start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _end_grants(
    actor: Actor, user: User, grants: list[RoleGrant], at: datetime.datetime, verb: str, reason: str
) -> None:
    """End ``grants`` at ``at`` (now or later); revoked at once if ``at`` has come."""
    if not grants:
        return
    now = timezone.now()
    for grant in grants:
        if grant.valid_until is None or grant.valid_until > at:
            grant.valid_until = at
        if at <= now:
            grant.revoked_at = now
    RoleGrant.objects.bulk_update(grants, ["valid_until", "revoked_at"])
    grants_changed(user)
    record(
        actor=actor,
        verb=verb,
        object_type="rolegrant",
        subject=user,
        reason=reason,
        changes=[{"field": "roles", "old": str(g), "new": None} for g in grants],
        details={
            "grants": [g.pk for g in grants],
            "environments": sorted({g.environment for g in grants}),
            "ends": at.isoformat(),
        },
    )


def _unended(user: User, at: datetime.datetime) -> list[RoleGrant]:
    """The user's grants in any environment not revoked and not ended by ``at``."""
    return list(
        RoleGrant.objects.select_for_update()
        .filter(user=user, revoked_at__isnull=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .select_related("role")
    )


# --- separations -------------------------------------------------------------------------------


@transaction.atomic
def separate(
    *, actor: Actor, user: User, separation_date: datetime.date, source: str = ""
) -> Separation:
    """HR says the person leaves: every grant (production and sandbox) ends at the start of
    the separation date. On that date (at once, if it has come) sessions and API keys are
    revoked, the login is deactivated and the person's open requests are cancelled."""
    require(actor, Permission.SEPARATIONS_PROCESS)
    user = User.objects.select_for_update().get(pk=user.pk)
    if Separation.objects.filter(user=user, separation_date=separation_date).exists():
        raise ValidationFailed(
            {
                "separation_date": f"{user.display_name}'s separation on {separation_date} is "
                "recorded already."
            },
            code="already_separated",
        )
    at = start_of(separation_date)
    separation = Separation.objects.create(
        user=user,
        separation_date=separation_date,
        source=source,
        recorded_at=timezone.now(),
        recorded_by=actor.user,
    )
    _end_grants(
        actor,
        user,
        _unended(user, at),
        at,
        "role.ended_by_separation",
        f"separation on {separation_date}",
    )
    record(
        actor=actor,
        verb="user.separation_recorded",
        obj=separation,
        subject=user,
        details={"separation_date": str(separation_date), "source": source},
    )
    if at <= timezone.now():
        complete_separation(actor=actor, separation=separation)
    placement = directory.placement_of(user)
    notify(
        [placement.supervisor if placement else None],
        f"Separation of {user.display_name} on {separation_date}",
        f"{user.display_name}'s roles end on {separation_date}; their login is deactivated "
        "that day.\n",
    )
    return separation


def complete_separation(*, actor: Actor, separation: Separation) -> None:
    """The separation date has come: nothing of the login may still work."""
    user = User.objects.select_for_update().get(pk=separation.user_id)
    _end_grants(
        actor,
        user,
        _unended(user, timezone.now()),
        timezone.now(),
        "role.ended_by_separation",
        f"separation on {separation.separation_date}",
    )
    end_sessions(user)
    if user.status != UserStatus.INACTIVE:
        update_user(
            actor=actor,
            user=user,
            fields={"status": UserStatus.INACTIVE},
            reason=f"separation on {separation.separation_date}",
        )
    for request in user.role_requests.exclude(status__in=CLOSED_STATUSES).select_for_update():
        close(actor, request, RequestStatus.CANCELLED, "The person has left the library.")
    separation.completed_at = timezone.now()
    separation.save(update_fields=["completed_at"])


@dataclass
class RowReport:
    line: int
    primary_id: str
    message: str
    ok: bool


@dataclass
class FileReport:
    rows: list[RowReport] = field(default_factory=list)

    @property
    def applied(self) -> list[RowReport]:
        return [row for row in self.rows if row.ok]

    @property
    def errors(self) -> list[RowReport]:
        return [row for row in self.rows if not row.ok]


def process_separation_file(*, actor: Actor, content: str | bytes, source: str = "") -> FileReport:
    """A CSV from HR with the columns ``primary_id,separation_date`` (YYYY-MM-DD). Each good
    row is applied in its own transaction; a malformed row or an unknown person is reported
    with its line number and changes nothing."""
    require(actor, Permission.SEPARATIONS_PROCESS)
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed({"file": "The file is not UTF-8 text."}) from None
    reader = csv.DictReader(io.StringIO(content))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if missing := [c for c in SEPARATION_COLUMNS if c not in header]:
        raise ValidationFailed(
            {
                "file": f"The header must name the columns {', '.join(SEPARATION_COLUMNS)} "
                f"(missing: {', '.join(missing)})."
            },
            code="bad_header",
        )
    report = FileReport()
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        primary_id = values.get("primary_id", "")
        report.rows.append(_apply_row(actor, line, primary_id, values, seen, source))
    record(
        actor=actor,
        verb="separation_file.processed",
        object_type="separation",
        details={
            "source": source,
            "applied": len(report.applied),
            "errors": [{"line": r.line, "message": r.message} for r in report.errors],
        },
    )
    return report


def _apply_row(
    actor: Actor, line: int, primary_id: str, values: dict[str, str], seen: set[str], source: str
) -> RowReport:
    def bad(message: str) -> RowReport:
        return RowReport(line, primary_id, message, ok=False)

    if not primary_id:
        return bad("No primary ID.")
    try:
        day = datetime.date.fromisoformat(values.get("separation_date", ""))
    except ValueError:
        return bad(f"'{values.get('separation_date', '')}' is not a date (YYYY-MM-DD).")
    key = identifier_key(primary_id)
    if key in seen:
        return bad("The person is named twice in the file.")
    seen.add(key)
    user = User.objects.filter(identifiers__key=key, identifiers__is_primary=True).first()
    if user is None:
        return bad("No user has this primary ID.")
    try:
        separate(actor=actor, user=user, separation_date=day, source=source)
    except DomainError as refusal:
        return bad(refusal.message)
    return RowReport(line, primary_id, f"Roles end on {day}.", ok=True)


# --- transfers ----------------------------------------------------------------------------------


@dataclass
class TransferResult:
    removed: list[RoleGrant]
    review: list[RoleGrant]


@transaction.atomic
def transfer(
    *, actor: Actor, user: User, unit: Unit, supervisor: User | None = None, reason: str = ""
) -> TransferResult:
    """The person moves to another unit: the grants scoped within the old unit's library end
    now; the rest (institution-wide, other libraries) are listed for the new supervisor and
    the area leads to review."""
    require(actor, Permission.SEPARATIONS_PROCESS)
    placement = (
        Placement.objects.select_for_update().select_related("unit").filter(user=user).first()
    )
    if placement is None:
        raise ValidationFailed({"user": f"{user.display_name} has no unit in the directory."})
    if placement.unit_id == unit.pk:
        raise ValidationFailed({"unit": f"{user.display_name} is in {unit} already."})
    if supervisor is not None and supervisor.pk == user.pk:
        raise ValidationFailed({"supervisor": "Nobody supervises themself."})
    old = placement.unit
    now = timezone.now()
    grants = _unended(user, now)
    removed = [
        g
        for g in grants
        if old.library_id and _library_of(g) == old.library_id and old.library_id != unit.library_id
    ]
    review = [g for g in grants if g not in removed and not g.role.login_model]
    _end_grants(actor, user, removed, now, "role.ended_by_transfer", f"transfer from {old}")
    if removed:
        end_sessions(user)
    placement.unit = unit
    placement.supervisor = supervisor or placement.supervisor
    placement.since = timezone.localdate()
    placement.save()
    record(
        actor=actor,
        verb="user.transferred",
        obj=placement,
        subject=user,
        reason=reason,
        changes=[{"field": "unit", "old": str(old), "new": str(unit)}],
        details={"removed": [g.pk for g in removed], "review": [g.pk for g in review]},
    )
    listing = "\n".join(f"- {g}" for g in review) or "(none)"
    notify(
        [placement.supervisor],
        f"{user.display_name} moved to {unit}: roles to review",
        f"{user.display_name} moved from {old} to {unit}. Roles scoped to {old} ended.\n"
        f"Please review the roles they keep:\n{listing}\n"
        f"To remove some, file an update request: {link('approvals_request_new')}\n",
    )
    return TransferResult(removed=removed, review=review)


def _library_of(grant: RoleGrant) -> int | None:
    unit = grant.unit
    if unit is None:
        return None
    return unit.pk if grant.scope_type == "LIBRARY" else unit.library_id  # type: ignore[union-attr]


# --- grants that end: the daily job ------------------------------------------------------------


@dataclass
class DailyReport:
    reminded: int = 0
    expired: int = 0
    separations_completed: int = 0
    acknowledgement_reminders: int = 0


def run_daily(*, actor: Actor) -> DailyReport:
    """What the daily job does (``patronage governance daily``, task ``daily_governance``)."""
    from .acknowledgement_actions import remind_lapsing

    require(actor, Permission.SEPARATIONS_PROCESS)
    report = DailyReport()
    report.reminded = remind_ending_grants(actor=actor)
    report.expired = expire_ended_grants(actor=actor)
    due = Separation.objects.filter(
        completed_at__isnull=True, separation_date__lte=timezone.localdate()
    )
    for separation in due:
        with transaction.atomic():
            complete_separation(actor=actor, separation=separation)
        report.separations_completed += 1
    report.acknowledgement_reminders = remind_lapsing(actor=actor)
    return report


@transaction.atomic
def remind_ending_grants(*, actor: Actor) -> int:
    """Tell holders (and their supervisors) of grants ending within the reminder period."""
    now = timezone.now()
    horizon = now + datetime.timedelta(days=settings.GRANT_EXPIRY_REMINDER_DAYS)
    grants = (
        RoleGrant.objects.filter(
            revoked_at__isnull=True, valid_until__gt=now, valid_until__lte=horizon
        )
        .exclude(pk__in=GrantNotice.objects.filter(kind=GrantNotice.Kind.REMINDER).values("grant"))
        .select_related("user", "role")
    )
    count = 0
    for grant in grants:
        GrantNotice.objects.create(grant=grant, kind=GrantNotice.Kind.REMINDER, sent_at=now)
        placement = directory.placement_of(grant.user)
        assert grant.valid_until is not None
        notify(
            [grant.user, placement.supervisor if placement else None],
            f"{grant.role.name} ends on {timezone.localdate(grant.valid_until)}",
            f"{grant.user.display_name}'s role {grant} ({grant.environment}) ends on "
            f"{timezone.localdate(grant.valid_until)}. File an update request to extend it: "
            f"{link('approvals_request_new')}\n",
        )
        count += 1
    return count


@transaction.atomic
def expire_ended_grants(*, actor: Actor) -> int:
    """Grants whose end has come give nothing already (``GrantQuerySet.active``); here they are
    recorded as expired, the holder's sessions end and the holder is told."""
    now = timezone.now()
    grants = list(
        RoleGrant.objects.select_for_update()
        .filter(revoked_at__isnull=True, valid_until__lte=now)
        .exclude(pk__in=GrantNotice.objects.filter(kind=GrantNotice.Kind.EXPIRED).values("grant"))
        .select_related("user", "role")
    )
    for user_id in {g.user_id for g in grants}:
        mine = [g for g in grants if g.user_id == user_id]
        user = mine[0].user
        GrantNotice.objects.bulk_create(
            GrantNotice(grant=g, kind=GrantNotice.Kind.EXPIRED, sent_at=now) for g in mine
        )
        grants_changed(user)
        end_sessions(user)
        record(
            actor=actor,
            verb="role.expired",
            object_type="rolegrant",
            subject=user,
            changes=[{"field": "roles", "old": str(g), "new": None} for g in mine],
            details={"grants": [g.pk for g in mine]},
        )
        notify([user], "Roles ended", "".join(f"{g} ended.\n" for g in mine))
    return len(grants)
