"""Role requests and their workflow (seeds 001, 003): the only code that writes them.

submitted (signed off by the staff manager) → the functional-area lead of each requested role
type approves or rejects that part and recommends training (an administrator role needs a
system administrator as well, another person) → the staff member signs the data privacy &
security responsibilities form → Library IT grants the roles in the sandbox → training is
recorded per area → Library IT grants the roles in production.

Grants are written by ``patronage.access.actions`` only (``grant_role``, ``revoke_grant``,
``set_login_model``), so every rule of the roles issue (scopes, delegation without escalation,
business-need notes, no self-grants) holds for requested roles too. Every step is audited in
its transaction and mails the people concerned after it commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from patronage.access import actions as access
from patronage.access.checks import require
from patronage.access.models import Environment, LoginModel, Role, RoleGrant, ScopeType
from patronage.access.permissions import Permission
from patronage.accounts.choices import RecordType
from patronage.accounts.models import User
from patronage.audit.actions import record
from patronage.audit.context import Actor
from patronage.errors import Conflict, Forbidden, ValidationFailed
from patronage.organization.models import Department, DepartmentKind

from . import directory
from .choices import (
    CLOSED_STATUSES,
    TRAINING_OF_ROLE_TYPE,
    FiledAs,
    FormVariant,
    LineAction,
    LineDecision,
    RequestKind,
    RequestStatus,
    TrainingArea,
    UnitDuty,
)
from .models import PrivacyFormSignature, PrivacyFormText, RequestLine, RoleRequest, TrainingRecord
from .notifications import link, notify

STUDENT_JOB_CATEGORY = "STUDENT_WORKER"
Unit = access.Unit


@dataclass
class LineSpec:
    """A change the request asks for: add ``role`` within ``scope``, or remove ``grant``."""

    action: str
    role: Role
    scope: Unit | None = None
    grant: RoleGrant | None = None


# --- helpers ---------------------------------------------------------------------------------


def _user_id(actor: Actor) -> int | None:
    return actor.user.pk if actor.user is not None else None


def _locked(request: RoleRequest) -> RoleRequest:
    return (
        RoleRequest.objects.select_for_update().select_related("subject", "unit").get(pk=request.pk)
    )


def _expect(request: RoleRequest, *statuses: str) -> None:
    """Steps happen in order: anything else is refused with what the request waits for."""
    if request.status not in statuses:
        raise Conflict(
            f"This step is not possible now: the request is "
            f"{RequestStatus(request.status).label.lower()}.",
            code="out_of_order",
        )


def _not_own(actor: Actor, request: RoleRequest, what: str) -> None:
    """Nobody approves their own request or one for themself."""
    me = _user_id(actor)
    if me is not None and me in (request.subject_id, request.filed_by_id, request.on_behalf_of_id):
        raise Forbidden(
            f"You cannot {what} a request you filed, or one for yourself.", code="self_approval"
        )


def _audit(actor: Actor, verb: str, request: RoleRequest, **details: object) -> None:
    record(
        actor=actor,
        verb=verb,
        obj=request,
        subject=request.subject,
        details={"request": request.pk, "status": request.status, **details},
    )


def current_form(variant: str) -> PrivacyFormText | None:
    return PrivacyFormText.objects.filter(variant=variant).order_by("-version").first()


def current_signature(user: User, variant: str) -> PrivacyFormSignature | None:
    """A signature of the current version of the form the user must sign, if they have one."""
    form = current_form(variant)
    if form is None:
        return None
    return PrivacyFormSignature.objects.filter(user=user, form=form).first()


def approved_additions(request: RoleRequest) -> list[RequestLine]:
    return [
        line
        for line in request.lines.select_related("role")
        if line.action == LineAction.ADD and line.decision == LineDecision.APPROVED
    ]


def training_required(request: RoleRequest) -> set[str]:
    return {line.training_area for line in approved_additions(request)}


def training_recorded(request: RoleRequest) -> set[str]:
    return set(request.training.values_list("area", flat=True))


def _changes_login(request: RoleRequest) -> bool:
    """A delete request, or a default login type (view, view with analytics) to set."""
    return request.kind == RequestKind.DELETE or request.login_type not in ("", LoginModel.CUSTOM)


def _needs_form(request: RoleRequest) -> bool:
    """Production access needs the privacy & security form: added roles, or a new login."""
    if approved_additions(request):
        return True
    return _changes_login(request) and request.kind != RequestKind.DELETE


def _advance(actor: Actor, request: RoleRequest) -> None:
    """Move the request to the step it now waits for, and tell whoever must act next."""
    before = request.status
    lines = list(request.lines.all())
    if request.signed_off_at is None:
        status = RequestStatus.AWAITING_SIGNOFF
    elif any(line.decision == LineDecision.PENDING for line in lines):
        status = RequestStatus.AWAITING_DECISION
    elif not any(line.decision == LineDecision.APPROVED for line in lines) and not (
        _changes_login(request) or request.additional_role
    ):
        status = RequestStatus.REJECTED
    elif _needs_form(request) and request.privacy_signature_id is None:
        signature = current_signature(request.subject, request.form_variant)
        if signature is None:
            status = RequestStatus.AWAITING_FORM
        else:  # signed the current version before (an earlier request): it still holds
            request.privacy_signature = signature
            return _advance(actor, request)
    elif approved_additions(request) and request.sandbox_granted_at is None:
        status = RequestStatus.AWAITING_SANDBOX
    elif training_required(request) - training_recorded(request):
        status = RequestStatus.IN_TRAINING
    elif request.completed_at is None:
        status = RequestStatus.AWAITING_PRODUCTION
    else:
        status = RequestStatus.COMPLETED
    request.status = status
    request.save()
    if status != before:
        _audit(actor, "role_request.status_changed", request, previous=before)
        _tell_next(request)


def _tell_next(request: RoleRequest) -> None:
    label = RequestStatus(request.status).label
    subject = f"Role request {request.pk} for {request.subject.display_name}: {label}"
    body = (
        f"The role request {request.pk} ({request.get_kind_display()}) for "
        f"{request.subject.display_name} is now: {label}.\n\n"
        f"Due {timezone.localtime(request.due_at):%Y-%m-%d %H:%M}. "
        f"{link('approvals_request', request.pk)}\n"
    )
    if request.status == RequestStatus.AWAITING_FORM:
        body += (
            f"\n{request.subject.display_name}: please sign the form at {link('my_privacy_form')}\n"
        )
    placement = directory.placement_of(request.subject)
    supervisor = placement.supervisor if placement else None
    concerned: list[User | None] = [request.filed_by, request.subject, supervisor]
    if request.status == RequestStatus.AWAITING_SIGNOFF and placement is not None:
        concerned += list(User.objects.filter(pk__in=directory.managers_of(placement)))
    if request.status == RequestStatus.AWAITING_DECISION:
        for line in request.lines.filter(decision=LineDecision.PENDING).select_related("role"):
            if line.lead_decided_by_id is None:
                concerned += list(directory.leads_of(directory.owning_role_type(line.role)))
            else:
                concerned += list(directory.system_administrators())
    if request.status in (RequestStatus.AWAITING_SANDBOX, RequestStatus.AWAITING_PRODUCTION):
        concerned += list(processors())
    notify(concerned, subject, body)


def processors() -> list[User]:
    """Library IT: those who carry out approved requests (hold ``access:request:process``)."""
    from patronage.access import selectors as access_selectors

    return list(
        {
            grant.user
            for grant in access_selectors.permission_holders(
                None, permission=Permission.REQUESTS_PROCESS
            )
        }
    )


# --- filing --------------------------------------------------------------------------------


def _filed_as(actor: Actor, subject: User, on_behalf_of: User | None) -> tuple[str, bool]:
    """How the actor files for ``subject``, and whether that filing is the manager's sign-off.

    A supervisor files for their staff (and signs off by filing); a staff member files for
    themself (their supervisor is told and signs off); a login liaison of the person's unit
    files on a staff manager's behalf (who signs off)."""
    placement = directory.placement_of(subject)
    if placement is None:
        raise ValidationFailed(
            {
                "subject": f"{subject.display_name} has no unit and supervisor in the directory "
                "yet; ask Library IT to record them first."
            },
            code="not_in_directory",
        )
    me = actor.user
    if me is None or me.pk == placement.supervisor_id:
        return FiledAs.SUPERVISOR, True
    if me.pk == subject.pk:
        return FiledAs.SELF, False
    if directory.is_contact(me, placement.unit, UnitDuty.LIAISON):
        if on_behalf_of is None or on_behalf_of.pk not in directory.managers_of(placement):
            raise ValidationFailed(
                {
                    "on_behalf_of": "A login liaison files on behalf of the staff member's "
                    "manager: name their supervisor or a login approver of the unit."
                },
                code="manager_required",
            )
        return FiledAs.LIAISON, False
    raise Forbidden(
        "You may file role requests for yourself, for staff you supervise, and as a login "
        "liaison of their unit.",
        code="not_a_filer",
    )


