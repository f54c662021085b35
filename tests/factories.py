"""Test data built through the actions, so tests exercise the same paths as the product."""

from __future__ import annotations

import itertools
from typing import Any

from patronage.access.actions import grant_role, set_login_model
from patronage.access.models import Role
from patronage.accounts.actions import create_user
from patronage.accounts.models import User
from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent
from patronage.audit.shredding import Opener
from patronage.organization.models import (
    AcquisitionsUnit,
    CirculationDesk,
    Department,
    DepartmentKind,
    Library,
)

SYSTEM = Actor.system(Channel.SYSTEM)
_serial = itertools.count(1)


def make_user(**fields: Any) -> User:
    n = next(_serial)
    defaults: dict[str, Any] = {
        "primary_id": f"user{n:05d}",
        "first_name": "Test",
        "last_name": f"Person{n}",
        "record_type": "PUBLIC",
        "user_group": "UNDERGRAD",
    }
    extra = {
        k: fields.pop(k)
        for k in ("identifiers", "emails", "phones", "addresses", "password")
        if k in fields
    }
    defaults.update(fields)
    if defaults["record_type"] == "STAFF" and defaults["user_group"] == "UNDERGRAD":
        defaults["user_group"] = "STAFF"
    return create_user(actor=SYSTEM, fields=defaults, confirm_duplicate=True, **extra)


def make_library(code: str = "MAIN", name: str = "Main Library") -> Library:
    return Library.objects.get_or_create(code=code, defaults={"name": name})[0]


def make_desk(library: Library, code: str = "DESK1", name: str = "Front desk") -> CirculationDesk:
    return CirculationDesk.objects.get_or_create(
        library=library, code=code, defaults={"name": name}
    )[0]


def make_department(
    library: Library, code: str = "TS1", kind: str = DepartmentKind.TECHNICAL_SERVICES
) -> Department:
    return Department.objects.get_or_create(
        library=library, code=code, defaults={"name": f"Department {code}", "kind": kind}
    )[0]


def make_staff(
    role_code: str | None = None, scope: Any = None, password: str = "", **fields: Any
) -> User:
    """A staff user, optionally holding one role (in ``scope`` when the role needs one)."""
    if password:
        fields["password"] = password
    user = make_user(record_type="STAFF", user_group="STAFF", **fields)
    if role_code:
        role = Role.objects.get(code=role_code)
        set_login_model(actor=SYSTEM, user=user, login_model="CUSTOM")
        if scope is None and "INSTITUTION" not in role.scope_types:
            scope = make_scope(role.scope_types[0], role.department_kind)
        grant_role(actor=SYSTEM, user=user, role=role, scope=scope)
    return User.objects.get(pk=user.pk)


def make_scope(scope_type: str, department_kind: str = "") -> Any:
    library = make_library()
    if scope_type == "LIBRARY":
        return library
    if scope_type == "CIRCULATION_DESK":
        return make_desk(library)
    if scope_type == "DEPARTMENT":
        kind = department_kind or DepartmentKind.TECHNICAL_SERVICES
        return make_department(library, code=kind[:10], kind=kind)
    return AcquisitionsUnit.objects.get_or_create(
        code="ACQ1", defaults={"library": library, "name": "Main acquisitions"}
    )[0]


def actor_for(user: User, channel: str = Channel.UI) -> Actor:
    return Actor(user=user, channel=channel)


def changes_of(event: AuditEvent) -> list[dict[str, Any]]:
    """An event's before/after values as the History tab reads them (unsealed)."""
    return [
        {name: value for name, value in change.items() if name != "erased"}
        for change in Opener([event]).changes(event)
    ]
