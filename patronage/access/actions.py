"""Granting and revoking roles and setting login models: the only code that writes grants.

The rules (seed 001, issue "Staff roles"):

* a grant names a scope of a kind its role allows (a desk for fulfillment roles, an
  acquisitions unit for acquisitions roles, a department of the right kind...);
* roles other than the login model's own are added only to custom logins;
* a shared circulation-desk login holds Fulfillment Operator at its own desk and nothing
  that edits records: such work is done under an individual login, for audit;
* a student's or temporary worker's grant of some roles needs a business-need note;
* delegated administration without escalation: an administrator grants only roles their
  own role marks grantable, only within the scope of that role, and never a permission
  they do not hold there themselves; nobody changes their own grants.

Every refusal is audited as well as raised, so attempts to escalate leave a trace.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from patronage.accounts.actions import end_sessions
from patronage.accounts.choices import CodeTable, RecordType
from patronage.accounts.models import CodeTableEntry, User, new_grants_token
from patronage.audit.actions import record
from patronage.audit.context import Actor
from patronage.errors import DomainError, ValidationFailed
from patronage.organization.models import AcquisitionsUnit, CirculationDesk, Department, Library

from .checks import IN_LIBRARY, ScopeKey, coverage_by_permission, forget, require
from .models import (
    AssignmentBasis,
    Environment,
    LoginModel,
    Role,
    RoleAssignmentRule,
    RoleGrant,
    ScopeType,
    running_environment,
)
from .permissions import RECORD_EDITING, Permission

Unit = Library | CirculationDesk | Department | AcquisitionsUnit
SCOPE_OF_UNIT: dict[type, tuple[str, str]] = {
    Library: (ScopeType.LIBRARY, "library"),
    CirculationDesk: (ScopeType.CIRCULATION_DESK, "circulation_desk"),
    Department: (ScopeType.DEPARTMENT, "department"),
    AcquisitionsUnit: (ScopeType.ACQUISITIONS_UNIT, "acquisitions_unit"),
}
STUDENT_OR_TEMPORARY = {"STUDENT_WORKER", "TEMP_WORKER"}
SHARED_DESK_ROLE = "FULFILLMENT_OPERATOR"


class GrantRefused(ValidationFailed):
    code = "grant_refused"


def _refuse(field: str, message: str, code: str) -> GrantRefused:
    return GrantRefused({field: message}, code=code)


def unit_keys(unit: Unit | None) -> frozenset[ScopeKey] | None:
    """The scope keys of a grant's target unit, as an object placed there would have."""
    if unit is None:
        return None
    scope_type, _ = SCOPE_OF_UNIT[type(unit)]
    if isinstance(unit, Library):
        return frozenset({(ScopeType.LIBRARY, unit.pk), (IN_LIBRARY, unit.pk)})
    return frozenset(
        {(scope_type, unit.pk), (ScopeType.LIBRARY, unit.library_id), (IN_LIBRARY, unit.library_id)}
    )


# --- the checks -------------------------------------------------------------------------------


def _check_scope(role: Role, unit: Unit | None) -> str:
    scope_type = SCOPE_OF_UNIT[type(unit)][0] if unit is not None else ScopeType.INSTITUTION
    if scope_type not in role.scope_types:
        kinds = " or ".join(ScopeType(t).label.lower() for t in role.scope_types)
        raise _refuse("scope", f"{role.name} must be limited to a {kinds}.", "scope_required")
    if isinstance(unit, Department) and role.department_kind and unit.kind != role.department_kind:
        raise _refuse(
            "scope",
            f"{role.name} is limited to a {role.department_kind.replace('_', ' ').lower()} "
            f"department; {unit} is not one.",
            "scope_required",
        )
    return scope_type


def _check_login(user: User, role: Role, unit: Unit | None) -> None:
    if user.record_type != RecordType.STAFF:
        raise _refuse("user", "Roles are granted to staff users only.", "not_staff")
    if not user.is_active:
        raise _refuse("user", "The account is not active.", "user_inactive")
    if user.is_shared_desk_login:
        if role.code != SHARED_DESK_ROLE or unit != user.shared_desk:
            raise _refuse(
                "role",
                "A shared circulation-desk login holds only Fulfillment Operator at its own "
                "desk; other work is done under an individual login.",
                "shared_desk_login",
            )
    elif user.login_model != LoginModel.CUSTOM:
        raise _refuse(
            "role",
            "Roles are added to custom logins only; change the login model to Custom first.",
            "login_model_not_custom",
        )
    if user.is_shared_desk_login and RECORD_EDITING.intersection(role.permissions):
        raise _refuse(
            "role",
            "A shared desk login cannot hold a role that edits records.",
            "shared_desk_login",
        )


