"""Roles, grants, login models and access reports under /api/v1/: parse, call a selector or an
action, serialise. Thin, like the staff UI.

Users are looked up through ``accounts.selectors.get_user`` (a user out of reach is a 404);
a grant must belong to that user and be in force or scheduled, else it is a 404 too.
Refusals of the grant rules are 422 with their stable code (``scope_required``,
``not_delegated``, ``escalation``, ...). Reports answer JSON, or CSV with ``?format=csv``.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Status
from pydantic import Field

from patronage.accounts import selectors as accounts
from patronage.accounts.models import User
from patronage.api_support import (
    MAX_ID,
    NO_NUL,
    acting_user,
    error_responses,
    permission_required,
)
from patronage.audit.context import Actor, Channel
from patronage.errors import ValidationFailed
from patronage.organization.models import Library

from . import actions, reports, selectors
from .models import Role, RoleGrant
from .permissions import Permission
from .schemas import (
    Format,
    GrantIn,
    GrantOut,
    HolderOut,
    HoldersQuery,
    LoginModelIn,
    LoginOut,
    ProposalOut,
    RoleOut,
    WhoCanSeeOut,
)

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED, NO_CONTENT = 201, 204
# A report's 200 is JSON, or CSV with ?format=csv: both documented.
CSV_TOO = {"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}}


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def _user(request: HttpRequest, user_id: int) -> User:
    return accounts.get_user(acting_user(request), user_id)


def grant_out(grant: RoleGrant) -> dict[str, Any]:
    unit = grant.unit
    return {
        "id": grant.pk,
        "user_id": grant.user_id,
        "role": grant.role.code,
        "role_name": grant.role.name,
        "scope_type": grant.scope_type,
        "scope_id": unit.pk if unit is not None else None,
        "scope_name": grant.scope_label,
        "valid_from": grant.valid_from,
        "valid_until": grant.valid_until,
        "granted_at": grant.granted_at,
        "granted_by": grant.granted_by.primary_id if grant.granted_by else None,
        "note": grant.note,
    }


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


# --- the catalogue ------------------------------------------------------------------------------


@router.get("/roles", response={200: list[RoleOut], **error_responses()}, summary="List roles")
@permission_required(Permission.ROLES_VIEW)
def list_roles(request: HttpRequest) -> Any:
    """The role catalogue of seed 001: role types by level, administrator and login-model
    roles, with the permissions each gives and the scopes it may be limited to."""
    return list(Role.objects.order_by("role_type", "level", "name"))


# --- grants of a user ---------------------------------------------------------------------------


@router.get(
    "/users/{user_id}/grants",
    response={200: list[GrantOut], **error_responses(404)},
    summary="List a user's roles",
    openapi_extra=CSV_TOO,
)
@permission_required(Permission.ROLES_VIEW)
def list_grants(request: HttpRequest, user_id: Id, format: Query[Format] = "json") -> Any:
    """The user's grants in force or scheduled (not revoked, not expired)."""
    user = _user(request, user_id)
    grants = list(selectors.current_grants(acting_user(request), user))
    if format == "csv":
        table = reports.user_roles_table(user, grants)
        return reports.csv_response(table, reports.csv_filename("roles", user.primary_id))
    return [grant_out(grant) for grant in grants]


@router.post(
    "/users/{user_id}/grants",
    response={CREATED: GrantOut, **error_responses(404)},
    summary="Grant a role",
)
@permission_required(Permission.ROLES_GRANT)
def create_grant(request: HttpRequest, user_id: Id, payload: GrantIn) -> Status[dict[str, Any]]:
    """Give the user a role within a scope. Every rule of seed 001 applies: the scope kind the
    role allows, custom logins only, business-need notes, and delegation without escalation
    (the caller grants only what their own roles let them, where they let them)."""
    user = _user(request, user_id)
    role = selectors.get_role(payload.role)
    scope = selectors.resolve_scope(payload.scope_type, payload.scope_id)
    valid_until = _aware(payload.valid_until)
    if valid_until is not None and valid_until <= timezone.now():
        raise ValidationFailed(
            {"valid_until": "The end must be in the future."}, code="invalid_period"
        )
    grant = actions.grant_role(
        actor=_actor(request),
        user=user,
        role=role,
        scope=scope,
        valid_from=_aware(payload.valid_from),
        valid_until=valid_until,
        note=payload.note,
        reason=payload.reason,
    )
    grant = selectors.get_grant(acting_user(request), user, grant.pk)
    return Status(CREATED, grant_out(grant))


