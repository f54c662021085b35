"""Configuration (seed 002): code tables and the user-management settings.

Code-table values are never deleted, only disabled (``save_code_entry``), because records
may still carry them.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import actions
from patronage.accounts.choices import CodeTable, RecordType
from patronage.accounts.models import UserManagementSettings
from patronage.accounts.validation import GENERAL_FIELDS
from patronage.errors import ValidationFailed

from ..common import INVALID, actor, domain_errors, post_values
from ..options import record_type_options, table_entries

TEXT_SETTINGS = (
    ("primary_identifier_regex", "Primary identifier format (regular expression)"),
    ("email_regex", "Email address format"),
    ("phone_regex", "Phone number format"),
    ("postal_code_regex", "Postal code format"),
    ("address_line_regex", "Address line format"),
    ("photo_server_url", "Picture server URL"),
    ("photo_identifier_type", "Picture file name: identifier type"),
    ("photo_suffix", "Picture file suffix"),
)
# Fields an administrator may make mandatory (first/last name and primary ID always are).
OPTIONAL_FIELDS = [
    (name, spec.label)
    for name, spec in GENERAL_FIELDS.items()
    if name not in ("first_name", "last_name", "primary_id", "record_type", "account_type")
    and spec.kind != "bool"
]
NEW_ENTRY = {"enabled": "1", "sort_order": "0"}
OPTIONAL_NAMES = {name for name, _ in OPTIONAL_FIELDS}


def _table(code: str) -> str:
    if code not in CodeTable.values:
        raise Http404("No such code table.")
    return code


def _code_tables_page(
    request: HttpRequest, table: str, status: int = 200, **extra: Any
) -> HttpResponse:
    editing = extra.pop("editing", request.GET.get("edit", ""))
    values = extra.pop("values", None)
    if values is None:
        entry = table_entries(table).filter(code=editing).first() if editing else None
        values = (
            {
                "code": entry.code,
                "original_code": entry.code,
                "description": entry.description,
                "record_types": entry.record_types,
                "enabled": "1" if entry.enabled else "",
                "sort_order": entry.sort_order,
            }
            if entry
            else NEW_ENTRY
        )
    context = {
        "nav": "code_tables",
        "tables": CodeTable.choices,
        "table": table,
        "table_label": CodeTable(table).label,
        "entries": table_entries(table),
        "record_type_options": record_type_options(),
        "editing": editing,
        "values": values,
        "new_defaults": NEW_ENTRY,
        "errors": {},
        **extra,
    }
    return render(request, "web/config/code_tables.html", context, status=status)


@requires(Permission.CONFIG_CODE_TABLES)
@domain_errors
def code_tables(request: HttpRequest) -> HttpResponse:
    table = request.GET.get("table") or CodeTable.USER_GROUP
    return _code_tables_page(request, _table(table))


@requires(Permission.CONFIG_CODE_TABLES)
@require_POST
@domain_errors
def code_entry_save(request: HttpRequest, table: str) -> HttpResponse:
    table = _table(table)
    values = post_values(request, ("record_types",))
    sort_order = str(values.get("sort_order") or "0").strip()
    if not re.fullmatch(r"\d{1,6}", sort_order):
        errors = {"sort_order": "The sort order is a whole number from 0 to 999999."}
        return _code_tables_page(
            request, table, INVALID, values=values, errors=errors, editing=_form_key(values)
        )
    try:
        entry = actions.save_code_entry(
            actor=actor(request),
            table=table,
            code=values.get("code", ""),
            description=values.get("description", ""),
            record_types=values.get("record_types") or [],
            enabled=bool(values.get("enabled")),
            sort_order=int(sort_order),
        )
    except ValidationFailed as exc:
        return _code_tables_page(
            request, table, INVALID, values=values, errors=exc.errors, editing=_form_key(values)
        )
    messages.success(request, f"{entry.description} ({entry.code}) was saved.")
    return redirect(reverse("web:code_tables") + f"?table={table}")


def _form_key(values: dict[str, Any]) -> str:
    return str(values.get("original_code") or "new")


def _settings_values(config: UserManagementSettings) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(config, name) for name, _ in TEXT_SETTINGS}
    for record_type in RecordType.values:
        values[f"mandatory_{record_type}"] = [
            name for name in config.mandatory_for(record_type) if name in OPTIONAL_NAMES
        ]
    return values


@requires(Permission.CONFIG_USER_SETTINGS)
@domain_errors
def user_settings(request: HttpRequest) -> HttpResponse:
    config = UserManagementSettings.current()
    if request.method != "POST":
        return _settings_page(request, _settings_values(config), {})
    submitted = post_values(request, tuple(f"mandatory_{rt}" for rt in RecordType.values))
    current = _settings_values(config)
    changes: dict[str, Any] = {}
    for name, _ in TEXT_SETTINGS:
        value = str(submitted.get(name, "")).strip()
        if value != current[name]:
            changes[name] = value
    mandatory = {
        rt: sorted(n for n in submitted.get(f"mandatory_{rt}") or [] if n)
        for rt in RecordType.values
    }
    if any(mandatory[rt] != current[f"mandatory_{rt}"] for rt in RecordType.values):
        changes["mandatory_fields"] = mandatory
    if not changes:
        messages.info(request, "Nothing was changed.")
        return redirect("web:user_settings")
    try:
        actions.update_settings(actor=actor(request), changes=changes)
    except ValidationFailed as exc:
        errors = dict(exc.errors)
        return _settings_page(request, {**current, **submitted}, errors, INVALID)
    messages.success(request, "The user-management settings were saved.")
    return redirect("web:user_settings")


def _settings_page(
    request: HttpRequest, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> HttpResponse:
    context = {
        "nav": "settings",
        "values": values,
        "errors": errors,
        "text_settings": TEXT_SETTINGS,
        "optional_fields": OPTIONAL_FIELDS,
        "record_types": RecordType.choices,
    }
    return render(request, "web/config/user_settings.html", context, status=status)
