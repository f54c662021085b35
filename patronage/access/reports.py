"""The access reports as tables (a header and rows of text), one shape for the staff UI's CSV
downloads and the API's ``?format=csv``, so both export exactly the same columns.

The queries are in ``selectors``; this module only lays their results out.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from django.utils import timezone

from patronage.accounts.models import User

from .models import LoginModel, RoleGrant, ScopeType
from .permissions import Permission
from .selectors import SEEING_A_USER, Viewer

Table = tuple[list[str], list[list[str]]]

GRANT_COLUMNS = [
    "Role code",
    "Role",
    "Scope type",
    "Scope",
    "Valid from",
    "Valid until",
    "Granted by",
    "Granted at",
    "Note",
]
# Spreadsheets run a cell that begins like a formula; names and notes are typed by people.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _when(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def login_model_label(user: User) -> str:
    if user.login_model in LoginModel.values:
        return str(LoginModel(user.login_model).label)
    return user.login_model


def grant_cells(grant: RoleGrant) -> list[str]:
    return [
        grant.role.code,
        grant.role.name,
        ScopeType(grant.scope_type).label,
        grant.scope_label,
        _when(grant.valid_from),
        _when(grant.valid_until),
        grant.granted_by.primary_id if grant.granted_by else "",
        _when(grant.granted_at),
        grant.note,
    ]


def user_roles_table(user: User, grants: Iterable[RoleGrant]) -> Table:
    """Seed 003: "an output of your roles for review" — each grant and what it gives."""
    header = ["Primary ID", "Name", "Login model", *GRANT_COLUMNS, "Permissions"]
    login = login_model_label(user)
    rows = [
        [
            user.primary_id,
            user.display_name,
            login,
            *grant_cells(grant),
            " ".join(sorted(grant.role.permissions)),
        ]
        for grant in grants
    ]
    return header, rows


def holders_table(grants: Iterable[RoleGrant]) -> Table:
    header = ["Primary ID", "Name", "Job category", *GRANT_COLUMNS]
    rows = [
        [
            grant.user.primary_id,
            grant.user.display_name,
            grant.user.job_category,
            *grant_cells(grant),
        ]
        for grant in grants
    ]
    return header, rows


def grants_text(grants: Sequence[RoleGrant]) -> str:
    return "; ".join(f"{grant.role.name} @ {grant.scope_label}" for grant in grants)


def who_can_see_table(viewers: Iterable[Viewer]) -> Table:
    header = [
        "Primary ID",
        "Name",
        "Job category",
        *(Permission(p).label for p in SEEING_A_USER),
    ]
    rows = [
        [
            viewer.user.primary_id,
            viewer.user.display_name,
            viewer.user.job_category,
            *(grants_text(grants) for grants in viewer.columns),
        ]
        for viewer in viewers
    ]
    return header, rows


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_text(table: Table) -> str:
    header, rows = table
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def csv_filename(*parts: str) -> str:
    stem = "-".join(re.sub(r"[^A-Za-z0-9._-]+", "_", part).strip("_") for part in parts if part)
    return f"{stem or 'report'}-{timezone.localdate():%Y%m%d}.csv"


def csv_response(table: Table, filename: str) -> HttpResponse:
    """The table as a CSV download (UTF-8 with a byte-order mark, so spreadsheets read it)."""
    response = HttpResponse(
        "\ufeff" + csv_text(table), content_type="text/csv; charset=utf-8", status=200
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
