"""Access governance under /api/v1/: role requests and every step of their workflow, the
approver's inbox and the overdue list, separations (one, or a file from HR), transfers, and
the yearly confidentiality acknowledgement. Thin: parse, call a selector or an action,
serialise. A request the caller may not see is a 404; a step out of order a 409
``out_of_order``; deciding without being the lead a 403 ``not_area_lead``."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Path, Router, Status
from ninja.files import UploadedFile

from patronage.access import selectors as access_selectors
from patronage.access.models import RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.accounts.choices import RecordType
from patronage.accounts.models import User
from patronage.api_support import MAX_ID, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel
from patronage.errors import NotFound, ValidationFailed
from patronage.organization.models import Department

from . import acknowledgement_actions, acknowledgements, actions, removal_actions, selectors
from .actions import LineSpec
from .models import RequestLine, RoleRequest, Unit
from .schemas import (
    AcknowledgementIn,
    AcknowledgementStateOut,
    AdministratorApprovalIn,
    DecisionIn,
    HolderOut,
    PolicyIn,
    PolicyOut,
    PrivacyFormOut,
    RequestIn,
    RequestOut,
    SeparationFileOut,
    SeparationIn,
    SeparationOut,
    SignatureIn,
    SignatureOut,
    TaskOut,
    TrainingIn,
    TransferIn,
    TransferOut,
    WithdrawalIn,
)

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED = 201


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def _viewer(request: HttpRequest) -> User:
    user = acting_user(request)
    assert user is not None  # the permission check has authenticated the caller
    return user


def _user(request: HttpRequest, user_id: int | None, field: str) -> User | None:
    """A staff member a request names. Filers need not hold ``users:user:view``: whom they may
    file for (and with whose help) is the directory's business, checked by the actions."""
    if user_id is None:
        return None
    found = User.objects.filter(pk=user_id, record_type=RecordType.STAFF).first()
    if found is None:
        raise ValidationFailed({field: "No such staff member."})
    return found


def _primary(user: User | None) -> str | None:
    return user.primary_id if user is not None else None


def request_out(found: RoleRequest) -> dict[str, Any]:
    signature = found.privacy_signature
    return {
        "id": found.pk,
        "kind": found.kind,
        "status": found.status,
        "status_label": found.get_status_display(),
        "subject_id": found.subject_id,
        "subject": str(found.subject),
        "filed_by": _primary(found.filed_by),
        "filed_as": found.filed_as,
        "on_behalf_of": _primary(found.on_behalf_of),
        "unit": found.unit.code,
        "login_type": found.login_type,
        "rationale": found.rationale,
        "business_need": found.business_need,
        "start_date": found.start_date,
        "end_date": found.end_date,
        "short_notice": found.short_notice,
        "work_order_department_id": found.work_order_department_id,
        "additional_role": found.additional_role,
        "additional_role_agreed_by": _primary(found.additional_role_agreed_by),
        "copied_from": _primary(found.copied_from),
        "form_variant": found.form_variant,
        "submitted_at": found.submitted_at,
        "due_at": found.due_at,
        "overdue": found.is_open and found.due_at < timezone.now(),
        "signed_off_by": _primary(found.signed_off_by),
        "signed_off_at": found.signed_off_at,
        "privacy_form_version": signature.form.version if signature else None,
        "privacy_form_signed_at": signature.signed_at if signature else None,
        "sandbox_granted_at": found.sandbox_granted_at,
        "training_required": sorted(actions.training_required(found)),
        "training": [
            {
                "area": t.area,
                "completed_on": t.completed_on,
                "recorded_by": _primary(t.recorded_by),
            }
            for t in found.training.all()
        ],
        "completed_at": found.completed_at,
        "closed_reason": found.closed_reason,
        "lines": [line_out(line) for line in found.lines.all()],
    }


