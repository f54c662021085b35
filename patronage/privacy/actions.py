"""Writing privacy data: the privacy settings, and the legal-process register (seed 000),
where an agency's request for patron records is followed from receipt to its outcome.

ALA policy as the seed adopts it: records are not released except under a proper order;
staff contact their supervisor and the library director so General Counsel is contacted
first; the library resists until good cause is shown in court. So:

    received --refer--> with_counsel --resist--> resisted
    with_counsel / resisted --validate_order--> order_validated --release--> disclosed
    with_counsel / resisted --refuse--> refused
    any open state --withdraw--> withdrawn

Recording a request notifies the supervisor and the library director; referring it notifies
counsel (every holder of ``privacy:legal_request:counsel``), by e-mail after commit.
Resisting, validating an order and refusing are counsel's (``privacy:legal_request:counsel``);
the release needs a validated order and contains exactly the patrons and record kinds the
order names -- a JSON export marked as a legal release, each patron's part logged in the
access log (``user.exported``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from patronage.access.checks import require
from patronage.access.models import Role, RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts.models import Email, User
from patronage.audit.actions import diff, record
from patronage.audit.context import Actor
from patronage.errors import Conflict, ValidationFailed
from patronage.organization.models import Library

from .models import (
    LegalDocument,
    LegalProcessKind,
    LegalRelease,
    LegalRequest,
    LegalState,
    PrivacySettings,
    RecordKind,
)
from .reads import EXPORTED, access_reason_setting, record_read
from .release import release_record

SETTING_FIELDS = ("access_reason", "unusual_volume_factor", "unusual_volume_minimum")


@transaction.atomic
def update_settings(*, actor: Actor, changes: dict[str, Any]) -> PrivacySettings:
    """Change the privacy settings; an out-of-range value is refused and nothing is saved."""
    require(actor, Permission.CONFIG_USER_SETTINGS)
    config = PrivacySettings.objects.select_for_update().get(pk=PrivacySettings.current().pk)
    before = {name: getattr(config, name) for name in SETTING_FIELDS}
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise ValidationFailed({name: "No such setting." for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(config, name, value)
    try:
        config.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(
            {name: " ".join(messages) for name, messages in exc.message_dict.items()}
        ) from None
    config.save()
    access_reason_setting.forget()
    after = {name: getattr(config, name) for name in SETTING_FIELDS}
    changed = diff(before, after)
    if changed:
        record(actor=actor, verb="privacy.settings_changed", obj=config, changes=changed)
    return config


# --- the legal-process register ------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
OPEN_STATES = {
    LegalState.RECEIVED,
    LegalState.WITH_COUNSEL,
    LegalState.RESISTED,
    LegalState.ORDER_VALIDATED,
}


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    permission: Permission
    label: str


TRANSITIONS = {
    "refer": Transition(
        frozenset({LegalState.RECEIVED}),
        LegalState.WITH_COUNSEL,
        Permission.PRIVACY_LEGAL_REQUEST,
        "Refer to General Counsel",
    ),
    "resist": Transition(
        frozenset({LegalState.WITH_COUNSEL}),
        LegalState.RESISTED,
        Permission.PRIVACY_LEGAL_COUNSEL,
        "Resist until good cause is shown",
    ),
    "validate_order": Transition(
        frozenset({LegalState.WITH_COUNSEL, LegalState.RESISTED}),
        LegalState.ORDER_VALIDATED,
        Permission.PRIVACY_LEGAL_COUNSEL,
        "Record a valid order",
    ),
    "refuse": Transition(
        frozenset({LegalState.WITH_COUNSEL, LegalState.RESISTED}),
        LegalState.REFUSED,
        Permission.PRIVACY_LEGAL_COUNSEL,
        "Refuse",
    ),
    "withdraw": Transition(
        frozenset(OPEN_STATES),
        LegalState.WITHDRAWN,
        Permission.PRIVACY_LEGAL_REQUEST,
        "Withdrawn by the agency",
    ),
}


def _legal_event(
    actor: Actor, verb: str, request: LegalRequest, details: dict[str, Any] | None = None
) -> None:
    record(actor=actor, verb=f"legal_request.{verb}", obj=request, details=details or {})


def _mail(subject: str, body: str, recipients: list[str]) -> None:
    if recipients:
        send_mail(subject, body, None, sorted(set(recipients)), fail_silently=False)


def counsel_addresses() -> list[str]:
    """The preferred e-mail of everyone holding counsel's permission now."""
    roles = [
        pk
        for pk, permissions in Role.objects.values_list("pk", "permissions")
        if Permission.PRIVACY_LEGAL_COUNSEL in permissions
    ]
    holders = RoleGrant.objects.active().filter(role_id__in=roles).values("user_id")
    return list(
        Email.objects.filter(user_id__in=holders, preferred=True).values_list("address", flat=True)
    )


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned = {name: str(fields.get(name) or "").strip() for name in REQUEST_TEXT_FIELDS}
    for name in ("agency", "description"):
        if not cleaned[name]:
            errors[name] = "Required."
    if cleaned["kind"] not in LegalProcessKind.values:
        errors["kind"] = "Choose subpoena, court order, warrant or other."
    for name in ("supervisor_email", "director_email"):
        try:
            validate_email(cleaned[name])
        except ValidationError:
            errors[name] = "Give a valid e-mail address."
    received_on = fields.get("received_on")
    if isinstance(received_on, str):
        try:
            received_on = datetime.date.fromisoformat(received_on)
        except ValueError:
            received_on = None
    if not isinstance(received_on, datetime.date):
        errors["received_on"] = "Give the date of receipt (YYYY-MM-DD)."
    elif received_on > timezone.localdate():
        errors["received_on"] = "The date of receipt cannot be in the future."
    if errors:
        raise ValidationFailed(errors)
    return {**cleaned, "received_on": received_on}


