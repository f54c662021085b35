"""Retention of patron data (ALA/NISO practice; seed 002 "Purging Users" and "Last Patron
Activity Date").

One run (``run_retention``; the task ``run_retention_task``; ``patronage privacy retention``):

1. **Loans** returned more than ``RetentionSettings.anonymise_loans_after_days`` ago are
   anonymised, unless their borrower opted in to a loan history (``User.keep_loan_history``):
   the link to the borrower (and to a proxy) is dropped, and so is the fine's link to the
   loan, while the item, libraries, desks, dates and the borrower's user group stay for
   circulation statistics, and the fines ledger (amounts, entries, the item) is untouched.
2. **Users past their purge date** are purged by circulation's purge job
   (``circulation.deletion.purge_users``), with its deletion preconditions (no balance due,
   no loans out, no legal hold, ...): reused, not repeated here.
3. **Last patron activity dates** are deleted when the institution does not record them.

A user with a loan out, a fine or fee not settled (active or in dispute) or a legal hold is
never touched: their loans stay as they are, and the purge keeps them. The run
records its counts in the audit trail (``privacy.retention_run``); a dry run counts and
changes nothing.

The purge deletes users as the retention job (``Actor.job``), under the request id of whoever
started the run: the purge dates were set by staff allowed to, and the policy is the
institution's, so the Privacy Officer who runs retention needs no deletion permission.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django_tasks import task

from patronage.access.checks import require
from patronage.access.permissions import Permission
from patronage.accounts.models import User, UserManagementSettings
from patronage.audit.actions import diff, record
from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent
from patronage.circulation.choices import FeeStatus
from patronage.circulation.deletion import purge_users
from patronage.circulation.models import Fee, Loan
from patronage.errors import ValidationFailed

from .holds import held_users
from .models import RetentionSettings

RETENTION_JOB = "retention"
BATCH = 1000
# What the retention page and ``/privacy/retention`` change, and where each one lives.
SETTING_FIELDS = ("anonymise_loans_after_days", "record_last_patron_activity")
# A fee in either state is not settled: its payer's loans and record are left alone. (An
# exported fee is the bursar's to collect, as for deleting a user.)
UNSETTLED = (FeeStatus.ACTIVE, FeeStatus.IN_DISPUTE)


def retention_settings() -> dict[str, Any]:
    return {
        "anonymise_loans_after_days": RetentionSettings.current().anonymise_loans_after_days,
        "record_last_patron_activity": (
            UserManagementSettings.current().record_last_patron_activity
        ),
    }


def _check_settings(changes: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    for name in changes:
        if name not in SETTING_FIELDS:
            errors[name] = f"'{name}' is not a retention setting."
    cleaned: dict[str, Any] = {}
    if "anonymise_loans_after_days" in changes:
        value = changes["anonymise_loans_after_days"]
        if isinstance(value, bool) or not isinstance(value, int | str):
            errors["anonymise_loans_after_days"] = "Give a whole number of days, 0 to 3650."
        else:
            try:
                days = int(value)
            except ValueError:
                errors["anonymise_loans_after_days"] = "Give a whole number of days, 0 to 3650."
            else:
                row = RetentionSettings(anonymise_loans_after_days=days)
                try:
                    row.clean_fields()
                except ValidationError:
                    errors["anonymise_loans_after_days"] = (
                        f"{days} is out of range: returned loans are anonymised 0 to 3650 "
                        "days after their return."
                    )
                cleaned["anonymise_loans_after_days"] = days
    if "record_last_patron_activity" in changes:
        value = changes["record_last_patron_activity"]
        if not isinstance(value, bool):
            errors["record_last_patron_activity"] = "Give true or false."
        cleaned["record_last_patron_activity"] = value
    if errors:
        raise ValidationFailed(errors, code="invalid_retention_setting")
    return cleaned


@transaction.atomic
def update_retention_settings(*, actor: Actor, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change the retention settings. Turning off the last patron activity date deletes the
    dates stored for every user (seed 002), in the same transaction. A value out of range
    is refused with the reason, and then nothing is saved or deleted."""
    require(actor, Permission.PRIVACY_RETENTION)
    cleaned = _check_settings(changes)
    retention = RetentionSettings.objects.select_for_update().get(pk=RetentionSettings.current().pk)
    accounts = UserManagementSettings.objects.select_for_update().get(
        pk=UserManagementSettings.current().pk
    )
    before = retention_settings()
    if "anonymise_loans_after_days" in cleaned:
        retention.anonymise_loans_after_days = cleaned["anonymise_loans_after_days"]
        retention.save(update_fields=["anonymise_loans_after_days"])
    deleted = 0
    if "record_last_patron_activity" in cleaned:
        accounts.record_last_patron_activity = cleaned["record_last_patron_activity"]
        accounts.save(update_fields=["record_last_patron_activity"])
        if not accounts.record_last_patron_activity:
            deleted = _delete_activity_dates()
    after = retention_settings()
    changed = diff(before, after)
    if changed:
        record(
            actor=actor,
            verb="privacy.retention_settings_changed",
            obj=retention,
            changes=changed,
            details={"activity_dates_deleted": deleted},
        )
    return after