def line_out(line: RequestLine) -> dict[str, Any]:
    unit = line.unit
    return {
        "id": line.pk,
        "action": line.action,
        "role": line.role.code,
        "role_name": line.role.name,
        "scope_type": line.scope_type,
        "scope_id": unit.pk if unit else None,
        "scope_name": line.scope_label,
        "grant_id": line.grant_id,
        "decision": line.decision,
        "training_area": line.training_area,
        "lead_decided_by": _primary(line.lead_decided_by),
        "lead_decided_at": line.lead_decided_at,
        "admin_approved_by": _primary(line.admin_approved_by),
        "admin_approved_at": line.admin_approved_at,
        "needs_administrator": line.role.is_admin and line.action == "ADD",
        "comment": line.comment,
        "sandbox_grant_id": line.sandbox_grant_id,
        "production_grant_id": line.production_grant_id,
    }


def _fresh(request: HttpRequest, pk: int) -> dict[str, Any]:
    return request_out(selectors.get_request(_viewer(request), pk))


def _line(request: HttpRequest, request_id: int, line_id: int) -> RequestLine:
    line = selectors.get_line(_viewer(request), line_id)
    if line.request_id != request_id:
        raise NotFound("No such request line.", code="line_not_found")
    return line


def line_specs(request: HttpRequest, subject: User, lines: list[Any]) -> list[LineSpec]:
    """The lines of a request body as ``LineSpec``s; unknown roles, scopes and grants → 422."""
    specs = []
    for n, line in enumerate(lines):
        field = f"lines[{n}]"
        try:
            if line.action == "REMOVE":
                grant = (
                    RoleGrant.objects.select_related("role")
                    .filter(pk=line.grant_id, user=subject)
                    .first()
                )
                if grant is None:
                    raise ValidationFailed({field: "Choose one of the person's grants to remove."})
                specs.append(LineSpec("REMOVE", grant.role, grant.unit, grant))
            else:
                role = access_selectors.get_role(line.role or "")
                scope = access_selectors.resolve_scope(line.scope_type, line.scope_id)
                specs.append(LineSpec("ADD", role, scope))
        except ValidationFailed as exc:
            raise ValidationFailed({field: exc.message}, code="invalid_lines") from None
    return specs


# --- requests ----------------------------------------------------------------------------------


@router.get(
    "/role-requests",
    response={200: list[RequestOut], **error_responses()},
    summary="List role requests",
)
@permission_required(Permission.REQUESTS_FILE)
def list_requests(request: HttpRequest, open_only: bool = False, overdue: bool = False) -> Any:
    """The requests the caller may see (Library IT: all), newest first; ``overdue``: open
    requests past their due date, oldest first."""
    viewer = _viewer(request)
    if overdue:
        found = selectors.overdue(viewer)
    else:
        found = selectors.visible_requests(viewer).order_by("-submitted_at", "-id")
        if open_only:
            found = found.exclude(status__in=selectors.CLOSED_STATUSES)
    return [request_out(r) for r in found[:500]]


@router.get(
    "/role-requests/inbox",
    response={200: list[TaskOut], **error_responses()},
    summary="The approver's inbox",
)
@permission_required(Permission.REQUESTS_APPROVE)
def inbox(request: HttpRequest) -> Any:
    """Open requests waiting for the caller, with the step they wait for, oldest due first."""
    return [
        {"step": t.step, "request": request_out(t.request)}
        for t in selectors.inbox(_viewer(request))
    ]


@router.get(
    "/role-requests/{request_id}",
    response={200: RequestOut, **error_responses(404)},
    summary="Show a role request",
)
@permission_required(Permission.REQUESTS_FILE)
def get_request(request: HttpRequest, request_id: Id) -> Any:
    return _fresh(request, request_id)


