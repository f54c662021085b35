"""Shapes of the SIS part of the native API."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import Field

from patronage.api_support import NO_NUL

Text = Annotated[str, Field(max_length=255), NO_NUL]


class ProfileIn(Schema):
    name: Text | None = None
    file_format: Annotated[str, Field(examples=["xml", "csv"])] | None = None
    csv_mapping: dict[Text, Text] | None = Field(
        default=None, examples=[{"Emplid": "primary_id", "Mail": "email:work"}]
    )
    csv_delimiter: Annotated[str, Field(max_length=1)] | None = None
    match_by: Annotated[str, Field(examples=["primary_id", "any_identifier"])] | None = None
    default_record_type: Annotated[str, Field(examples=["PUBLIC"])] | None = None
    override_fields: list[Text] | None = None
    full_sync: bool | None = None
    missing_action: Annotated[str, Field(examples=["nothing", "inactive", "expire"])] | None = None
    missing_expiry_days: Annotated[int, Field(ge=0, le=36500)] | None = None


class ProfileCreateIn(ProfileIn):
    code: Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


class ProfileOut(Schema):
    id: int
    code: str
    name: str
    file_format: str
    csv_mapping: dict[str, str]
    csv_delimiter: str
    match_by: str
    default_record_type: str
    override_fields: list[str]
    full_sync: bool
    missing_action: str
    missing_expiry_days: int
    updated_at: datetime.datetime


class RunOut(Schema):
    id: int
    job: str
    kind: str
    profile: str | None
    files: list[str]
    dry_run: bool
    status: str
    error: str
    started_by: str
    records_read: int
    records_done: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    deactivated: int
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


class ItemOut(Schema):
    record: int
    source: str
    line: int | None
    primary_id: str
    outcome: str
    user_id: int | None
    changes: list[dict[str, Any]]
    reason: str


class ItemPage(Schema):
    items: list[ItemOut]
    count: int
    page: int
    page_size: int
