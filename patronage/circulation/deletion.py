"""Deleting users and the purge job (seed 002 "Deleting Users").

A user can be deleted only when the preconditions hold: no balance due, no outstanding
loans (their own, or borrowed as a proxy for a sponsor), no legal hold (named by an open
request of the legal-process register), not locked by a running job, and not one's own
account. (Hold requests are placed in the fulfillment system, which enforces
``fulfillment:request:place``; there are none here to hold a deletion.) The
deletion dialog offers the seed's choices: cancel, view the record, waive the fees (then
confirm), and notify the user (the User Deletion Letter, e-mailed after the commit with a
copy of the letter attached).

The audit trail of a deleted user is kept (audit rows are append-only and refer to the
user by id without a database constraint); ``patronage.audit.actions.forget_subject`` makes
the personal values of that history unreadable (crypto-shredding), in the same transaction.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from patronage.access.permissions import Permission
from patronage.accounts.actions import require_change
from patronage.accounts.models import Email, User
from patronage.audit.actions import forget_subject, record
from patronage.audit.context import Actor, Channel
from patronage.errors import Conflict, ValidationFailed
from patronage.privacy.holds import legal_holds

from .actions import waive_all
from .choices import FeeStatus
from .models import Fee, Loan
from .selectors import fee_balance

PURGE_JOB = "purge-users"
DELETION_WAIVE_REASON = "USER_DELETION"


@dataclass(frozen=True)
class Precondition:
    code: str
    label: str
    met: bool
    detail: str = ""


@dataclass
class DeletionCheck:
    """What the deletion dialog shows: each precondition, and what may be done about it."""

    user: User
    preconditions: list[Precondition] = field(default_factory=list)
    balance_due: Decimal = Decimal("0.00")

    @property
    def can_delete(self) -> bool:
        return all(p.met for p in self.preconditions)

    @property
    def unmet(self) -> list[Precondition]:
        return [p for p in self.preconditions if not p.met]

    @property
    def fees_only(self) -> bool:
        """Only fees stand in the way: the dialog offers "Waive fees" (then confirm)."""
        return bool(self.unmet) and all(p.code == "balance_due" for p in self.unmet)


def _owed_fees(user: User) -> list[Fee]:
    """Fees the user still owes here (exported ones are the bursar's to collect)."""
    return [
        fee
        for fee in Fee.objects.filter(
            user=user,
            status__in=[FeeStatus.ACTIVE, FeeStatus.IN_DISPUTE],
            fee_type__is_credit=False,
        )
        if fee_balance(fee) > 0
    ]


def locked_by_running_job(user: User) -> bool:
    """A running task that works on one user names it in its ``user_id`` keyword argument
    (a convention of every job that locks a user record, e.g. an SIS update of one user)."""
    return (
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
        .filter(Q(args_kwargs__kwargs__user_id=user.pk))
        .exists()
    )


def deletion_check(user: User, *, actor: Actor | None = None) -> DeletionCheck:
    check = DeletionCheck(user=user)
    owed = _owed_fees(user)
    check.balance_due = sum((fee_balance(f) for f in owed), Decimal("0.00"))
    loans = Loan.objects.active().filter(user=user).count()
    add = check.preconditions.append
    add(
        Precondition(
            "balance_due",
            "No balance due",
            not owed,
            f"{len(owed)} fines/fees, {check.balance_due} due" if owed else "",
        )
    )
    add(
        Precondition(
            "outstanding_loans",
            "No outstanding loans",
            loans == 0,
            f"{loans} item(s) on loan" if loans else "",
        )
    )
    proxied = Loan.objects.active().filter(proxy=user).count()
    add(
        Precondition(
            "proxy_loans",
            "No items out as a proxy",
            proxied == 0,
            f"{proxied} item(s) borrowed for a sponsor still out" if proxied else "",
        )
    )
    holds = legal_holds(user.pk)
    add(
        Precondition(
            "legal_hold",
            "No legal hold",
            not holds,
            f"named by an open legal request ({', '.join(holds)})" if holds else "",
        )
    )
    locked = locked_by_running_job(user)
    add(
        Precondition(
            "locked_by_job",
            "Not locked by a running job",
            not locked,
            "a job is updating this record" if locked else "",
        )
    )
    if actor is not None and actor.user is not None:
        own = actor.user.pk == user.pk
        add(Precondition("own_account", "Not your own account", not own))
    return check


def _preferred_email(user: User) -> str:
    email = Email.objects.filter(user=user).order_by("-preferred", "id").first()
    return email.address if email else ""


def _deletion_letter(user: User) -> str:
    return render_to_string(
        "circulation/user_deletion_letter.txt",
        {"user": user, "date": timezone.localdate()},
    )


def _send_letter(address: str, letter: str) -> None:
    message = EmailMessage(
        subject="Your library account has been deleted",
        body=letter,
        to=[address],
    )
    message.attach("user-deletion-letter.txt", letter, "text/plain")
    message.send()


@transaction.atomic
def delete_user(
    *,
    actor: Actor,
    user: User,
    waive_fees: bool = False,
    notify: bool = False,
    reason: str = "",
) -> None:
    """Delete ``user`` when the preconditions hold; ``waive_fees`` first waives what they
    owe (the dialog's "Waive fees", then confirm); ``notify`` e-mails the deletion letter."""
    require_change(actor, Permission.USERS_DELETE, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if waive_fees and _owed_fees(user):
        waive_all(
            actor=actor,
            user=user,
            reason=DELETION_WAIVE_REASON,
            comment="Waived to delete the user record",
        )
    check = deletion_check(user, actor=actor)
    if not check.can_delete:
        reasons = "; ".join(
            f"{p.label.lower().replace('no ', '', 1)}: {p.detail}" if p.detail else p.label
            for p in check.unmet
        )
        raise Conflict(f"{user} cannot be deleted: {reasons}.", code="deletion_refused")
    address = _preferred_email(user) if notify else ""
    if notify and not address:
        raise ValidationFailed(
            {"notify": "The user has no e-mail address to send the deletion letter to."},
            code="no_email",
        )
    letter = _deletion_letter(user) if notify else ""
    user_id = user.pk
    record(
        actor=actor,
        verb="user.deleted",
        obj=user,
        subject=user,
        reason=reason,
        details={"record_type": user.record_type, "notified": bool(notify)},
    )
    user.delete()
    # The history stays; the personal values in it become unreadable (crypto-shredding).
    forget_subject(actor=actor, user_id=user_id, reason="User record deleted")
    if notify:
        transaction.on_commit(lambda: _send_letter(address, letter))


@dataclass
class PurgeReport:
    deleted: int = 0
    kept: dict[int, list[str]] = field(default_factory=dict)  # user id → unmet preconditions


def purge_users(
    *, actor: Actor, today: datetime.date | None = None, dry_run: bool = False
) -> PurgeReport:
    """The purge job: delete every user whose purge date has come and who meets the
    preconditions; the others are kept and reported. One transaction per user. A dry run
    counts who would be deleted and deletes nobody (the retention run's ``--dry-run``)."""
    today = today or timezone.localdate()
    report = PurgeReport()
    due = User.objects.filter(purge_date__lte=today).values_list("pk", flat=True)
    for pk in list(due):
        user = User.objects.get(pk=pk)
        check = deletion_check(user)
        if not check.can_delete:
            report.kept[pk] = [p.code for p in check.unmet]
            continue
        if not dry_run:
            delete_user(actor=actor, user=user, reason="Purge date reached")
        report.deleted += 1
    return report


@task()
def purge_users_task() -> dict[str, object]:
    report = purge_users(actor=Actor.system(Channel.JOB, job=PURGE_JOB))
    return {"deleted": report.deleted, "kept": {str(k): v for k, v in report.kept.items()}}