@router.delete(
    "/grants/{grant_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Revoke a grant",
)
@permission_required(Permission.ROLES_GRANT)
def revoke_grant(
    request: HttpRequest,
    grant_id: Id,
    reason: Query[Annotated[str, Field(min_length=1, max_length=500), NO_NUL]],
) -> Status[None]:
    """End a grant now, giving the reason (recorded in the audit trail). The holder's sessions
    end at their next request."""
    grant = selectors.get_grant_by_id(acting_user(request), grant_id)
    if not reason.strip():
        raise ValidationFailed({"reason": "Give the reason for removing the role."})
    actions.revoke_grant(actor=_actor(request), grant=grant, reason=reason.strip())
    return Status(NO_CONTENT, None)


@router.put(
    "/users/{user_id}/login-model",
    response={200: LoginOut, **error_responses(404)},
    summary="Set a staff login's model",
)
@permission_required(Permission.ROLES_GRANT)
def set_login_model(request: HttpRequest, user_id: Id, payload: LoginModelIn) -> Any:
    """View, View with Analytics, Systems or Custom (seed 001 "Login Type"). Leaving Custom
    removes the custom roles; the model's own role is granted with it."""
    user = _user(request, user_id)
    user = actions.set_login_model(
        actor=_actor(request), user=user, login_model=payload.login_model, reason=payload.reason
    )
    grants = selectors.current_grants(acting_user(request), user)
    return {
        "user_id": user.pk,
        "login_model": user.login_model,
        "shared_desk_id": user.shared_desk_id,
        "terminal": user.terminal,
        "grants": [grant_out(grant) for grant in grants],
    }


@router.get(
    "/users/{user_id}/proposed-roles",
    response={200: list[ProposalOut], **error_responses(404)},
    summary="Roles proposed by the role assignment rules",
)
@permission_required(Permission.ROLES_VIEW)
def proposed_roles(request: HttpRequest, user_id: Id) -> Any:
    """Roles the rules propose for the user's job category or user group, not held yet."""
    user = _user(request, user_id)
    return [
        {
            "role": proposal.role.code,
            "role_name": proposal.role.name,
            "scope_types": proposal.role.scope_types,
            "because": [f"{rule.basis}:{rule.code}" for rule in proposal.because],
        }
        for proposal in selectors.proposed_roles(user)
    ]


# --- reports ------------------------------------------------------------------------------------


@router.get(
    "/reports/permission-holders",
    response={200: list[HolderOut], **error_responses()},
    summary="Who holds a permission or role",
    openapi_extra=CSV_TOO,
)
@permission_required(Permission.REPORTS_ACCESS)
def permission_holders(request: HttpRequest, filters: Query[HoldersQuery]) -> Any:
    """One row per grant in force of an active user giving ``permission`` (or of ``role``);
    with ``library`` (its code), only grants in that library or institution-wide."""
    unit = None
    if filters.library:
        unit = Library.objects.filter(code=filters.library).first()
        if unit is None:
            raise ValidationFailed({"library": f"'{filters.library}' is not a library."})
    grants = selectors.permission_holders(
        acting_user(request),
        permission=filters.permission,
        role=selectors.get_role(filters.role) if filters.role else None,
        library=unit,
    )
    if filters.format == "csv":
        name = reports.csv_filename("holders", filters.permission or filters.role, filters.library)
        return reports.csv_response(reports.holders_table(grants), name)
    return [
        {
            "user_id": grant.user_id,
            "primary_id": grant.user.primary_id,
            "display_name": grant.user.display_name,
            "job_category": grant.user.job_category,
            "grant": grant_out(grant),
        }
        for grant in grants
    ]


@router.get(
    "/reports/who-can-see/{user_id}",
    response={200: WhoCanSeeOut, **error_responses(404)},
    summary="Who can see a user",
    openapi_extra=CSV_TOO,
)
@permission_required(Permission.REPORTS_ACCESS)
def who_can_see(request: HttpRequest, user_id: Id, format: Query[Format] = "json") -> Any:
    """Every active user whose grants in force let them find this user by identifier, see
    their details, or look them up by name — and which grants give each. User records carry
    no scope, so a grant anywhere counts."""
    subject = _user(request, user_id)
    viewers = selectors.who_can_see(acting_user(request), subject)
    if format == "csv":
        name = reports.csv_filename("who-can-see", subject.primary_id)
        return reports.csv_response(reports.who_can_see_table(viewers), name)
    return {
        "user_id": subject.pk,
        "viewers": [
            {
                "user_id": viewer.user.pk,
                "primary_id": viewer.user.primary_id,
                "display_name": viewer.user.display_name,
                "job_category": viewer.user.job_category,
                "permissions": {
                    str(permission): [grant_out(grant) for grant in grants]
                    for permission, grants in viewer.grants.items()
                },
            }
            for viewer in viewers
        ],
    }