def _held_production(user: User) -> list[RoleGrant]:
    return list(
        RoleGrant.objects.active(environment=Environment.PRODUCTION)
        .filter(user=user, role__login_model="")
        .select_related("role", "library", "circulation_desk", "department", "acquisitions_unit")
    )


def _same_place(grant: RoleGrant, role: Role, scope: Unit | None) -> bool:
    return grant.role_id == role.pk and grant.unit == scope


def _scope_named(spec: LineSpec) -> str:
    """What the line chose instead of a scope of the role's kind, for the refusal (a
    department of the wrong kind is named by the refusal itself)."""
    if spec.scope is None:
        return "The whole institution was chosen."
    scope_type = access.SCOPE_OF_UNIT[type(spec.scope)][0]
    if scope_type in spec.role.scope_types:
        return ""
    return f"{spec.scope} is a {ScopeType(scope_type).label.lower()}."


def _check_lines(subject: User, kind: str, specs: Sequence[LineSpec], need_note: str) -> None:
    held = _held_production(subject)
    errors: dict[str, str] = {}
    seen: set[tuple[str, int, object]] = set()
    for n, spec in enumerate(specs):
        field = f"lines[{n}]"
        key = (spec.action, spec.role.pk, spec.scope if spec.grant is None else spec.grant.pk)
        if key in seen:
            errors[field] = f"{spec.role.name} is asked for twice."
            continue
        seen.add(key)
        if spec.action == LineAction.REMOVE:
            if spec.grant is None or spec.grant not in held:
                errors[field] = "Choose one of the person's current roles to remove."
            continue
        if spec.action != LineAction.ADD:
            errors[field] = f"'{spec.action}' is neither add nor remove."
        elif kind == RequestKind.DELETE:
            errors[field] = "A delete request removes the login; it adds no roles."
        elif spec.role.retired or spec.role.login_model:
            errors[field] = f"{spec.role.name} cannot be requested."
        elif any(_same_place(grant, spec.role, spec.scope) for grant in held):
            errors[field] = f"{subject.display_name} already holds {spec.role.name} there."
        else:
            try:
                access._check_scope(spec.role, spec.scope)  # the grant rule, checked early
            except ValidationFailed as exc:
                refusal = exc.errors.get("scope", exc.message)
                errors[field] = f"{refusal} {_scope_named(spec)}".strip()
            if (
                spec.role.business_need_for_students
                and subject.job_category in access.STUDENT_OR_TEMPORARY
                and not need_note.strip()
            ):
                errors["business_need"] = (
                    f"{spec.role.name} for a student or temporary worker needs a note on the "
                    "business need."
                )
    if errors:
        raise ValidationFailed(errors, code="invalid_lines")


