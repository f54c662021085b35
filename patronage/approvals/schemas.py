"""Pydantic schemas of the access-governance API (``approvals.api``)."""

from __future__ import annotations

import datetime
from typing import Annotated

from ninja import Schema
from pydantic import Field

from patronage.access.models import LoginModel, ScopeType
from patronage.api_support import MAX_ID, NO_NUL

from .choices import Duty, FormVariant, LineAction, RequestKind, TrainingArea, UnitDuty

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Code = Annotated[str, Field(min_length=1, max_length=100), NO_NUL]
Text = Annotated[str, Field(max_length=4000), NO_NUL]
Reason = Annotated[str, Field(max_length=500), NO_NUL]


class LineIn(Schema):
    action: LineAction = LineAction.ADD
    role: Code | None = Field(default=None, description="For ADD: the role's code")
    scope_type: ScopeType = ScopeType.INSTITUTION
    scope_id: Id | None = Field(default=None, description="Required unless INSTITUTION")
    grant_id: Id | None = Field(default=None, description="For REMOVE: the grant to end")


class RequestIn(Schema):
    subject_id: Id = Field(description="The staff member the request is for")
    kind: RequestKind
    rationale: Text = Field(description="The work the staff member will do, and why")
    login_type: LoginModel = LoginModel.NONE
    lines: list[LineIn] = Field(default_factory=list, max_length=100)
    copy_from_id: Id | None = Field(
        default=None, description="'Same roles as colleague X': X's roles and scopes proposed"
    )
    on_behalf_of_id: Id | None = Field(
        default=None, description="For a login liaison: the staff manager filed for"
    )
    start_date: datetime.date | None = None
    end_date: datetime.date | None = Field(
        default=None, description="The grants end then (student employees)"
    )
    work_order_department_id: Id | None = None
    additional_role: Text = ""
    additional_role_agreed_by_id: Id | None = Field(
        default=None, description="The system administrator who agreed to the additional role"
    )
    business_need: Text = ""


class LineOut(Schema):
    id: int
    action: str
    role: str
    role_name: str
    scope_type: str
    scope_id: int | None
    scope_name: str
    grant_id: int | None
    decision: str
    training_area: str
    lead_decided_by: str | None
    lead_decided_at: datetime.datetime | None
    admin_approved_by: str | None
    admin_approved_at: datetime.datetime | None
    needs_administrator: bool
    comment: str
    sandbox_grant_id: int | None
    production_grant_id: int | None


class TrainingOut(Schema):
    area: str
    completed_on: datetime.date
    recorded_by: str | None


class RequestOut(Schema):
    id: int
    kind: str
    status: str
    status_label: str
    subject_id: int
    subject: str
    filed_by: str | None = Field(description="Primary ID; null once that record was deleted")
    filed_as: str
    on_behalf_of: str | None
    unit: str
    login_type: str
    rationale: str
    business_need: str
    start_date: datetime.date | None
    end_date: datetime.date | None
    short_notice: bool = Field(description="The start is less than two weeks after filing")
    work_order_department_id: int | None
    additional_role: str
    additional_role_agreed_by: str | None
    copied_from: str | None
    form_variant: str
    submitted_at: datetime.datetime
    due_at: datetime.datetime = Field(description="The processing-time target (business days)")
    overdue: bool
    signed_off_by: str | None
    signed_off_at: datetime.datetime | None
    privacy_form_version: int | None
    privacy_form_signed_at: datetime.datetime | None
    sandbox_granted_at: datetime.datetime | None
    training_required: list[str]
    training: list[TrainingOut]
    completed_at: datetime.datetime | None
    closed_reason: str
    lines: list[LineOut]


class TaskOut(Schema):
    step: str
    request: RequestOut


class DecisionIn(Schema):
    approve: bool
    training_area: TrainingArea | None = Field(
        default=None, description="For a role to add: the training recommended"
    )
    comment: Text = Field(default="", description="Required when not approving")