@router.post(
    "/role-requests",
    response={CREATED: RequestOut, **error_responses(409)},
    summary="File a role request",
)
@permission_required(Permission.REQUESTS_FILE)
def file_request(request: HttpRequest, payload: RequestIn) -> Any:
    """The login request form of seed 001: new login, update (only the changes) or delete; by a
    supervisor (their filing is the sign-off), the staff member (updates), or a login liaison
    on a manager's behalf."""
    subject = _user(request, payload.subject_id, "subject_id")
    assert subject is not None
    department = None
    if payload.work_order_department_id is not None:
        department = Department.objects.filter(pk=payload.work_order_department_id).first()
        if department is None:
            raise ValidationFailed({"work_order_department_id": "No such department."})
    filed = actions.file_request(
        actor=_actor(request),
        subject=subject,
        kind=payload.kind,
        rationale=payload.rationale,
        lines=line_specs(request, subject, payload.lines),
        login_type=payload.login_type,
        copy_from=_user(request, payload.copy_from_id, "copy_from_id"),
        on_behalf_of=_user(request, payload.on_behalf_of_id, "on_behalf_of_id"),
        start_date=payload.start_date,
        end_date=payload.end_date,
        work_order_department=department,
        additional_role=payload.additional_role,
        additional_role_agreed_by=_user(
            request, payload.additional_role_agreed_by_id, "additional_role_agreed_by_id"
        ),
        business_need=payload.business_need,
    )
    return Status(CREATED, _fresh(request, filed.pk))


@router.post(
    "/role-requests/{request_id}/sign-off",
    response={200: RequestOut, **error_responses(404, 409)},
    summary="Sign off as the staff manager",
)
@permission_required(Permission.REQUESTS_FILE)
def sign_off(request: HttpRequest, request_id: Id) -> Any:
    found = selectors.get_request(_viewer(request), request_id)
    actions.sign_off(actor=_actor(request), request=found)
    return _fresh(request, request_id)


@router.post(
    "/role-requests/{request_id}/lines/{line_id}/decision",
    response={200: RequestOut, **error_responses(404, 409)},
    summary="Decide a line as functional-area lead",
)
@permission_required(Permission.REQUESTS_APPROVE)
def decide(request: HttpRequest, request_id: Id, line_id: Id, payload: DecisionIn) -> Any:
    """Approve or reject one requested change and recommend the training it needs."""
    line = _line(request, request_id, line_id)
    actions.decide_line(
        actor=_actor(request),
        line=line,
        approve=payload.approve,
        training_area=payload.training_area or "",
        comment=payload.comment,
    )
    return _fresh(request, request_id)


@router.post(
    "/role-requests/{request_id}/lines/{line_id}/administrator-approval",
    response={200: RequestOut, **error_responses(404, 409)},
    summary="Co-approve an administrator role as system administrator",
)
@permission_required(Permission.REQUESTS_APPROVE)
def co_approve(
    request: HttpRequest, request_id: Id, line_id: Id, payload: AdministratorApprovalIn
) -> Any:
    line = _line(request, request_id, line_id)
    actions.approve_as_administrator(
        actor=_actor(request), line=line, approve=payload.approve, comment=payload.comment
    )
    return _fresh(request, request_id)


@router.get(
    "/role-requests/{request_id}/privacy-form",
    response={200: PrivacyFormOut, **error_responses(404)},
    summary="The privacy & security form to sign",
)
@permission_required(Permission.REQUESTS_FILE)
def privacy_form(request: HttpRequest, request_id: Id) -> Any:
    """The current version of the form variant (staff or student) the request's person signs."""
    found = selectors.get_request(_viewer(request), request_id)
    form = actions.current_form(found.form_variant)
    if form is None:
        raise NotFound("No form is published.", code="form_not_found")
    return form