def copied_lines(colleague: User, subject: User) -> list[LineSpec]:
    """ "Same roles as colleague X": X's production roles and scopes the person lacks."""
    held = _held_production(subject)
    return [
        LineSpec(LineAction.ADD, grant.role, grant.unit)
        for grant in _held_production(colleague)
        if not any(_same_place(mine, grant.role, grant.unit) for mine in held)
    ]


@transaction.atomic
def file_request(
    *,
    actor: Actor,
    subject: User,
    kind: str,
    rationale: str,
    lines: Sequence[LineSpec] = (),
    login_type: str = "",
    copy_from: User | None = None,
    on_behalf_of: User | None = None,
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
    work_order_department: Department | None = None,
    additional_role: str = "",
    additional_role_agreed_by: User | None = None,
    business_need: str = "",
) -> RoleRequest:
    """File the login request form of seed 001 (an update holds only the changes)."""
    require(actor, Permission.REQUESTS_FILE)
    if kind not in RequestKind.values:
        raise ValidationFailed({"kind": f"'{kind}' is not new, update or delete."})
    subject = User.objects.select_for_update().get(pk=subject.pk)
    if subject.record_type != RecordType.STAFF or subject.is_shared_desk_login:
        raise ValidationFailed(
            {"subject": "Roles are requested for individual staff logins only."},
            code="not_staff",
        )
    if not subject.is_active:
        raise ValidationFailed(
            {
                "subject": f"{subject.display_name}'s base account is not active yet: the "
                "identity must exist first (seed 001)."
            },
            code="account_not_active",
        )
    filed_as, signed_off = _filed_as(actor, subject, on_behalf_of)
    if filed_as == FiledAs.SELF and kind != RequestKind.UPDATE:
        raise ValidationFailed(
            {
                "kind": "Staff request additional roles for themselves; new and delete requests "
                "come from their supervisor."
            },
            code="self_request_kind",
        )
    if copy_from is not None and not login_type and copy_from.login_model != LoginModel.SYSTEMS:
        login_type = copy_from.login_model
    errors: dict[str, str] = {}
    if not rationale.strip():
        errors["rationale"] = "Outline the work the staff member will do (and why)."
    if login_type not in LoginModel.values:
        errors["login_type"] = f"'{login_type}' is not a login type."
    elif login_type == LoginModel.SYSTEMS:
        errors["login_type"] = "Systems logins are set up by the systems team only."
    if kind == RequestKind.NEW and subject.login_model:
        errors["kind"] = f"{subject.display_name} already has a login; file an update instead."
    if kind != RequestKind.NEW and not subject.login_model:
        errors["kind"] = f"{subject.display_name} has no login yet; file a new-login request."
    if kind == RequestKind.NEW and not login_type:
        errors["login_type"] = "Choose the login type of the new login."
    if start_date and end_date and end_date <= start_date:
        errors["end_date"] = "The end date must be after the start date."
    if end_date and end_date <= timezone.localdate():
        errors["end_date"] = "The end date must be in the future."
    if work_order_department is not None and (
        work_order_department.kind != DepartmentKind.WORK_ORDER
    ):
        errors["work_order_department"] = f"{work_order_department} is not a work-order department."
    if additional_role.strip() and (
        additional_role_agreed_by is None
        or not directory.is_system_administrator(additional_role_agreed_by)
    ):
        errors["additional_role"] = (
            "The additional role field is used only in consultation with the systems team: "
            "name the system administrator who agreed."
        )
    if errors:
        raise ValidationFailed(errors)

    specs = list(lines)
    if copy_from is not None:
        if copy_from.pk == subject.pk:
            raise ValidationFailed({"copy_from": "Choose a colleague, not the person themself."})
        specs = copied_lines(copy_from, subject) + specs
    if kind == RequestKind.DELETE:
        specs = [LineSpec(LineAction.REMOVE, g.role, g.unit, g) for g in _held_production(subject)]
        login_type = LoginModel.NONE
    effective_login = login_type or subject.login_model
    additions = [s for s in specs if s.action == LineAction.ADD]
    if additions and effective_login != LoginModel.CUSTOM:
        raise ValidationFailed(
            {"login_type": "Roles are added to custom logins; choose the Custom login type."},
            code="login_model_not_custom",
        )
    if (
        kind != RequestKind.DELETE
        and not specs
        and not additional_role.strip()
        and login_type in ("", subject.login_model)
    ):
        raise ValidationFailed(
            {"lines": "Ask for at least one change: a role to add or remove, or a login type."},
            code="nothing_requested",
        )
    _check_lines(subject, kind, specs, business_need)

    now = timezone.now()
    placement = directory.placement_of(subject)
    assert placement is not None
    request = RoleRequest.objects.create(
        kind=kind,
        subject=subject,
        filed_by=actor.user or subject,
        filed_as=filed_as,
        on_behalf_of=on_behalf_of if filed_as == FiledAs.LIAISON else None,
        unit=placement.unit,
        login_type=login_type,
        work_order_department=work_order_department,
        additional_role=additional_role.strip(),
        additional_role_agreed_by=additional_role_agreed_by if additional_role.strip() else None,
        rationale=rationale.strip(),
        business_need=business_need.strip(),
        start_date=start_date,
        end_date=end_date,
        copied_from=copy_from,
        form_variant=(
            FormVariant.STUDENT
            if subject.job_category == STUDENT_JOB_CATEGORY
            else FormVariant.STAFF
        ),
        status=RequestStatus.AWAITING_SIGNOFF,
        submitted_at=now,
        due_at=directory.add_business_days(now, settings.ACCESS_REQUEST_TARGET_DAYS),
        signed_off_by=actor.user if signed_off else None,
        signed_off_at=now if signed_off else None,
    )
    for spec in specs:
        line = RequestLine(request=request, action=spec.action, role=spec.role, grant=spec.grant)
        line.scope_type = access._check_scope(spec.role, spec.scope)
        if spec.scope is not None:
            setattr(line, access.SCOPE_OF_UNIT[type(spec.scope)][1], spec.scope)
        line.save()
    _audit(
        actor,
        "role_request.filed",
        request,
        kind=kind,
        filed_as=filed_as,
        lines=[str(line) for line in request.lines.select_related("role")],
        short_notice=request.short_notice,
        copied_from=copy_from.primary_id if copy_from else None,
    )
    _advance(actor, request)
    if request.status == RequestStatus.AWAITING_DECISION:
        _tell_next(request)  # _advance only mails on a change; filing is one too
    return request


