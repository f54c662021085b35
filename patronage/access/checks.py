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

Decisions are cached twice. On the user instance, which Django loads anew for every
request. And per process, keyed by the user's ``grants_token``: every change of a user's
grants gives the row a new token (``access.actions.grants_changed``), and every request
reads the row afresh, so a change made by any process takes effect on the very next request
everywhere. A process entry also ends at the earliest ``valid_until`` of the grants it was
built from, so an expiring grant ends on time; and after ``AUTHZ_CACHE_SECONDS`` at most, so
what no grant write announces — a grant dated to start later, a desk moved to another
library, a role's permissions changed by an upgrade — is taken up within that time. Only
gaining power can wait for that; losing it never does.
"""

from __future__ import annotations

import datetime
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.conf import settings
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
    """What one user holds of one permission: everywhere, or a set of scope keys.

    Read-only once built: permissions given by the same grants share one instance.
    """

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


# The columns of a user's active grants, read as plain rows (model instances, four
# ``select_related`` rows a grant, cost more than the query): scope type, library, desk,
# desk's library, department, department's library, acquisitions unit, its library, the
# role's permissions, the grant's end.
_GRANT_COLUMNS = (
    "scope_type",
    "library_id",
    "circulation_desk_id",
    "circulation_desk__library_id",
    "department_id",
    "department__library_id",
    "acquisitions_unit_id",
    "acquisitions_unit__library_id",
    "role__permissions",
    "valid_until",
)


def _coverage_of(rows: list[tuple[Any, ...]]) -> dict[str, Coverage]:
    """Each permission's coverage: the union of the scopes of the grants that give it.

    Permissions given by exactly the same grants share one (read-only) ``Coverage``. The
    groups are split with set operations, one per group and grant, instead of a step per
    permission: a user's 60 permissions typically form a handful of groups, so a cold load
    allocates a few objects, not a set and an object per permission (the garbage
    collector's work had been half the cost of a cold load in bench/authz.py).
    """
    grant_keys: list[tuple[ScopeKey, ...] | None] = []
    groups: dict[int, set[str]] = {}  # bit mask of grants -> the permissions only they give
    seen: set[str] = set()
    for n, (
        scope_type,
        library,
        desk,
        desk_library,
        department,
        department_library,
        acq_unit,
        acq_library,
        stored,
        _valid_until,
    ) in enumerate(rows):
        if scope_type == ScopeType.INSTITUTION:
            grant_keys.append(None)
        elif scope_type == ScopeType.LIBRARY:
            grant_keys.append(((ScopeType.LIBRARY, library), (IN_LIBRARY, library)))
        elif desk is not None:
            grant_keys.append(((scope_type, desk), (IN_LIBRARY, desk_library)))
        elif department is not None:
            grant_keys.append(((scope_type, department), (IN_LIBRARY, department_library)))
        else:
            grant_keys.append(((scope_type, acq_unit), (IN_LIBRARY, acq_library)))
        permissions = frozenset(stored)
        bit = 1 << n
        # No mask in ``groups`` has this grant's bit yet, so ``mask | bit`` is a new group.
        for mask, group in list(groups.items()):
            both = group & permissions
            if both:
                group -= both
                groups[mask | bit] = both
                if not group:
                    del groups[mask]
        if new := permissions - seen:
            groups[bit] = set(new)
            seen |= new
    table: dict[str, Coverage] = {}
    for mask, group in groups.items():
        coverage = Coverage()
        for n, keys in enumerate(grant_keys):
            if mask >> n & 1:
                if keys is None:
                    coverage.everywhere = True
                else:
                    coverage.keys.update(keys)
        table.update(dict.fromkeys(group, coverage))
    return table


class _ProcessCache:
    """Coverage tables by user: (grants token, expiry as a Unix time, table).

    Bounded: when full, the oldest entry goes. Tables are read-only once built, so threads
    share them; writes take a lock so that eviction never races.
    """

    SIZE = 10_000

    def __init__(self) -> None:
        self._entries: dict[int, tuple[int, float, dict[str, Coverage]]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: int, token: int) -> dict[str, Coverage] | None:
        entry = self._entries.get(user_id)
        if entry is None or entry[0] != token or entry[1] <= time.time():
            return None
        if settings.AUTHZ_CACHE_SECONDS <= 0:  # switched off since the entry was made
            return None
        return entry[2]

    def put(
        self, user_id: int, token: int, table: dict[str, Coverage], ends: list[datetime.datetime]
    ) -> None:
        lifetime = settings.AUTHZ_CACHE_SECONDS
        if lifetime <= 0:
            return
        expires = min([time.time() + lifetime, *(end.timestamp() for end in ends)])
        with self._lock:
            if user_id not in self._entries and len(self._entries) >= self.SIZE:
                self._entries.pop(next(iter(self._entries)))
            self._entries[user_id] = (token, expires, table)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_PROCESS_CACHE = _ProcessCache()


def _load_coverage(user: User) -> dict[str, Coverage]:
    table = _PROCESS_CACHE.get(user.pk, user.grants_token)
    if table is None:
        rows = list(
            RoleGrant.objects.active()
            .filter(user_id=user.pk)
            .order_by()
            .values_list(*_GRANT_COLUMNS)
        )
        table = _coverage_of(rows)
        ends = [row[-1] for row in rows if row[-1] is not None]
        _PROCESS_CACHE.put(user.pk, user.grants_token, table, ends)
    return table


def clear_process_cache() -> None:
    """Forget every cached table of this process (tests, and the benchmark's cold runs)."""
    _PROCESS_CACHE.clear()


def coverage_by_permission(user: User) -> dict[str, Coverage]:
    cached: dict[str, Coverage] | None = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    table: dict[str, Coverage] = {}
    if user.pk is not None and user.is_active:
        table = _load_coverage(user)
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


def reaches_everywhere(user: User | None, permission: Permission) -> bool:
    """Whether ``restrict`` leaves every queryset whole for ``user`` and ``permission``
    (an institution-wide grant of it), so a caller may skip building one to find out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    coverage = coverage_by_permission(user).get(permission)
    return coverage is not None and coverage.everywhere


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