REQUEST_TEXT_FIELDS = (
    "agency",
    "agency_contact",
    "kind",
    "description",
    "supervisor_email",
    "director_email",
)


@transaction.atomic
def record_legal_request(
    *, actor: Actor, fields: dict[str, Any], library: Library | None = None
) -> LegalRequest:
    """Record an agency's request; the supervisor and the library director are told."""
    require(actor, Permission.PRIVACY_LEGAL_REQUEST)
    cleaned = _validated(fields)
    request = LegalRequest.objects.create(
        **cleaned,
        library=library,
        reference=f"tmp-{uuid4().hex[:16]}",
        state_changed_at=timezone.now(),
        recorded_by=actor.user,
    )
    request.reference = f"LR-{request.received_on.year}-{request.pk:05d}"
    request.save(update_fields=["reference"])
    _legal_event(actor, "received", request, {"kind": request.kind, "reference": request.reference})
    subject = f"[Confidential] Legal process received: {request.reference}"
    body = (
        f"{LegalProcessKind(request.kind).label} from {request.agency}, received "
        f"{request.received_on:%Y-%m-%d}, recorded by {actor.label}.\n\n"
        "Library records are confidential (ALA policy): nothing is released until General "
        "Counsel has validated an order. The request is in the legal-process register."
    )
    recipients = [request.supervisor_email, request.director_email]
    transaction.on_commit(lambda: _mail(subject, body, recipients))
    return request


@transaction.atomic
def transition(
    *,
    actor: Actor,
    request: LegalRequest,
    action: str,
    notes: str = "",
    order_reference: str = "",
    user_ids: list[int] | None = None,
    record_kinds: list[str] | None = None,
) -> LegalRequest:
    """Move a request along the register's states; anything else is a 409 with a reason."""
    step = TRANSITIONS.get(action)
    if step is None:
        raise ValidationFailed({"action": f"Choose one of: {', '.join(TRANSITIONS)}."})
    require(actor, step.permission, request)
    request = LegalRequest.objects.select_for_update().get(pk=request.pk)
    if request.state not in step.sources:
        raise Conflict(
            f"A request that is {LegalState(request.state).label.lower()} cannot move to "
            f"{LegalState(step.target).label.lower()}.",
            code="invalid_transition",
        )
    details: dict[str, Any] = {"from": request.state, "to": step.target}
    if action == "validate_order":
        users, kinds = _order_contents(order_reference, user_ids or [], record_kinds or [])
        request.order_reference = order_reference.strip()
        request.order_validated_by = actor.user
        request.order_validated_at = timezone.now()
        request.order_record_kinds = kinds
        request.save()
        request.order_users.set(users)
        details.update(order=request.order_reference, users=[u.pk for u in users], kinds=kinds)
    if notes.strip():
        stamp = f"{timezone.localtime():%Y-%m-%d %H:%M} {actor.label}"
        request.counsel_notes = f"{request.counsel_notes}\n{stamp}: {notes.strip()}".strip()
    request.state = step.target
    request.state_changed_at = timezone.now()
    request.save()
    _legal_event(actor, action, request, details)
    if action == "refer":
        subject = f"[Confidential] Legal process referred to counsel: {request.reference}"
        body = (
            f"{LegalProcessKind(request.kind).label} from {request.agency} "
            f"({request.reference}) awaits counsel's decision in the legal-process register."
        )
        transaction.on_commit(lambda: _mail(subject, body, counsel_addresses()))
    return request