@transaction.atomic
def sign_off(*, actor: Actor, request: RoleRequest) -> RoleRequest:
    """The staff manager approves the form by signing (seed 001 "Signoff")."""
    require(actor, Permission.REQUESTS_FILE)
    request = _locked(request)
    _expect(request, RequestStatus.AWAITING_SIGNOFF)
    placement = directory.placement_of(request.subject)
    me = _user_id(actor)
    if me is not None and (
        placement is None or me not in directory.managers_of(placement) or me == request.subject_id
    ):
        raise Forbidden(
            "Only the staff member's supervisor or a login approver of the unit signs off.",
            code="not_the_manager",
        )
    request.signed_off_by = actor.user
    request.signed_off_at = timezone.now()
    _audit(actor, "role_request.signed_off", request)
    _advance(actor, request)
    return request


@transaction.atomic
def decide_line(
    *,
    actor: Actor,
    line: RequestLine,
    approve: bool,
    training_area: str = "",
    comment: str = "",
) -> RequestLine:
    """The functional-area lead of the line's role type approves or rejects it and, for a role
    to add, recommends the training it needs."""
    require(actor, Permission.REQUESTS_APPROVE)
    request = _locked(line.request)
    line = RequestLine.objects.select_related("role").get(pk=line.pk, request=request)
    _expect(request, RequestStatus.AWAITING_DECISION)
    _not_own(actor, request, "decide")
    role_type = directory.owning_role_type(line.role)
    if actor.user is not None and not directory.is_lead(actor.user, role_type):
        raise Forbidden(
            f"Only a functional-area lead of {role_type.replace('_', ' ').title()} decides "
            f"{line.role.name}.",
            code="not_area_lead",
        )
    if line.decision != LineDecision.PENDING or line.lead_decided_by_id is not None:
        raise Conflict(f"{line} has been decided already.", code="already_decided")
    if not approve and not comment.strip():
        raise ValidationFailed({"comment": "Say why the role is not approved."})
    if approve and line.action == LineAction.ADD:
        training_area = training_area or TRAINING_OF_ROLE_TYPE.get(role_type, "")
        if training_area not in TrainingArea.values:
            raise ValidationFailed(
                {
                    "training_area": "Recommend the training: Fulfillment, Resource Management, "
                    "Analytics or Acquisitions."
                }
            )
        line.training_area = training_area
    line.lead_decided_by = actor.user
    line.lead_decided_at = timezone.now()
    line.comment = comment.strip()
    needs_administrator = line.role.is_admin and line.action == LineAction.ADD
    if not approve:
        line.decision = LineDecision.REJECTED
    elif not needs_administrator or line.admin_approved_by_id is not None:
        line.decision = LineDecision.APPROVED
    line.save()
    _audit(
        actor,
        "role_request.line_approved" if approve else "role_request.line_rejected",
        request,
        line=str(line),
        training_area=line.training_area,
        comment=line.comment,
    )
    _advance(actor, request)
    if needs_administrator and line.decision == LineDecision.PENDING:
        _tell_next(request)
    return line