def _delete_activity_dates() -> int:
    # Not in anyone's History tab: changes of this date never are (seed 002).
    return User.objects.filter(last_patron_activity_date__isnull=False).update(
        last_patron_activity_date=None
    )


# --- the run -----------------------------------------------------------------------------------


@dataclass
class RetentionReport:
    dry_run: bool = False
    anonymise_after_days: int = 0
    loans_anonymised: int = 0
    # Borrowers whose old loans were left alone, by reason (a user may count under several).
    borrowers_left_alone: dict[str, int] = field(default_factory=dict)
    users_purged: int = 0
    users_kept: dict[str, int] = field(default_factory=dict)  # unmet precondition → users
    activity_dates_deleted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def users_not_to_touch() -> dict[str, QuerySet[Any]]:
    """Who the run leaves alone, and why (as subqueries of user ids): a loan out, a fee not
    settled, a legal hold."""
    return {
        "open_loans": Loan.objects.active().values("user_id"),
        "unsettled_fees": Fee.objects.filter(
            status__in=UNSETTLED, fee_type__is_credit=False
        ).values("user_id"),
        "legal_hold": held_users(),
    }


def loans_to_anonymise(cutoff: datetime.datetime) -> QuerySet[Loan]:
    """Returned before ``cutoff``, borrowed by someone who did not opt in to a history."""
    return Loan.objects.filter(
        returned_at__lt=cutoff, user__isnull=False, user__keep_loan_history=False
    )


def anonymise_loans(*, actor: Actor, loans: QuerySet[Loan], now: datetime.datetime) -> int:
    """Drop the borrower (and proxy) of these returned loans, keeping their user group, and
    the fines' link to them; in batches, each its own transaction with its own audit event
    (``loans.anonymised``). ``loans`` is evaluated again per batch, so a borrower who became
    one to leave alone meanwhile (a new loan, a new fee) is left alone. Returns the count."""
    done = 0
    loans = loans.filter(returned_at__isnull=False, user__isnull=False)
    ids = list(loans.values_list("pk", flat=True))
    group = User.objects.filter(pk=OuterRef("user_id")).values("user_group")[:1]
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            batch = list(
                loans.filter(pk__in=ids[start : start + BATCH]).values_list("pk", flat=True)
            )
            if not batch:
                continue
            Fee.objects.filter(loan_id__in=batch).update(loan=None)
            count = Loan.objects.filter(pk__in=batch).update(
                borrower_group=Subquery(group), user=None, proxy=None, anonymised_at=now
            )
            record(
                actor=actor,
                verb="loans.anonymised",
                object_type="loan",
                details={"loans": count, "first": batch[0], "last": batch[-1]},
            )
            done += count
    return done


def run_retention(*, actor: Actor, dry_run: bool = False) -> RetentionReport:
    """One retention run (see the module's docstring)."""
    require(actor, Permission.PRIVACY_RETENTION)
    days = RetentionSettings.current().anonymise_loans_after_days
    now = timezone.now()
    report = RetentionReport(dry_run=dry_run, anonymise_after_days=days)

    candidates = loans_to_anonymise(now - datetime.timedelta(days=days))
    loans = candidates
    for reason, users in users_not_to_touch().items():
        report.borrowers_left_alone[reason] = (
            candidates.filter(user_id__in=users).values("user_id").distinct().count()
        )
        loans = loans.exclude(user_id__in=users)
    if dry_run:
        report.loans_anonymised = loans.count()
    else:
        report.loans_anonymised = anonymise_loans(actor=actor, loans=loans, now=now)

    job = Actor(
        user=None,
        channel=actor.channel,
        ip=actor.ip,
        request_id=actor.request_id,
        job=RETENTION_JOB,
    )
    purge = purge_users(actor=job, dry_run=dry_run)
    report.users_purged = purge.deleted
    report.users_kept = dict(Counter(code for unmet in purge.kept.values() for code in unmet))

    recording = UserManagementSettings.current().record_last_patron_activity
    if dry_run:
        stored = User.objects.filter(last_patron_activity_date__isnull=False)
        report.activity_dates_deleted = 0 if recording else stored.count()
        return report
    with transaction.atomic():  # the last write and the run's counts together
        report.activity_dates_deleted = 0 if recording else _delete_activity_dates()
        record(
            actor=actor,
            verb="privacy.retention_run",
            object_type="retention",
            details=report.as_dict(),
        )
    return report


def recent_runs(limit: int = 20) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(verb="privacy.retention_run").order_by("-id")[:limit]


@task()
def run_retention_task(user_id: int | None = None) -> dict[str, Any]:
    """The scheduled run (as the system), or one a staff member started (checked again)."""
    user = User.objects.get(pk=user_id) if user_id is not None else None
    actor = Actor(user=user, channel=Channel.JOB, job=RETENTION_JOB)
    return run_retention(actor=actor).as_dict()


def enqueue_retention(*, actor: Actor) -> str:
    """Start a run in the background as ``actor``; the task's id."""
    require(actor, Permission.PRIVACY_RETENTION)
    user_id = actor.user.pk if actor.user is not None else None
    return str(run_retention_task.enqueue(user_id).id)