def _order_contents(
    order_reference: str, user_ids: list[int], record_kinds: list[str]
) -> tuple[list[User], list[str]]:
    errors: dict[str, str] = {}
    if not order_reference.strip():
        errors["order_reference"] = "Name the order (court, docket number, date)."
    users = list(User.objects.filter(pk__in=user_ids))
    if not user_ids:
        errors["user_ids"] = "Name at least one patron the order covers."
    elif len(users) != len(set(user_ids)):
        errors["user_ids"] = "Some of these patrons do not exist."
    kinds = [kind for kind in RecordKind.values if kind in set(record_kinds)]
    if not record_kinds:
        errors["record_kinds"] = "Name at least one kind of record the order covers."
    elif len(kinds) != len(set(record_kinds)):
        errors["record_kinds"] = f"Choose among: {', '.join(RecordKind.values)}."
    if errors:
        raise ValidationFailed(errors)
    return users, kinds


@transaction.atomic
def add_legal_document(
    *, actor: Actor, request: LegalRequest, upload: File[Any], name: str = ""
) -> LegalDocument:
    require(actor, Permission.PRIVACY_LEGAL_REQUEST, request)
    size = upload.size or 0
    if not size:
        raise ValidationFailed({"file": "The file is empty."})
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationFailed({"file": "A document is at most 20 MB."})
    name = (name or upload.name or "document").rsplit("/", 1)[-1][:255]
    document = LegalDocument(
        request=request,
        name=name,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        size=size,
        uploaded_by=actor.user,
    )
    document.file.save(name, upload, save=False)
    try:
        document.save()
    except Exception:
        document.file.delete(save=False)
        raise
    _legal_event(actor, "document_added", request, {"document": document.pk, "name": name})
    return document


@transaction.atomic
def release_records(*, actor: Actor, request: LegalRequest) -> LegalRelease:
    """Disclose exactly what counsel's validated order names; refused without one."""
    require(actor, Permission.PRIVACY_LEGAL_REQUEST, request)
    request = LegalRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != LegalState.ORDER_VALIDATED:
        raise Conflict(
            "Counsel has not recorded a valid order for this request: nothing is released.",
            code="order_not_validated",
        )
    kinds = list(request.order_record_kinds)
    users = list(request.order_users.order_by("pk"))
    content = {
        "legal_release": True,
        "notice": "Released under legal process; confidential library records (ALA policy).",
        "request": {
            "reference": request.reference,
            "agency": request.agency,
            "kind": request.kind,
            "received_on": request.received_on.isoformat(),
        },
        "order": {
            "reference": request.order_reference,
            "validated_by": request.order_validated_by.primary_id
            if request.order_validated_by
            else "",
            "validated_at": request.order_validated_at.isoformat()
            if request.order_validated_at
            else "",
            "record_kinds": kinds,
        },
        "released_by": actor.label,
        "released_at": timezone.now().isoformat(),
        "records": [release_record(user, kinds) for user in users],
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    release = LegalRelease.objects.create(
        request=request, released_by=actor.user, content=content, sha256=digest
    )
    request.state = LegalState.DISCLOSED
    request.state_changed_at = timezone.now()
    request.save(update_fields=["state", "state_changed_at"])
    _legal_event(
        actor,
        "disclosed",
        request,
        {"users": [u.pk for u in users], "kinds": kinds, "sha256": digest},
    )
    for user in users:
        record_read(
            actor,
            EXPORTED,
            user.pk,
            f"Legal release {request.reference}",
            {"legal_request": request.reference, "kinds": kinds},
        )
    return release
