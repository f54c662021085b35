"""Reading roles and grants: what a viewer may grant where, what rules propose, and the access
reports of seed 003 ("Requesting information on existing roles").

Every function takes the acting user. Grants are read with their role, units and granter in
one query (``select_related``), so a report costs the same few queries for ten holders or ten
thousand. Users are institution-wide objects: any active grant of a permission lets its
holder reach every user record with it, so the reports count every such grant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from patronage.accounts.choices import RecordType, UserStatus
from patronage.accounts.models import User
from patronage.errors import NotFound, ValidationFailed
from patronage.organization.models import AcquisitionsUnit, CirculationDesk, Department, Library

from .catalogue import ROLE_TYPES
from .checks import coverage_by_permission
from .models import AssignmentBasis, Role, RoleAssignmentRule, RoleGrant, ScopeType
from .permissions import Permission

Unit = Library | CirculationDesk | Department | AcquisitionsUnit

GRANT_RELATIONS = (
    "role",
    "user",
    "granted_by",
    "library",
    "circulation_desk__library",
    "department__library",
    "acquisitions_unit__library",
)
# The permissions that reach a user record (seed 000): the card, the details, the name search.
SEEING_A_USER = (
    Permission.USERS_VIEW,
    Permission.USERS_VIEW_DETAILS,
    Permission.USERS_SEARCH_BY_NAME,
)
ROLE_TYPE_NAMES = {role_type.code: role_type.name for role_type in ROLE_TYPES}
INSTITUTION_CHOICE = ScopeType.INSTITUTION.value
_UNIT_MODELS: dict[str, type[Unit]] = {
    ScopeType.LIBRARY: Library,
    ScopeType.CIRCULATION_DESK: CirculationDesk,
    ScopeType.DEPARTMENT: Department,
    ScopeType.ACQUISITIONS_UNIT: AcquisitionsUnit,
}


def _with_relations(grants: QuerySet[RoleGrant]) -> QuerySet[RoleGrant]:
    return grants.select_related(*GRANT_RELATIONS)


# --- scopes -----------------------------------------------------------------------------------


def scope_choice(grant_or_unit: RoleGrant | Unit | None) -> str:
    """``"INSTITUTION"`` or ``"<SCOPE_TYPE>:<id>"``: how forms and the API name a scope."""
    unit = grant_or_unit.unit if isinstance(grant_or_unit, RoleGrant) else grant_or_unit
    if unit is None:
        return INSTITUTION_CHOICE
    scope_type = next(t for t, model in _UNIT_MODELS.items() if isinstance(unit, model))
    return f"{scope_type}:{unit.pk}"


def _units_of(scope_type: str) -> QuerySet[Any]:
    model = _UNIT_MODELS[scope_type]
    units: QuerySet[Any] = model.objects.all()  # type: ignore[attr-defined]
    return units if model is Library else units.select_related("library")


def resolve_scope(scope_type: str, scope_id: int | str | None) -> Unit | None:
    """The unit a scope names (``None``: the whole institution). Unknown → 422 on ``scope``."""
    if scope_type == ScopeType.INSTITUTION:
        return None
    if scope_type not in _UNIT_MODELS:
        raise ValidationFailed({"scope": f"'{scope_type}' is not a kind of scope."})
    label = ScopeType(scope_type).label.lower()
    try:
        number = int(scope_id or 0)
    except (ValueError, TypeError):
        number = 0
    unit = _units_of(scope_type).filter(pk=number).first() if 0 < number < 2**63 else None
    if unit is None:
        raise ValidationFailed({"scope": f"Choose an existing {label}."})
    return unit  # type: ignore[no-any-return]


def parse_scope_choice(value: str) -> Unit | None:
    """A form's ``"LIBRARY:3"`` (or ``"INSTITUTION"``) as a unit; empty → 422 on ``scope``."""
    value = (value or "").strip()
    if not value:
        raise ValidationFailed({"scope": "Choose where the role applies."})
    scope_type, _, scope_id = value.partition(":")
    return resolve_scope(scope_type, scope_id)


def _unit_keys(unit: Unit | None) -> set[tuple[str, int]] | None:
    if unit is None:
        return None
    if isinstance(unit, Library):
        return {(ScopeType.LIBRARY, unit.pk)}
    scope_type = scope_choice(unit).partition(":")[0]
    return {(scope_type, unit.pk), (ScopeType.LIBRARY, unit.library_id)}


def _delegation_covers(grant: RoleGrant, unit: Unit | None) -> bool:
    """A delegating grant covers a unit when it is institution-wide, or the unit is (in) its own."""
    if grant.scope_type == ScopeType.INSTITUTION:
        return True
    keys = _unit_keys(unit)
    own = grant.unit
    return keys is not None and own is not None and (grant.scope_type, own.pk) in keys