@transaction.atomic
def approve_as_administrator(
    *, actor: Actor, line: RequestLine, approve: bool, comment: str = ""
) -> RequestLine:
    """Seed 003: an administrator role needs a system administrator's approval as well as the
    area lead's, and they are two different people."""
    require(actor, Permission.REQUESTS_APPROVE)
    request = _locked(line.request)
    line = RequestLine.objects.select_related("role").get(pk=line.pk, request=request)
    _expect(request, RequestStatus.AWAITING_DECISION)
    _not_own(actor, request, "approve")
    if not (line.role.is_admin and line.action == LineAction.ADD):
        raise ValidationFailed(
            {"line": f"{line.role.name} is not an administrator role."}, code="not_admin_role"
        )
    if actor.user is not None and not directory.is_system_administrator(actor.user):
        raise Forbidden(
            "Only a system administrator co-approves administrator roles.",
            code="not_system_administrator",
        )
    if line.decision != LineDecision.PENDING or line.admin_approved_by_id is not None:
        raise Conflict(f"{line} has been decided already.", code="already_decided")
    if actor.user is not None and line.lead_decided_by_id == actor.user.pk:
        raise Forbidden(
            "The area lead and the system administrator must be two different people.",
            code="same_approver",
        )
    if not approve and not comment.strip():
        raise ValidationFailed({"comment": "Say why the role is not approved."})
    line.admin_approved_by = actor.user
    line.admin_approved_at = timezone.now()
    if not approve:
        line.decision = LineDecision.REJECTED
    elif line.lead_decided_by_id is not None:
        line.decision = LineDecision.APPROVED
    if comment.strip():
        line.comment = "\n".join(filter(None, [line.comment, comment.strip()]))
    line.save()
    _audit(
        actor,
        "role_request.admin_approved" if approve else "role_request.admin_rejected",
        request,
        line=str(line),
    )
    _advance(actor, request)
    return line


