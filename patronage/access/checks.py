"""The one place that decides: ``can(actor, permission, obj)`` and ``restrict(queryset, ...)``.

Deny by default: no grant, no permission. A grant covers an object when the grant's unit
is one of the object's scope keys:

* a library-owned entry (note, block, statistic, fee) has the key ``("IN_LIBRARY", L)``;
  every grant whose unit lies in library L carries that key (library independence,
  seed 002: "only users whose role is scoped to this library will be able to see it");
* an object placed at a unit (a loan at a circulation desk) has the unit's key and its
  library's key, so an operator at desk A does not cover desk B's object;
* an object without scope keys (a user record) is covered by any grant of the permission;
* an institution-wide grant covers everything.

Decisions are cached on the user instance, which Django loads anew for every request, so
a change of grants takes effect on the very next request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.db import models

from patronage.audit.context import Actor
from patronage.errors import Forbidden, NotFound

from .models import RoleGrant, ScopeType
from .permissions import Permission

if TYPE_CHECKING:
    from patronage.accounts.models import User

ScopeKey = tuple[str, int]
IN_LIBRARY = "IN_LIBRARY"
_CACHE_ATTR = "_patronage_authz"
# Set by API-key authentication on the owner's instance: the permissions the key may use
# (a frozenset; None or absent: all the owner holds). Coverage keeps only those.
KEY_PERMISSIONS_ATTR = "_patronage_key_permissions"
M = TypeVar("M", bound=models.Model)


class Scoped(Protocol):
    def scope_keys(self) -> frozenset[ScopeKey] | None: ...


class Coverage:
    """What one user holds of one permission: everywhere, or a set of scope keys."""

    __slots__ = ("everywhere", "keys")

    def __init__(self) -> None:
        self.everywhere = False
        self.keys: set[ScopeKey] = set()

    def covers(self, object_keys: frozenset[ScopeKey] | None) -> bool:
        if self.everywhere or object_keys is None:
            return True
        return not self.keys.isdisjoint(object_keys)

    def libraries(self) -> set[int]:
        return {unit for kind, unit in self.keys if kind == IN_LIBRARY}


def grant_keys(grant: RoleGrant) -> set[ScopeKey]:
    if grant.scope_type == ScopeType.LIBRARY:
        assert grant.library_id is not None
        return {(ScopeType.LIBRARY, grant.library_id), (IN_LIBRARY, grant.library_id)}
    unit = grant.circulation_desk or grant.department or grant.acquisitions_unit
    assert unit is not None
    return {(grant.scope_type, unit.pk), (IN_LIBRARY, unit.library_id)}


def coverage_by_permission(user: User) -> dict[str, Coverage]:
    cached: dict[str, Coverage] | None = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    table: dict[str, Coverage] = {}
    if user.pk is not None and user.is_active:
        grants = (
            RoleGrant.objects.active()
            .filter(user=user)
            .select_related("role", "circulation_desk", "department", "acquisitions_unit")
        )
        for grant in grants:
            keys = None if grant.scope_type == ScopeType.INSTITUTION else grant_keys(grant)
            for permission in grant.role.permissions:
                coverage = table.setdefault(permission, Coverage())
                if keys is None:
                    coverage.everywhere = True
                else:
                    coverage.keys |= keys
    key_permissions = getattr(user, KEY_PERMISSIONS_ATTR, None)
    if key_permissions is not None:
        table = {p: c for p, c in table.items() if p in key_permissions}
    setattr(user, _CACHE_ATTR, table)
    return table


def forget(user: Any) -> None:
    """Drop the cached decisions of a user instance (after its grants changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def can(user: User | None, permission: Permission, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    coverage = coverage_by_permission(user).get(permission)
    if coverage is None:
        return False
    if obj is None:
        return True
    scope_keys = getattr(obj, "scope_keys", None)
    return coverage.covers(scope_keys() if scope_keys else None)


def permissions_of(user: User | None) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(coverage_by_permission(user))


def restrict(
    queryset: models.QuerySet[M], user: User | None, permission: Permission
) -> models.QuerySet[M]:
    """Narrow a queryset to what ``user`` may reach with ``permission``.

    Models with library-owned rows define ``restrict_to_libraries(queryset, library_ids)``.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return queryset.none()
    coverage = coverage_by_permission(user).get(permission)
    if coverage is None:
        return queryset.none()
    if coverage.everywhere:
        return queryset
    narrow = getattr(queryset.model, "restrict_to_libraries", None)
    if narrow is None:
        return queryset
    return narrow(queryset, coverage.libraries())


class RestrictedQuerySet(models.QuerySet[M]):
    def restrict(self, user: User | None, permission: Permission) -> RestrictedQuerySet[M]:
        return restrict(self, user, permission)  # type: ignore[return-value]


def require(actor: Actor, permission: Permission, obj: Any = None) -> None:
    """Refuse an action the actor may not do: 403 without the permission, 404 out of scope.

    An actor without a user is a trusted process (import job, system task, operator shell).
    """
    if actor.user is None:
        return
    if not can(actor.user, permission):
        raise Forbidden(
            f"You do not have the permission to do this ({Permission(permission).label}).",
            code="permission_denied",
        )
    if obj is not None and not can(actor.user, permission, obj):
        raise NotFound("Not found.")