@router.post(
    "/role-requests/{request_id}/privacy-form",
    response={CREATED: SignatureOut, **error_responses(404, 409)},
    summary="Sign the privacy & security form",
)
@permission_required(Permission.REQUESTS_FILE)
def sign_form(request: HttpRequest, request_id: Id, payload: SignatureIn) -> Any:
    """The person signs the version they read; an outdated version is a 422 ``outdated_form``."""
    found = selectors.get_request(_viewer(request), request_id)
    signature = actions.sign_privacy_form(
        actor=_actor(request), request=found, version=payload.version
    )
    return Status(
        CREATED,
        {
            "version": signature.form.version,
            "variant": signature.form.variant,
            "signed_at": signature.signed_at,
        },
    )


@router.post(
    "/role-requests/{request_id}/sandbox-grants",
    response={200: RequestOut, **error_responses(404, 409)},
    summary="Grant the approved roles in the sandbox",
)
@permission_required(Permission.REQUESTS_PROCESS)
def sandbox(request: HttpRequest, request_id: Id) -> Any:
    found = selectors.get_request(_viewer(request), request_id)
    actions.grant_in_sandbox(actor=_actor(request), request=found)
    return _fresh(request, request_id)


@router.post(
    "/role-requests/{request_id}/training",
    response={200: RequestOut, **error_responses(404, 409)},
    summary="Record completed training",
)
@permission_required(Permission.REQUESTS_APPROVE)
def training(request: HttpRequest, request_id: Id, payload: TrainingIn) -> Any:
    found = selectors.get_request(_viewer(request), request_id)
    actions.record_training(
        actor=_actor(request),
        request=found,
        area=payload.area,
        completed_on=payload.completed_on,
        note=payload.note,
    )
    return _fresh(request, request_id)


@router.post(
    "/role-requests/{request_id}/production-grants",
    response={200: RequestOut, **error_responses(404, 409)},
    summary="Grant the approved roles in production",
)
@permission_required(Permission.REQUESTS_PROCESS)
def production(request: HttpRequest, request_id: Id) -> Any:
    found = selectors.get_request(_viewer(request), request_id)
    actions.grant_in_production(actor=_actor(request), request=found)
    return _fresh(request, request_id)


@router.post(
    "/role-requests/{request_id}/withdrawal",
    response={200: RequestOut, **error_responses(404, 409)},
    summary="Withdraw a role request",
)
@permission_required(Permission.REQUESTS_FILE)
def withdraw(request: HttpRequest, request_id: Id, payload: WithdrawalIn) -> Any:
    found = selectors.get_request(_viewer(request), request_id)
    actions.withdraw(actor=_actor(request), request=found, reason=payload.reason)
    return _fresh(request, request_id)


# --- removal ------------------------------------------------------------------------------------


@router.post(
    "/separations",
    response={CREATED: SeparationOut, **error_responses(404)},
    summary="Record a separation",
)
@permission_required(Permission.SEPARATIONS_PROCESS)
def separation(request: HttpRequest, payload: SeparationIn) -> Any:
    """Every grant ends at the separation date; on that date sessions and API keys are revoked
    and the login is deactivated (at once if it has come)."""
    user = accounts.get_user(acting_user(request), payload.user_id)
    recorded = removal_actions.separate(
        actor=_actor(request),
        user=user,
        separation_date=payload.separation_date,
        source=payload.source,
    )
    return Status(
        CREATED,
        {
            "id": recorded.pk,
            "user_id": user.pk,
            "separation_date": recorded.separation_date,
            "completed": recorded.completed_at is not None,
        },
    )