@transaction.atomic
def sign_privacy_form(*, actor: Actor, request: RoleRequest, version: int) -> PrivacyFormSignature:
    """The staff member signs the version of the form they were shown; an outdated version is
    refused (the text changed since)."""
    request = _locked(request)
    _expect(request, RequestStatus.AWAITING_FORM)
    if _user_id(actor) != request.subject_id:
        raise Forbidden(
            "Only the staff member signs their privacy & security form.", code="not_the_signer"
        )
    form = current_form(request.form_variant)
    if form is None or form.version != version:
        raise ValidationFailed(
            {
                "version": "This version of the form is no longer current; read the current "
                f"version{f' ({form.version})' if form else ''} and sign it."
            },
            code="outdated_form",
        )
    signature = PrivacyFormSignature.objects.create(
        user=request.subject, form=form, signed_at=timezone.now()
    )
    request.privacy_signature = signature
    _audit(
        actor,
        "privacy_form.signed",
        request,
        variant=form.variant,
        version=form.version,
        signed_at=signature.signed_at.isoformat(),
    )
    _advance(actor, request)
    return signature


def _grant_lines(actor: Actor, request: RoleRequest, environment: str) -> None:
    valid_until = (
        timezone.make_aware(datetime.datetime.combine(request.end_date, datetime.time()))
        if request.end_date
        else None
    )
    for line in approved_additions(request):
        grant = access.grant_role(
            actor=actor,
            user=request.subject,
            role=line.role,
            scope=line.unit,
            valid_until=valid_until,
            note=request.business_need,
            reason=f"role request {request.pk}",
            environment=environment,
        )
        setattr(line, f"{environment}_grant", grant)
        line.save(update_fields=[f"{environment}_grant"])