# --- what a viewer may grant ------------------------------------------------------------------


def delegating_grants(actor: User) -> list[RoleGrant]:
    """The actor's active grants of roles that let them grant roles."""
    if actor.pk is None:
        return []
    return [
        grant
        for grant in _with_relations(RoleGrant.objects.active().filter(user=actor))
        if Permission.ROLES_GRANT in grant.role.permissions and grant.role.grantable
    ]


def grantable_roles(actor: User, delegating: list[RoleGrant] | None = None) -> list[Role]:
    """Roles the actor may grant somewhere: marked grantable by one of their roles, not retired,
    not a login model's own, and giving nothing the actor does not hold themselves.

    Where exactly (which scope) is checked again by ``grant_role``; this list only keeps the
    form from offering what would certainly be refused.
    """
    delegating = delegating_grants(actor) if delegating is None else delegating
    if not delegating:
        return []
    held = set(coverage_by_permission(actor))
    roles = Role.objects.filter(retired=False, login_model="").order_by("role_type", "name")
    return [
        role
        for role in roles
        if any(grant.role.may_grant(role) for grant in delegating) and set(role.permissions) <= held
    ]


def grouped_roles(roles: Iterable[Role]) -> list[tuple[str, list[Role]]]:
    """Roles grouped by role type (seed 001), the administrator roles last."""
    groups: dict[str, list[Role]] = {}
    for role in roles:
        label = _role_type_label(role)
        groups.setdefault(label, []).append(role)
    return sorted(groups.items(), key=lambda item: (item[0] == "Administration", item[0]))


def _role_type_label(role: Role) -> str:
    if not role.role_type:
        return "Administration" if role.is_admin else "Other"
    return ROLE_TYPE_NAMES.get(role.role_type, role.role_type.replace("_", " ").title())


def units_for(role: Role) -> list[tuple[str, Unit | None]]:
    """Every unit of a kind the role may be scoped to: ``(scope type, unit)``."""
    units: list[tuple[str, Unit | None]] = []
    for scope_type in role.scope_types:
        if scope_type == ScopeType.INSTITUTION:
            units.append((scope_type, None))
            continue
        if scope_type not in _UNIT_MODELS:
            continue
        queryset = _units_of(scope_type)
        if scope_type == ScopeType.DEPARTMENT and role.department_kind:
            queryset = queryset.filter(kind=role.department_kind)
        units.extend((scope_type, unit) for unit in queryset)
    return units