def _check_delegation(actor: Actor, role: Role, unit: Unit | None) -> None:
    """The actor's own grants must let them grant this role here, and hold all it gives."""
    if actor.user is None:
        return
    if actor.user.pk is None:
        raise _refuse("role", "Unknown acting user.", "not_delegated")
    keys = unit_keys(unit)
    coverage = coverage_by_permission(actor.user)

    def covers(permission: str) -> bool:
        held = coverage.get(permission)
        if held is None:
            return False
        return held.everywhere if keys is None else held.covers(keys)

    delegating = [
        grant
        for grant in RoleGrant.objects.active()
        .filter(user=actor.user)
        .select_related("role", "circulation_desk", "department", "acquisitions_unit")
        if Permission.ROLES_GRANT in grant.role.permissions and grant.role.may_grant(role)
    ]
    if not any(_grant_covers(grant, keys) for grant in delegating):
        raise _refuse(
            "role",
            f"Your roles do not let you grant {role.name}"
            + (" for the whole institution." if keys is None else f" in {unit}."),
            "not_delegated",
        )
    if missing := sorted(p for p in role.permissions if not covers(p)):
        raise _refuse(
            "role",
            f"{role.name} gives permissions you do not hold there yourself ({', '.join(missing)}).",
            "escalation",
        )


def _grant_covers(grant: RoleGrant, keys: frozenset[ScopeKey] | None) -> bool:
    if grant.scope_type == ScopeType.INSTITUTION:
        return True
    if keys is None:
        return False
    unit = grant.unit
    assert unit is not None
    return (SCOPE_OF_UNIT[type(unit)][0], unit.pk) in keys


def _check_note(user: User, role: Role, note: str) -> None:
    if (
        role.business_need_for_students
        and user.job_category in STUDENT_OR_TEMPORARY
        and not note.strip()
    ):
        raise _refuse(
            "note",
            f"{role.name} for a student or temporary worker needs a note on the business need.",
            "business_need_required",
        )


def _audited_refusal(actor: Actor, verb: str, user: User, role: Role, exc: DomainError) -> None:
    """Keep a trace of a refused grant: written after the refused transaction rolled back."""
    record(
        actor=actor,
        verb=verb,
        object_type="rolegrant",
        subject=user,
        details={"role": role.code, "code": exc.code, "message": exc.message},
    )


# --- the actions ------------------------------------------------------------------------------


def grant_role(
    *,
    actor: Actor,
    user: User,
    role: Role,
    scope: Unit | None = None,
    valid_from: datetime.datetime | None = None,
    valid_until: datetime.datetime | None = None,
    note: str = "",
    reason: str = "",
    environment: str = "",
) -> RoleGrant:
    """Give ``user`` the role within ``scope`` (``None``: the whole institution), in
    ``environment`` (default: the one this instance runs as)."""
    require(actor, Permission.ROLES_GRANT)
    try:
        with transaction.atomic():
            return _grant(
                actor=actor,
                user=user,
                role=role,
                scope=scope,
                valid_from=valid_from,
                valid_until=valid_until,
                note=note,
                reason=reason,
                environment=environment or running_environment(),
            )
    except DomainError as refusal:
        _audited_refusal(actor, "role.grant_refused", user, role, refusal)
        raise


def _grant(
    *,
    actor: Actor,
    user: User,
    role: Role,
    scope: Unit | None,
    valid_from: datetime.datetime | None,
    valid_until: datetime.datetime | None,
    note: str,
    reason: str,
    environment: str = "",
    via_login_model: bool = False,
) -> RoleGrant:
    environment = environment or running_environment()
    if environment not in Environment.values:
        raise _refuse("environment", f"'{environment}' is not an environment.", "bad_environment")
    user = User.objects.select_for_update().get(pk=user.pk)
    if actor.user is not None and actor.user.pk == user.pk:
        raise _refuse("user", "Nobody changes their own roles.", "self_grant")
    if role.retired:
        raise _refuse(
            "role", f"{role.name} is retired and can no longer be granted.", "role_retired"
        )
    if role.login_model and not via_login_model:
        raise _refuse(
            "role",
            f"{role.name} comes with the login model; set the login model instead.",
            "login_model_role",
        )
    if not via_login_model:
        _check_login(user, role, scope)
    scope_type = _check_scope(role, scope)
    _check_note(user, role, note)
    if valid_from and valid_until and valid_until <= valid_from:
        raise _refuse("valid_until", "The end must be after the start.", "invalid_period")
    _check_delegation(actor, role, scope)
    grant = RoleGrant(
        user=user,
        role=role,
        scope_type=scope_type,
        granted_by=actor.user,
        valid_from=valid_from,
        valid_until=valid_until,
        note=note.strip(),
        environment=environment,
    )
    if scope is not None:
        setattr(grant, SCOPE_OF_UNIT[type(scope)][1], scope)
    same = RoleGrant.objects.active(environment=environment).filter(
        user=user,
        role=role,
        scope_type=scope_type,
        **{SCOPE_OF_UNIT[type(scope)][1]: scope} if scope is not None else {},
    )
    if same.exists():
        raise _refuse(
            "role", f"{user.display_name} already holds {role.name} there.", "already_held"
        )
    grant.save()
    grants_changed(user)
    record(
        actor=actor,
        verb="role.granted",
        obj=grant,
        subject=user,
        reason=reason,
        changes=[{"field": "roles", "old": None, "new": str(grant)}],
        details={
            "role": role.code,
            "scope_type": scope_type,
            "note": grant.note,
            "environment": environment,
        },
    )
    return grant