def _set_login_type(actor: Actor, request: RoleRequest, login_type: str) -> None:
    if request.subject.login_model != login_type:
        access.set_login_model(
            actor=actor,
            user=request.subject,
            login_model=login_type,
            reason=f"role request {request.pk}",
        )
        request.subject.refresh_from_db()


@transaction.atomic
def grant_in_sandbox(*, actor: Actor, request: RoleRequest) -> RoleRequest:
    """Library IT adds the approved roles to the person's sandbox login, for training."""
    require(actor, Permission.REQUESTS_PROCESS)
    request = _locked(request)
    _expect(request, RequestStatus.AWAITING_SANDBOX)
    # Roles are added to custom logins; the login (its model) is the same in both
    # environments (seed 001: every personal login exists in production and sandbox).
    _set_login_type(actor, request, LoginModel.CUSTOM)
    _grant_lines(actor, request, Environment.SANDBOX)
    request.sandbox_granted_at = timezone.now()
    _audit(actor, "role_request.sandbox_granted", request)
    _advance(actor, request)
    return request


@transaction.atomic
def record_training(
    *,
    actor: Actor,
    request: RoleRequest,
    area: str,
    completed_on: datetime.date | None = None,
    note: str = "",
) -> TrainingRecord:
    """Training in one area is completed: recorded by a lead who recommended it or by IT."""
    require(actor, Permission.REQUESTS_APPROVE)
    request = _locked(request)
    _expect(request, RequestStatus.IN_TRAINING)
    _not_own(actor, request, "record training for")
    required = training_required(request)
    if area not in required:
        raise ValidationFailed(
            {"area": f"This request needs training in: {_areas(required)}."},
            code="training_not_required",
        )
    if actor.user is not None and not _may_record_training(actor.user, request, area):
        raise Forbidden(
            "Training is recorded by the lead who recommended it, or by Library IT.",
            code="not_area_lead",
        )
    completed_on = completed_on or timezone.localdate()
    if completed_on > timezone.localdate():
        raise ValidationFailed({"completed_on": "Training cannot be completed in the future."})
    if request.training.filter(area=area).exists():
        raise Conflict(f"{TrainingArea(area).label} training is recorded already.", code="recorded")
    training = TrainingRecord.objects.create(
        request=request,
        area=area,
        completed_on=completed_on,
        recorded_by=actor.user or request.filed_by,
        recorded_at=timezone.now(),
        note=note.strip(),
    )
    _audit(actor, "role_request.training_recorded", request, area=area, on=str(completed_on))
    _advance(actor, request)
    return training


