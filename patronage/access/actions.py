"""Granting and revoking roles. The only code that writes RoleGrant."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from patronage.accounts.models import User
from patronage.audit.actions import record
from patronage.audit.context import Actor
from patronage.errors import ValidationFailed
from patronage.organization.models import AcquisitionsUnit, CirculationDesk, Department, Library

from .checks import forget, require
from .models import Role, RoleGrant, ScopeType
from .permissions import Permission

Unit = Library | CirculationDesk | Department | AcquisitionsUnit | None
SCOPE_FIELDS: dict[str, tuple[str, type]] = {
    ScopeType.LIBRARY: ("library", Library),
    ScopeType.CIRCULATION_DESK: ("circulation_desk", CirculationDesk),
    ScopeType.DEPARTMENT: ("department", Department),
    ScopeType.ACQUISITIONS_UNIT: ("acquisitions_unit", AcquisitionsUnit),
}


@transaction.atomic
def grant_role(
    *,
    actor: Actor,
    user: User,
    role: Role,
    scope: Unit = None,
    valid_until: datetime.datetime | None = None,
    reason: str = "",
) -> RoleGrant:
    """Give ``user`` the role within ``scope``, which must be of the kind the role requires."""
    require(actor, Permission.ROLES_GRANT)
    if actor.user is not None and actor.user.pk == user.pk:
        raise ValidationFailed({"user": "Nobody changes their own roles."}, code="self_grant")
    grant = RoleGrant(
        user=user,
        role=role,
        scope_type=role.scope_type,
        granted_by=actor.user,
        valid_until=valid_until,
    )
    if role.scope_type == ScopeType.INSTITUTION:
        if scope is not None:
            raise ValidationFailed(
                {"scope": f"{role.name} is granted for the whole institution."},
                code="scope_not_allowed",
            )
    else:
        field, model = SCOPE_FIELDS[role.scope_type]
        if not isinstance(scope, model):
            kind = ScopeType(role.scope_type).label.lower()
            raise ValidationFailed(
                {"scope": f"{role.name} must be limited to a {kind}."},
                code="scope_required",
            )
        setattr(grant, field, scope)
    grant.save()
    forget(user)
    record(
        actor=actor,
        verb="role.granted",
        obj=grant,
        subject=user,
        reason=reason,
        changes=[{"field": "roles", "old": None, "new": str(grant)}],
    )
    return grant


@transaction.atomic
def revoke_grant(*, actor: Actor, grant: RoleGrant, reason: str = "") -> None:
    require(actor, Permission.ROLES_GRANT)
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        return
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    forget(grant.user)
    record(
        actor=actor,
        verb="role.revoked",
        obj=grant,
        subject=grant.user,
        reason=reason,
        changes=[{"field": "roles", "old": str(grant), "new": None}],
    )