class AdministratorApprovalIn(Schema):
    approve: bool
    comment: Text = ""


class PrivacyFormOut(Schema):
    variant: str
    version: int
    title: str
    text: str


class SignatureIn(Schema):
    version: int = Field(ge=1, le=2**31 - 1, description="The version of the form that was read")


class SignatureOut(Schema):
    version: int
    variant: str
    signed_at: datetime.datetime


class TrainingIn(Schema):
    area: TrainingArea
    completed_on: datetime.date | None = None
    note: Text = ""


class WithdrawalIn(Schema):
    reason: Reason


class SeparationIn(Schema):
    user_id: Id
    separation_date: datetime.date
    source: Reason = ""


class SeparationOut(Schema):
    id: int
    user_id: int
    separation_date: datetime.date
    completed: bool


class RowOut(Schema):
    line: int
    primary_id: str
    ok: bool
    message: str


class SeparationFileOut(Schema):
    applied: int
    errors: int
    rows: list[RowOut]


class TransferIn(Schema):
    unit: Code = Field(description="The new unit's code")
    supervisor_id: Id | None = None
    reason: Reason = ""


class TransferGrantOut(Schema):
    id: int
    role: str
    scope_name: str
    environment: str


class TransferOut(Schema):
    removed: list[TransferGrantOut]
    review: list[TransferGrantOut] = Field(description="Grants kept, to be reviewed")


class PolicyOut(Schema):
    version: int
    title: str
    text: str
    published_at: datetime.datetime


class AcknowledgementStateOut(Schema):
    policy: PolicyOut | None
    acknowledged_until: datetime.datetime | None
    required: bool


class AcknowledgementIn(Schema):
    version: int = Field(ge=1, le=2**31 - 1)


class HolderOut(Schema):
    user_id: int
    primary_id: str
    name: str
    acknowledged_at: datetime.datetime | None
    lapses_at: datetime.datetime | None
    lapsed: bool


# --- the directory -------------------------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, max_length=255), NO_NUL]


class UnitIn(Schema):
    code: Code = Field(description="Unique; kept upper-case")
    name: Name
    library_id: Id | None = Field(
        default=None, description="Grants scoped within this library are the unit's own"
    )


class ContactIn(Schema):
    user_id: Id = Field(description="A staff member")
    duty: UnitDuty = Field(description="Login liaison or login approver of the unit")


class StewardIn(Schema):
    user_id: Id = Field(description="A staff member")
    duty: Duty
    role_type: Code | None = Field(
        default=None, description="For AREA_LEAD: the role type led (or ADMINISTRATION)"
    )


class PlacementIn(Schema):
    unit_id: Id
    supervisor_id: Id | None = None
    since: datetime.date | None = Field(default=None, description="Default: today")


class HolidayIn(Schema):
    date: datetime.date
    name: Name


class PersonOut(Schema):
    user_id: int
    primary_id: str
    name: str


class ContactOut(PersonOut):
    id: int
    duty: str


class UnitOut(Schema):
    id: int
    code: str
    name: str
    library_id: int | None
    library: str | None = Field(description="The library's code")
    contacts: list[ContactOut] = Field(description="Its login liaisons and login approvers")


class StewardOut(PersonOut):
    id: int
    duty: str
    role_type: str


class PlacementOut(PersonOut):
    unit_id: int
    unit: str = Field(description="The unit's code")
    supervisor: PersonOut | None
    since: datetime.date


class HolidayOut(Schema):
    id: int
    date: datetime.date
    name: str


class PublishedFormOut(PrivacyFormOut):
    published_at: datetime.datetime


class PrivacyFormIn(Schema):
    variant: FormVariant = Field(description="STAFF or STUDENT")
    title: Name
    text: Annotated[str, Field(min_length=1, max_length=20000), NO_NUL]


class PolicyIn(Schema):
    title: Name
    text: Annotated[str, Field(min_length=1, max_length=20000), NO_NUL]