def _areas(areas: set[str]) -> str:
    return ", ".join(TrainingArea(a).label for a in sorted(areas)) or "none"


def _may_record_training(user: User, request: RoleRequest, area: str) -> bool:
    from patronage.access.checks import can

    if can(user, Permission.REQUESTS_PROCESS):
        return True
    led = directory.led_role_types(user)
    return any(
        line.training_area == area and directory.owning_role_type(line.role) in led
        for line in approved_additions(request)
    )


@transaction.atomic
def grant_in_production(*, actor: Actor, request: RoleRequest) -> RoleRequest:
    """Library IT carries out the request in production: approved roles added (after the form
    and the training), approved removals made, the login type set."""
    require(actor, Permission.REQUESTS_PROCESS)
    request = _locked(request)
    _expect(request, RequestStatus.AWAITING_PRODUCTION)
    if _needs_form(request) and request.privacy_signature_id is None:
        raise Conflict("The privacy & security form is not signed.", code="out_of_order")
    if missing := training_required(request) - training_recorded(request):
        raise Conflict(f"Training not recorded: {_areas(missing)}.", code="out_of_order")
    lines = request.lines.select_related("role", "grant")
    for line in lines:
        if line.action == LineAction.REMOVE and line.decision == LineDecision.APPROVED:
            assert line.grant is not None
            access.revoke_grant(actor=actor, grant=line.grant, reason=f"role request {request.pk}")
    if approved_additions(request):
        _set_login_type(actor, request, LoginModel.CUSTOM)
    elif request.login_type != request.subject.login_model and (
        request.login_type != LoginModel.CUSTOM or request.kind == RequestKind.NEW
    ):
        _set_login_type(actor, request, request.login_type)
    _grant_lines(actor, request, Environment.PRODUCTION)
    request.completed_at = timezone.now()
    _audit(
        actor,
        "role_request.production_granted",
        request,
        additional_role=request.additional_role,
    )
    _advance(actor, request)
    return request


@transaction.atomic
def withdraw(*, actor: Actor, request: RoleRequest, reason: str) -> RoleRequest:
    """The filer, the person or Library IT withdraw an open request."""
    require(actor, Permission.REQUESTS_FILE)
    request = _locked(request)
    if request.status in CLOSED_STATUSES:
        raise Conflict("The request is closed already.", code="out_of_order")
    me = _user_id(actor)
    from patronage.access.checks import can

    if (
        me is not None
        and me not in (request.filed_by_id, request.subject_id, request.on_behalf_of_id)
        and not can(actor.user, Permission.REQUESTS_PROCESS)
    ):
        raise Forbidden("Only the filer, the person or Library IT withdraw a request.")
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why the request is withdrawn."})
    close(actor, request, RequestStatus.WITHDRAWN, reason)
    return request


def close(actor: Actor, request: RoleRequest, status: str, reason: str) -> None:
    """End an open request (withdrawn, or cancelled by a separation). Sandbox grants it made
    end with it: training access has no purpose without the request."""
    training_grants = RoleGrant.objects.filter(
        pk__in=request.lines.values("sandbox_grant"), revoked_at__isnull=True
    )
    if training_grants.update(revoked_at=timezone.now()):
        access.grants_changed(request.subject)
    previous = request.status
    request.status = status
    request.closed_reason = reason.strip()
    request.save()
    _audit(actor, "role_request.closed", request, previous=previous, reason=reason.strip())
    _tell_next(request)