def grants_changed(user: User) -> None:
    """Every write to a user's grants ends here, in the same transaction: the account gets a
    new ``grants_token``, so no process uses decisions cached under the old one
    (``access.checks``), and this instance forgets its own."""
    user.grants_token = new_grants_token()
    User.objects.filter(pk=user.pk).update(grants_token=user.grants_token)
    forget(user)


def revoke_grant(*, actor: Actor, grant: RoleGrant, reason: str = "") -> None:
    """End a grant now. The holder's sessions end at their next request."""
    require(actor, Permission.ROLES_GRANT)
    try:
        with transaction.atomic():
            _revoke(actor=actor, grant=grant, reason=reason)
    except DomainError as refusal:
        _audited_refusal(actor, "role.revoke_refused", grant.user, grant.role, refusal)
        raise


def _revoke(*, actor: Actor, grant: RoleGrant, reason: str, via_login_model: bool = False) -> None:
    grant = RoleGrant.objects.select_for_update().select_related("role", "user").get(pk=grant.pk)
    if grant.revoked_at is not None:
        return
    if actor.user is not None and actor.user.pk == grant.user_id:
        raise _refuse("user", "Nobody changes their own roles.", "self_grant")
    if grant.role.login_model and not via_login_model:
        raise _refuse(
            "role",
            "This role comes with the login model; change the login model instead.",
            "login_model_role",
        )
    if actor.user is not None:
        _check_may_administer(actor, grant)
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    end_sessions(grant.user)
    grants_changed(grant.user)
    record(
        actor=actor,
        verb="role.revoked",
        obj=grant,
        subject=grant.user,
        reason=reason,
        changes=[{"field": "roles", "old": str(grant), "new": None}],
        details={"role": grant.role.code},
    )


def _check_may_administer(actor: Actor, grant: RoleGrant) -> None:
    """Revoking needs the same delegation as granting, but not holding the role's powers."""
    keys = unit_keys(grant.unit)
    delegating = (
        RoleGrant.objects.active()
        .filter(user=actor.user)
        .select_related("role", "circulation_desk", "department", "acquisitions_unit")
    )
    if not any(
        Permission.ROLES_GRANT in mine.role.permissions
        and mine.role.may_grant(grant.role)
        and _grant_covers(mine, keys)
        for mine in delegating
    ):
        raise _refuse(
            "role", f"Your roles do not let you remove {grant.role.name} here.", "not_delegated"
        )


@transaction.atomic
def set_login_model(*, actor: Actor, user: User, login_model: str, reason: str = "") -> User:
    """Change a staff login's model (seed 001). Leaving Custom removes the custom roles."""
    require(actor, Permission.ROLES_GRANT)
    if login_model not in LoginModel.values:
        raise ValidationFailed({"login_model": f"'{login_model}' is not a login model."})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.record_type != RecordType.STAFF and login_model:
        raise ValidationFailed({"login_model": "Only staff users have staff logins."})
    if user.is_shared_desk_login and login_model != LoginModel.CUSTOM:
        raise ValidationFailed(
            {"login_model": "A shared desk login keeps the Custom model with its desk role."}
        )
    previous = user.login_model
    if previous == login_model:
        return user
    model_role = Role.objects.filter(login_model=login_model).first() if login_model else None
    if model_role is not None:
        _check_delegation(actor, model_role, None)
    for grant in RoleGrant.objects.active().filter(user=user).select_related("role"):
        if grant.role.login_model or login_model != LoginModel.CUSTOM:
            _revoke(
                actor=actor,
                grant=grant,
                reason=reason or "login model changed",
                via_login_model=True,
            )
    user.login_model = login_model
    user.save(update_fields=["login_model"])
    if model_role is not None:
        _grant(
            actor=actor,
            user=user,
            role=model_role,
            scope=None,
            valid_from=None,
            valid_until=None,
            note="",
            reason=reason,
            via_login_model=True,
        )
    record(
        actor=actor,
        verb="user.login_model_changed",
        obj=user,
        subject=user,
        reason=reason,
        changes=[{"field": "login_model", "old": previous, "new": login_model}],
    )
    grants_changed(user)
    return user


