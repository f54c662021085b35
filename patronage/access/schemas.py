"""Pydantic schemas of the roles API (``access.api``)."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from patronage.api_support import MAX_ID, NO_NUL

from .models import LoginModel, ScopeType

Code = Annotated[str, Field(min_length=1, max_length=100), NO_NUL]
Text = Annotated[str, Field(max_length=2000), NO_NUL]
Reason = Annotated[str, Field(max_length=500), NO_NUL]
Format = Literal["json", "csv"]


class RoleOut(Schema):
    code: str
    name: str
    description: str
    role_type: str = Field(description="Seed 001 role type; empty for administrator roles")
    level: str = Field(description="OPERATOR, OPERATOR_EXTENDED or OPERATOR_EXTENDED_PLUS")
    permissions: list[str]
    scope_types: list[str] = Field(description="The kinds of scope a grant may name")
    department_kind: str
    is_admin: bool
    requires_mfa: bool
    business_need_for_students: bool
    login_model: str = Field(description="Set: the role comes with this login model only")
    grantable: list[str] = Field(description="Roles a holder may grant ('*': any)")
    retired: bool


class GrantOut(Schema):
    id: int
    user_id: int
    role: str = Field(description="The role's code")
    role_name: str
    scope_type: ScopeType
    scope_id: int | None = Field(description="The library, desk, department or unit; null: all")
    scope_name: str
    valid_from: datetime.datetime | None
    valid_until: datetime.datetime | None
    granted_at: datetime.datetime
    granted_by: str | None = Field(description="Primary ID of the granter; null: a process")
    note: str


class GrantIn(Schema):
    role: Code = Field(description="The role's code (GET /roles)")
    scope_type: ScopeType = ScopeType.INSTITUTION
    scope_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="Required unless scope_type is INSTITUTION"
    )
    valid_from: datetime.datetime | None = None
    valid_until: datetime.datetime | None = None
    note: Text = Field(default="", description="Business need (some roles of students)")
    reason: Reason = Field(default="", description="Why: recorded in the audit trail")


class LoginModelIn(Schema):
    login_model: LoginModel
    reason: Reason = ""


class LoginOut(Schema):
    user_id: int
    login_model: str
    shared_desk_id: int | None
    terminal: str
    grants: list[GrantOut]


class ProposalOut(Schema):
    role: str
    role_name: str
    scope_types: list[str]
    because: list[str] = Field(description="The rules proposing it, e.g. 'JOB_CATEGORY:CATALOGER'")


class HoldersQuery(Schema):
    permission: Annotated[str, Field(max_length=100), NO_NUL] = Field(
        default="", description="A permission value, e.g. users:patron:view_by_name"
    )
    role: Annotated[str, Field(max_length=100), NO_NUL] = Field(
        default="", description="A role code"
    )
    library: Annotated[str, Field(max_length=50), NO_NUL] = Field(
        default="", description="A library code: grants there and institution-wide ones"
    )
    format: Format = "json"


class HolderOut(Schema):
    user_id: int
    primary_id: str
    display_name: str
    job_category: str
    grant: GrantOut


class ViewerOut(Schema):
    user_id: int
    primary_id: str
    display_name: str
    job_category: str
    permissions: dict[str, list[GrantOut]] = Field(
        description="Permission → the grants in force that give it"
    )


class WhoCanSeeOut(Schema):
    user_id: int
    viewers: list[ViewerOut]
