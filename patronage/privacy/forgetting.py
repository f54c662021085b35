"""The right to be forgotten: a person's request, its preconditions, and the anonymisation.

    record_forgetting_request --> received --carry_out--> carried_out
                                          --withdraw---> withdrawn

A request is recorded by the Privacy Officer (``privacy:forgetting:manage``) for one user,
with how it came in. Before it is carried out its **preconditions** are shown: those of
deleting a user (``circulation.deletion.deletion_check``: no balance due -- unpaid or
disputed fees --, no loans out, none as a proxy, no legal hold, not locked by a job, not
one's own account) and, for staff, no role grant in force (their access must be removed
first, through the usual path).

Carrying it out anonymises the record instead of deleting it, so that the financial and
audit records stay whole: the user row remains (its fines, fees, ledger entries and receipts
keep adding up to the same balances), but nothing on it names the person any more -- the
names, primary and other identifiers, contact information, notes, blocks, statistics,
attachments, proxies, library lists, PIN, password and second factor are removed or
replaced by ``Forgotten user <id>``; returned loans are anonymised as the retention run does
(``privacy.retention.anonymise_loans``); and ``audit.actions.forget_subject`` destroys the
key sealing the person's values in the audit trail (crypto-shredding), so their History
shows "(erased)" while the hash chain still verifies. All in one transaction, audited
(``user.forgotten``, naming the record by id and counting what went).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from patronage.access.checks import can, require
from patronage.access.models import RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts.actions import _index_names, end_sessions
from patronage.accounts.choices import UserStatus
from patronage.accounts.models import (
    Address,
    Email,
    Phone,
    User,
    UserAttachment,
    UserBlock,
    UserIdentifier,
    UserNote,
    UserStatistic,
    identifier_key,
)
from patronage.accounts.selectors import visible_users
from patronage.audit.actions import forget_subject, record
from patronage.audit.context import Actor
from patronage.circulation.deletion import Precondition, deletion_check
from patronage.circulation.models import Loan, ProxyRelation
from patronage.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .models import ForgettingRequest, ForgettingState, RequestChannel
from .retention import anonymise_loans

FORGOTTEN = "Forgotten"
MAX_NOTES = 4000


def forgotten_id(user_id: int) -> str:
    return f"FORGOTTEN-{user_id}"


# --- reading the requests ------------------------------------------------------------------------


def _require_forgetting(viewer: User | None) -> None:
    if not can(viewer, Permission.PRIVACY_FORGET):
        raise Forbidden(
            f"You do not have the permission to do this ({Permission.PRIVACY_FORGET.label}).",
            code="permission_denied",
        )


def forgetting_requests(viewer: User | None, state: str = "") -> QuerySet[ForgettingRequest]:
    """The requests about users the viewer may see, newest first (403 without the
    permission)."""
    _require_forgetting(viewer)
    # A request whose user record was deleted since names nobody: everyone may see it.
    requests = ForgettingRequest.objects.filter(
        Q(user__in=visible_users(viewer)) | Q(user__isnull=True)
    )
    if state:
        requests = requests.filter(state=state)
    return requests.select_related("user", "recorded_by", "decided_by")


def get_forgetting_request(viewer: User | None, request_id: int) -> ForgettingRequest:
    """One request (403 without the permission; 404 if missing or about a user out of the
    viewer's scope)."""
    found = forgetting_requests(viewer).filter(pk=request_id).first()
    if found is None:
        raise NotFound("No such request.", code="request_not_found")
    return found


def request_by_reference(viewer: User | None, reference: str) -> ForgettingRequest:
    found = forgetting_requests(viewer).filter(reference__iexact=reference.strip()).first()
    if found is None:
        raise NotFound(f"No request '{reference}'.", code="request_not_found")
    return found


def preconditions(request: ForgettingRequest, *, actor: Actor | None = None) -> list[Precondition]:
    """What must hold before the request can be carried out (shown on the request)."""
    user = request.user
    if user is None:
        return [Precondition("user_exists", "The user's record exists", False, "it was deleted")]
    found = deletion_check(user, actor=actor).preconditions
    grants = RoleGrant.objects.active().filter(user=user).count()
    found.append(
        Precondition(
            "staff_grants",
            "No role grants in force",
            grants == 0,
            f"{grants} role grant(s) in force: remove their access first" if grants else "",
        )
    )
    return found


def _next_reference() -> str:
    year = timezone.localdate().year
    count = ForgettingRequest.objects.filter(reference__startswith=f"RTBF-{year}-").count()
    return f"RTBF-{year}-{count + 1:04d}"


@transaction.atomic
def record_forgetting_request(
    *, actor: Actor, user: User, received_via: str, received_on: Any = None, notes: str = ""
) -> ForgettingRequest:
    """Record that ``user`` asked to be forgotten (``received_on``: today by default)."""
    require(actor, Permission.PRIVACY_FORGET)
    errors: dict[str, str] = {}
    if received_via not in RequestChannel.values:
        choices = ", ".join(RequestChannel.values)
        errors["received_via"] = f"'{received_via}' is not a way a request comes in ({choices})."
    day = _day(received_on, errors)
    notes = str(notes or "").strip()
    if len(notes) > MAX_NOTES:
        errors["notes"] = f"At most {MAX_NOTES} characters."
    if user.primary_id == forgotten_id(user.pk):
        errors["user_id"] = "This record has already been anonymised."
    if errors:
        raise ValidationFailed(errors)
    if ForgettingRequest.objects.filter(user=user, state=ForgettingState.RECEIVED).exists():
        raise Conflict(
            "This user already has a request to be forgotten waiting.", code="request_open"
        )
    for attempt in range(5):  # two officers numbering at once: take the next number
        try:
            with transaction.atomic():
                request = ForgettingRequest.objects.create(
                    reference=_next_reference(),
                    user=user,
                    received_via=received_via,
                    received_on=day,
                    notes=notes,
                    recorded_by=actor.user,
                )
            break
        except IntegrityError:
            if attempt == 4:
                raise
    record(
        actor=actor,
        verb="forgetting_request.recorded",
        obj=request,
        subject_id=user.pk,
        details={"reference": request.reference, "received_via": received_via},
    )
    return request


def _day(value: Any, errors: dict[str, str]) -> datetime.date:
    today = timezone.localdate()
    if value in (None, ""):
        return today
    if isinstance(value, datetime.date):
        day: datetime.date | None = value
    else:
        try:
            day = datetime.date.fromisoformat(str(value))
        except ValueError:
            day = None
    if day is None:
        errors["received_on"] = "Enter a date (YYYY-MM-DD)."
        return today
    if day > today:
        errors["received_on"] = "A request cannot be received in the future."
    return day


def _locked_open(request: ForgettingRequest) -> ForgettingRequest:
    locked = ForgettingRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state != ForgettingState.RECEIVED:
        raise Conflict(
            f"This request is {locked.get_state_display().lower()}: nothing more can be done.",
            code="request_closed",
        )
    return locked


@transaction.atomic
def withdraw_forgetting_request(
    *, actor: Actor, request: ForgettingRequest, reason: str = ""
) -> ForgettingRequest:
    require(actor, Permission.PRIVACY_FORGET)
    request = _locked_open(request)
    request.state = ForgettingState.WITHDRAWN
    request.decided_by, request.decided_at = actor.user, timezone.now()
    request.save(update_fields=["state", "decided_by", "decided_at"])
    record(
        actor=actor,
        verb="forgetting_request.withdrawn",
        obj=request,
        subject_id=request.user_id,
        reason=reason,
    )
    return request


@dataclass(frozen=True)
class Refusal:
    unmet: list[Precondition]

    def message(self) -> str:
        return "; ".join(f"{p.label}: {p.detail}" if p.detail else p.label for p in self.unmet)


@transaction.atomic
def carry_out(*, actor: Actor, request: ForgettingRequest) -> ForgettingRequest:
    """Anonymise the person (see the module's docstring). Refused, with every unmet
    precondition named and nothing changed, unless all hold."""
    require(actor, Permission.PRIVACY_FORGET)
    request = _locked_open(request)
    if request.user_id is not None:
        request.user = User.objects.select_for_update().get(pk=request.user_id)
    unmet = [p for p in preconditions(request, actor=actor) if not p.met]
    if unmet:
        raise Conflict(
            f"The request cannot be carried out yet: {Refusal(unmet).message()}.",
            code="forgetting_refused",
        )
    user = request.user
    assert user is not None  # the "user_exists" precondition
    outcome = _anonymise(user, actor)
    request.state = ForgettingState.CARRIED_OUT
    request.decided_by, request.decided_at = actor.user, timezone.now()
    request.outcome = outcome
    request.save(update_fields=["state", "decided_by", "decided_at", "outcome"])
    # No subject on this event: the person's key is gone; it must stay readable.
    record(
        actor=actor,
        verb="user.forgotten",
        object_type="user",
        object_id=str(user.pk),
        reason=request.reference,
        details=outcome,
    )
    forget_subject(actor=actor, user_id=user.pk, reason=request.reference)
    return request


# Fields of the user record that can say who someone is, and what they become.
BLANKED: dict[str, Any] = {
    "middle_name": "",
    "pref_first_name": "",
    "pref_middle_name": "",
    "pref_last_name": "",
    "pref_name_suffix": "",
    "user_title": "",
    "gender": "",
    "birth_date": None,
    "job_category": "",
    "job_description": "",
    "campus_code": "",
    "preferred_language": "",
    "web_site_url": "",
    "cataloger_level": "",
    "library_notices": [],
    "external_id": "",
    "purge_date": None,
    "last_patron_activity_date": None,
    "keep_loan_history": False,
    "pin_number": "",
    "force_password_change": False,
    "mfa_enabled": False,
    "totp_secret": "",
    "totp_confirmed_at": None,
    "login_model": "",
    "sis_values": {},
    "sis_kept_fields": [],
    "open_for_update": False,
    "last_login": None,
}


def _anonymise(user: User, actor: Actor) -> dict[str, int]:
    """Remove or replace everything that names the person; count what went."""
    outcome: dict[str, int] = {}
    loans = Loan.objects.filter(user=user, returned_at__isnull=False)
    outcome["loans_anonymised"] = anonymise_loans(actor=actor, loans=loans, now=timezone.now())
    outcome["proxy_loans_unlinked"] = Loan.objects.filter(
        proxy=user, returned_at__isnull=False
    ).update(proxy=None)
    outcome["proxies_removed"] = ProxyRelation.objects.filter(
        Q(proxy=user) | Q(sponsor=user)
    ).delete()[0]
    outcome["identifiers_removed"] = UserIdentifier.objects.filter(
        user=user, is_primary=False
    ).delete()[0]
    entries: tuple[tuple[str, Any], ...] = (
        ("addresses_removed", Address),
        ("emails_removed", Email),
        ("phones_removed", Phone),
        ("notes_removed", UserNote),
        ("blocks_removed", UserBlock),
        ("statistics_removed", UserStatistic),
    )
    for name, model in entries:
        outcome[name] = model.objects.filter(user=user).delete()[0]
    attachments = list(UserAttachment.objects.filter(user=user))
    for attachment in attachments:
        transaction.on_commit(partial(attachment.file.delete, save=False))
        attachment.delete()
    outcome["attachments_removed"] = len(attachments)

    new_id = forgotten_id(user.pk)
    UserIdentifier.objects.filter(user=user, is_primary=True).update(
        value=new_id, key=identifier_key(new_id), note=""
    )
    for name, value in BLANKED.items():
        setattr(user, name, value)
    user.primary_id = new_id
    user.first_name, user.last_name = FORGOTTEN, f"user {user.pk}"
    user.status, user.status_date = UserStatus.INACTIVE, timezone.localdate()
    user.set_unusable_password()
    user.sort_name = user.computed_sort_name()
    user.updated_by, user.updated_via = actor.user, actor.label
    user.save()
    user.rs_libraries.clear()
    user.purchase_request_libraries.clear()
    _index_names(user)  # the name-search index, as every name change of the accounts app
    end_sessions(user)
    return outcome