@transaction.atomic
def make_shared_desk_login(
    *, actor: Actor, user: User, desk: CirculationDesk, terminal: str, reason: str = ""
) -> RoleGrant:
    """Bind a staff login to one terminal at one desk, holding only Fulfillment Operator."""
    require(actor, Permission.ROLES_GRANT)
    terminal = (terminal or "").strip()
    if not terminal:
        raise ValidationFailed({"terminal": "Name the terminal this login is used on."})
    user = User.objects.select_for_update().get(pk=user.pk)
    if RoleGrant.objects.active().filter(user=user).exclude(role__login_model="CUSTOM").exists():
        raise ValidationFailed(
            {
                "user": "Remove this login's roles first: a shared desk login holds only its "
                "desk role."
            },
            code="shared_desk_login",
        )
    if user.login_model != LoginModel.CUSTOM:
        set_login_model(actor=actor, user=user, login_model=LoginModel.CUSTOM, reason=reason)
    user.refresh_from_db()
    user.shared_desk, user.terminal = desk, terminal
    user.save(update_fields=["shared_desk", "terminal"])
    record(
        actor=actor,
        verb="user.shared_desk_login",
        obj=user,
        subject=user,
        reason=reason,
        changes=[{"field": "shared_desk", "old": None, "new": f"{desk} / {terminal}"}],
    )
    return _grant(
        actor=actor,
        user=user,
        role=Role.objects.get(code=SHARED_DESK_ROLE),
        scope=desk,
        valid_from=None,
        valid_until=None,
        note="",
        reason=reason,
    )


# --- role assignment rules (seed 002) -----------------------------------------------------------
# Editing the rules is configuration of user management (``CONFIG_USER_SETTINGS``): a rule only
# proposes a role; applying the proposal is a grant, with all of ``grant_role``'s checks.


@transaction.atomic
def save_assignment_rule(
    *, actor: Actor, basis: str, code: str, role: Role | None
) -> RoleAssignmentRule:
    """Propose ``role`` for staff of a job category or user group."""
    require(actor, Permission.CONFIG_USER_SETTINGS)
    code = (code or "").strip()
    errors: dict[str, str] = {}
    if basis not in AssignmentBasis.values:
        errors["basis"] = "Choose a job category or a user group."
    elif not code:
        errors["code"] = f"Choose the {AssignmentBasis(basis).label.lower()}."
    elif not CodeTableEntry.objects.filter(table=CodeTable(basis), code=code).exists():
        errors["code"] = f"'{code}' is not a {AssignmentBasis(basis).label.lower()}."
    if role is None:
        errors["role"] = "Choose a role."
    elif role.retired:
        errors["role"] = f"{role.name} is retired."
    elif role.login_model:
        errors["role"] = f"{role.name} comes with a login model; it cannot be proposed."
    if errors:
        raise ValidationFailed(errors)
    assert role is not None
    if RoleAssignmentRule.objects.filter(basis=basis, code=code, role=role).exists():
        raise ValidationFailed(
            {"role": f"A rule already proposes {role.name} for {code}."}, code="rule_exists"
        )
    rule = RoleAssignmentRule.objects.create(basis=basis, code=code, role=role)
    record(
        actor=actor,
        verb="role_rule.added",
        obj=rule,
        changes=[{"field": "role_assignment_rules", "old": None, "new": str(rule)}],
        details={"basis": basis, "code": code, "role": role.code},
    )
    return rule


@transaction.atomic
def remove_assignment_rule(*, actor: Actor, rule: RoleAssignmentRule) -> None:
    """Stop proposing the rule's role. Grants already applied from it stay."""
    require(actor, Permission.CONFIG_USER_SETTINGS)
    rule = RoleAssignmentRule.objects.select_for_update().select_related("role").get(pk=rule.pk)
    described, pk = str(rule), rule.pk
    details = {"basis": rule.basis, "code": rule.code, "role": rule.role.code}
    rule.delete()
    record(
        actor=actor,
        verb="role_rule.removed",
        object_type="roleassignmentrule",
        changes=[{"field": "role_assignment_rules", "old": described, "new": None}],
        details={**details, "id": pk},
    )