@router.post(
    "/separations/file",
    response={200: SeparationFileOut, **error_responses()},
    summary="Process a separation file from HR",
)
@permission_required(Permission.SEPARATIONS_PROCESS)
def separation_file(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """CSV with the header ``primary_id,separation_date``. Good rows are applied; each bad row
    (malformed, unknown person, named twice) is reported with its line and changes nothing."""
    if file.size and file.size > 5 * 1024 * 1024:
        raise ValidationFailed({"file": "The file is larger than 5 MB."})
    report = removal_actions.process_separation_file(
        actor=_actor(request), content=file.read(), source=file.name or "api"
    )
    return {
        "applied": len(report.applied),
        "errors": len(report.errors),
        "rows": [
            {"line": r.line, "primary_id": r.primary_id, "ok": r.ok, "message": r.message}
            for r in report.rows
        ],
    }


def _grant_brief(grant: RoleGrant) -> dict[str, Any]:
    return {
        "id": grant.pk,
        "role": grant.role.code,
        "scope_name": grant.scope_label,
        "environment": grant.environment,
    }


@router.post(
    "/users/{user_id}/transfer",
    response={200: TransferOut, **error_responses(404)},
    summary="Transfer a staff member to another unit",
)
@permission_required(Permission.SEPARATIONS_PROCESS)
def transfer(request: HttpRequest, user_id: Id, payload: TransferIn) -> Any:
    """Grants scoped within the old unit's library end now; the rest are listed for review."""
    user = accounts.get_user(acting_user(request), user_id)
    unit = Unit.objects.filter(code=payload.unit.strip().upper()).first()
    if unit is None:
        raise ValidationFailed({"unit": f"No unit has the code '{payload.unit}'."})
    result = removal_actions.transfer(
        actor=_actor(request),
        user=user,
        unit=unit,
        supervisor=_user(request, payload.supervisor_id, "supervisor_id"),
        reason=payload.reason,
    )
    return {
        "removed": [_grant_brief(g) for g in result.removed],
        "review": [_grant_brief(g) for g in result.review],
    }


# --- the yearly confidentiality acknowledgement ----------------------------------------------


@router.get(
    "/confidentiality-policy",
    response={200: AcknowledgementStateOut, **error_responses()},
    summary="The confidentiality policy and the caller's acknowledgement",
)
@permission_required(Permission.USERS_VIEW)
def policy(request: HttpRequest) -> Any:
    viewer = _viewer(request)
    return {
        "policy": acknowledgements.current_policy(),
        "acknowledged_until": acknowledgements.valid_until(viewer),
        "required": acknowledgements.acknowledgement_required(viewer),
    }


@router.post(
    "/confidentiality-policy",
    response={CREATED: PolicyOut, **error_responses()},
    summary="Publish a new version of the confidentiality policy",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def publish_policy(request: HttpRequest, payload: PolicyIn) -> Any:
    """From the first publication on, holders of patron lookup must acknowledge the current
    version every period; a new version asks everyone anew."""
    published = acknowledgement_actions.publish_policy(
        actor=_actor(request), title=payload.title, text=payload.text
    )
    return Status(CREATED, published)


@router.post(
    "/confidentiality-policy/acknowledgements",
    response={CREATED: AcknowledgementStateOut, **error_responses()},
    summary="Acknowledge the confidentiality policy",
)
@permission_required(Permission.USERS_VIEW)
def acknowledge(request: HttpRequest, payload: AcknowledgementIn) -> Any:
    """Acknowledge the version read; an outdated version is a 422 ``outdated_policy``."""
    acknowledgement_actions.acknowledge(actor=_actor(request), version=payload.version)
    viewer = _viewer(request)
    acknowledgements.forget(viewer)
    return Status(CREATED, policy(request))


@router.get(
    "/reports/confidentiality-acknowledgements",
    response={200: list[HolderOut], **error_responses()},
    summary="Who holds patron lookup, and whose acknowledgement lapsed",
)
@permission_required(Permission.ACKNOWLEDGEMENTS_REPORT)
def acknowledgement_report(request: HttpRequest, lapsed_only: bool = False) -> Any:
    return [
        {
            "user_id": row.user.pk,
            "primary_id": row.user.primary_id,
            "name": row.user.display_name,
            "acknowledged_at": row.acknowledged_at,
            "lapses_at": row.lapses_at,
            "lapsed": row.lapsed,
        }
        for row in acknowledgements.holders_status()
        if row.lapsed or not lapsed_only
    ]