def grantable_scopes(
    actor: User, role: Role, delegating: list[RoleGrant] | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The scopes the actor may grant ``role`` in, grouped by kind: ``[(kind label,
    [(choice, label), ...]), ...]`` with choices as ``scope_choice`` makes them."""
    delegating = delegating_grants(actor) if delegating is None else delegating
    mine = [grant for grant in delegating if grant.role.may_grant(role)]
    groups: dict[str, list[tuple[str, str]]] = {}
    for scope_type, unit in units_for(role):
        if not any(_delegation_covers(grant, unit) for grant in mine):
            continue
        label = "Whole institution" if unit is None else str(unit)
        groups.setdefault(ScopeType(scope_type).label, []).append((scope_choice(unit), label))
    return list(groups.items())


# --- grants of one user -------------------------------------------------------------------------


def current_grants(actor: User | None, user: User) -> QuerySet[RoleGrant]:
    """The user's grants in force or yet to begin (not revoked, not expired), for the Roles tab
    and GET /users/{id}/grants. The caller has looked the user up through the selectors."""
    now = timezone.now()
    return _with_relations(
        RoleGrant.objects.filter(user=user, revoked_at__isnull=True).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=now)
        )
    ).order_by("role__name", "id")


def get_grant(actor: User | None, user: User, grant_id: int) -> RoleGrant:
    """One current grant of ``user``; anything else (another user's, revoked, expired) is 404."""
    try:
        return current_grants(actor, user).get(pk=grant_id)
    except RoleGrant.DoesNotExist:
        raise NotFound("No such grant.", code="grant_not_found") from None


def get_grant_by_id(actor: User | None, grant_id: int) -> RoleGrant:
    """A current grant by its id alone, if its holder is a user the actor can see; else 404."""
    from patronage.accounts import selectors as accounts

    holder = (
        RoleGrant.objects.filter(pk=grant_id).values_list("user_id", flat=True).first()
        if 0 < grant_id < 2**63
        else None
    )
    if holder is None:
        raise NotFound("No such grant.", code="grant_not_found")
    try:
        user = accounts.get_user(actor, holder)
    except NotFound:
        raise NotFound("No such grant.", code="grant_not_found") from None
    return get_grant(actor, user, grant_id)


# --- role assignment rules (seed 002) ---------------------------------------------------------


def assignment_rules() -> QuerySet[RoleAssignmentRule]:
    return RoleAssignmentRule.objects.select_related("role").order_by("basis", "code", "role__name")


@dataclass
class Proposal:
    """A role a rule proposes for a user, and the rules (job category, user group) behind it."""

    role: Role
    because: list[RoleAssignmentRule] = field(default_factory=list)

    @property
    def reasons(self) -> str:
        return "; ".join(f"{r.get_basis_display()} {r.code}" for r in self.because)


def proposed_roles(user: User) -> list[Proposal]:
    """Roles the rules propose for a staff user by job category and user group that the user
    does not hold yet (in any scope). Proposals are applied by a person, never automatically:
    each still needs a scope and passes every rule of ``grant_role``."""
    if user.record_type != RecordType.STAFF or user.is_shared_desk_login:
        return []
    match = Q()
    if user.job_category:
        match |= Q(basis=AssignmentBasis.JOB_CATEGORY, code=user.job_category)
    if user.user_group:
        match |= Q(basis=AssignmentBasis.USER_GROUP, code=user.user_group)
    if not match:
        return []
    held = RoleGrant.objects.active().filter(user=user).values("role_id")
    rules = (
        RoleAssignmentRule.objects.filter(match, role__retired=False)
        .exclude(role_id__in=held)
        .select_related("role")
        .order_by("role__name", "basis")
    )
    proposals: dict[int, Proposal] = {}
    for rule in rules:
        proposals.setdefault(rule.role_id, Proposal(rule.role)).because.append(rule)
    return list(proposals.values())


# --- reports ------------------------------------------------------------------------------------


def get_role(code: str) -> Role:
    role = Role.objects.filter(code=code).first()
    if role is None:
        raise ValidationFailed({"role": f"'{code}' is not a role."}, code="unknown_role")
    return role


def roles_with(permission: str) -> list[Role]:
    """Roles that give ``permission`` (retired ones too: their grants still count)."""
    return [role for role in Role.objects.all() if permission in role.permissions]


def _held_grants() -> QuerySet[RoleGrant]:
    """Grants in force held by active users: what gives someone a permission right now."""
    return _with_relations(RoleGrant.objects.active().filter(user__status=UserStatus.ACTIVE))


def permission_holders(
    actor: User | None,
    *,
    permission: str = "",
    role: Role | None = None,
    library: Library | None = None,
) -> list[RoleGrant]:
    """Who holds a permission or a role, and where: one row per grant in force of an active
    user. With ``library``: grants in that library, its desks, departments and acquisitions
    units, and the institution-wide ones (which cover it too)."""
    if not permission and role is None:
        raise ValidationFailed({"permission": "Choose a permission or a role."})
    if permission and permission not in Permission.values:
        raise ValidationFailed(
            {"permission": f"'{permission}' is not a permission."}, code="unknown_permission"
        )
    grants = _held_grants()
    if permission:
        grants = grants.filter(role__in=roles_with(permission))
    if role is not None:
        grants = grants.filter(role=role)
    if library is not None:
        grants = grants.filter(
            Q(scope_type=ScopeType.INSTITUTION)
            | Q(library=library)
            | Q(circulation_desk__library=library)
            | Q(department__library=library)
            | Q(acquisitions_unit__library=library)
        )
    return list(grants.order_by("user__sort_name", "user_id", "role__name", "id"))


@dataclass
class Viewer:
    """A person who can reach a user record, with the grants that give each permission."""

    user: User
    grants: dict[str, list[RoleGrant]] = field(default_factory=dict)

    def by(self, permission: str) -> list[RoleGrant]:
        return self.grants.get(permission, [])

    @property
    def columns(self) -> list[list[RoleGrant]]:
        return [self.by(permission) for permission in SEEING_A_USER]


def who_can_see(actor: User | None, subject: User) -> list[Viewer]:
    """Every active user whose grants in force give one of ``SEEING_A_USER`` over ``subject``.

    User records carry no scope, so any grant of the permission reaches them (``checks``);
    expired, not-yet-valid and revoked grants and inactive holders do not count. The caller
    has looked ``subject`` up through the selectors (so it is within the actor's reach).
    """
    giving = {
        role.pk: [p for p in SEEING_A_USER if p in role.permissions]
        for role in Role.objects.all()
        if any(p in role.permissions for p in SEEING_A_USER)
    }
    grants = _held_grants().filter(role_id__in=list(giving))
    viewers: dict[int, Viewer] = {}
    for grant in grants.order_by("user__sort_name", "user_id", "role__name", "id"):
        viewer = viewers.setdefault(grant.user_id, Viewer(grant.user))
        for permission in giving[grant.role_id]:
            viewer.grants.setdefault(permission, []).append(grant)
    return list(viewers.values())
