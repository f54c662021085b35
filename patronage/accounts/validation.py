"""Turning raw input (form strings, JSON, CSV cells) into clean field values, or clear errors.

Every interface hands raw values to the actions; this module is where they are checked
against the code tables, the configured regular expressions and the mandatory-field rules,
so that the UI, the API, the CLI and imports refuse the same input with the same message.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from patronage.errors import ValidationFailed
from patronage.organization.models import Library

from .choices import AccountType, CodeTable, Gender, RecordType, UserStatus
from .models import CodeTableEntry, UserManagementSettings


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # text | code | codes | libraries | choice | date | bool | url
    label: str
    table: str = ""
    choices: tuple[str, ...] = ()
    max_length: int = 255


def _choices(enum: Any) -> tuple[str, ...]:
    return tuple(choice.value for choice in enum)


GENERAL_FIELDS: dict[str, FieldSpec] = {
    "primary_id": FieldSpec("text", "Primary identifier"),
    "record_type": FieldSpec("choice", "Record type", choices=_choices(RecordType)),
    "account_type": FieldSpec("choice", "Account type", choices=_choices(AccountType)),
    "external_id": FieldSpec("text", "External system", max_length=100),
    "first_name": FieldSpec("text", "First name"),
    "middle_name": FieldSpec("text", "Middle name"),
    "last_name": FieldSpec("text", "Last name"),
    "pref_first_name": FieldSpec("text", "Preferred first name"),
    "pref_middle_name": FieldSpec("text", "Preferred middle name"),
    "pref_last_name": FieldSpec("text", "Preferred last name"),
    "pref_name_suffix": FieldSpec("text", "Preferred name suffix", max_length=50),
    "user_title": FieldSpec("code", "Title", table=CodeTable.USER_TITLE),
    "gender": FieldSpec("choice", "Gender", choices=_choices(Gender)),
    "birth_date": FieldSpec("date", "Birth date"),
    "user_group": FieldSpec("code", "User group", table=CodeTable.USER_GROUP),
    "job_category": FieldSpec("code", "Job category", table=CodeTable.JOB_CATEGORY),
    "job_description": FieldSpec("text", "Job description", max_length=4000),
    "campus_code": FieldSpec("code", "Campus", table=CodeTable.CAMPUS),
    "preferred_language": FieldSpec("code", "Preferred language", table=CodeTable.LANGUAGE),
    "web_site_url": FieldSpec("url", "Web site", max_length=500),
    "cataloger_level": FieldSpec("code", "Cataloger level", table=CodeTable.CATALOGER_LEVEL),
    "library_notices": FieldSpec("codes", "Patron letters", table=CodeTable.PATRON_LETTER),
    "keep_loan_history": FieldSpec("bool", "Keep loan history (patron opted in)"),
    "rs_libraries": FieldSpec("libraries", "Resource-sharing libraries"),
    "purchase_request_libraries": FieldSpec("libraries", "Purchase-request libraries"),
    "status": FieldSpec("choice", "Status", choices=_choices(UserStatus)),
    "expiry_date": FieldSpec("date", "Expiry date"),
    "purge_date": FieldSpec("date", "Purge date"),
    "force_password_change": FieldSpec("bool", "Force password change on next login"),
    "mfa_enabled": FieldSpec("bool", "Multi-factor authentication"),
    # Only holders of USERS_EDIT_RESTRICTED may set or clear these (accounts.actions).
    "restricted_for_editing": FieldSpec("bool", "Restricted for editing"),
    "disable_login_restrictions": FieldSpec("bool", "Disable all login restrictions"),
}

FIELD_LABELS = {name: spec.label for name, spec in GENERAL_FIELDS.items()}


class Errors(dict[str, str]):
    """Field → message, keeping the first message per field."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationFailed(dict(self))


def parse_date(value: Any) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if text.endswith("Z"):  # Alma writes dates as 2026-05-31Z
        text = text[:-1]
    return datetime.date.fromisoformat(text)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


_tables_cache: ContextVar[dict[str, Any] | None] = ContextVar("tables_cache", default=None)


@contextmanager
def cached_tables() -> Iterator[None]:
    """Within a bulk job (an import, a bulk update), read each code table, the libraries and
    the user-management settings once instead of once per checked value. Changes made to
    them while the job runs are seen by its next job."""
    token = _tables_cache.set({})
    try:
        yield
    finally:
        _tables_cache.reset(token)


def _cached(key: str, load: Callable[[], Any]) -> Any:
    cache = _tables_cache.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]


def current_settings() -> UserManagementSettings:
    return _cached("settings", UserManagementSettings.current)  # type: ignore[no-any-return]


def code_entries(table: str) -> dict[str, CodeTableEntry]:
    return _cached(  # type: ignore[no-any-return]
        f"code:{table}",
        lambda: {e.code: e for e in CodeTableEntry.objects.filter(table=table, enabled=True)},
    )


def check_code(
    errors: Errors, field: str, label: str, table: str, code: str, record_type: str
) -> None:
    entry = code_entries(table).get(code)
    if entry is None:
        errors.add(field, f"{label}: '{code}' is not a known value.")
    elif not entry.allows(record_type):
        errors.add(
            field,
            f"{label}: '{entry.description}' is not available for "
            f"{RecordType(record_type).label} users.",
        )


def clean_general(raw: Mapping[str, Any], *, record_type: str, errors: Errors) -> dict[str, Any]:
    """Clean the general-tab fields present in ``raw``; unknown names are an error."""
    cleaned: dict[str, Any] = {}
    for name, value in raw.items():
        spec = GENERAL_FIELDS.get(name)
        if spec is None:
            errors.add(name, f"'{name}' is not a field of the user record.")
            continue
        try:
            cleaned[name] = _clean_value(name, spec, value, record_type, errors)
        except (ValueError, TypeError):
            errors.add(name, f"{spec.label}: '{value}' is not a valid date (use YYYY-MM-DD).")
    return cleaned


def _clean_value(name: str, spec: FieldSpec, value: Any, record_type: str, errors: Errors) -> Any:
    if spec.kind == "date":
        return parse_date(value)
    if spec.kind == "bool":
        return parse_bool(value)
    if spec.kind == "libraries":
        return _clean_libraries(name, spec, value, errors)
    if spec.kind == "codes":
        codes = [str(code).strip() for code in (value or []) if str(code).strip()]
        for code in codes:
            check_code(errors, name, spec.label, spec.table, code, record_type)
        return sorted(set(codes))
    text = "" if value is None else str(value).strip()
    if len(text) > spec.max_length:
        errors.add(name, f"{spec.label}: at most {spec.max_length} characters.")
    elif spec.kind == "choice" and text not in spec.choices:
        allowed = ", ".join(choice for choice in spec.choices if choice)
        errors.add(name, f"{spec.label}: '{text}' is not one of {allowed}.")
    elif spec.kind == "code" and text:
        check_code(errors, name, spec.label, spec.table, text, record_type)
    elif spec.kind == "url" and text:
        try:
            URLValidator(schemes=["http", "https"])(text)
        except ValidationError:
            errors.add(name, f"{spec.label}: '{text}' is not a valid http(s) address.")
    return text


def _clean_libraries(name: str, spec: FieldSpec, value: Any, errors: Errors) -> list[str]:
    """Library codes; resource-sharing libraries must be defined as such (seed 002)."""
    codes = sorted({str(code).strip() for code in (value or []) if str(code).strip()})
    known = _cached(
        f"libraries:{name}",
        lambda: set(
            Library.objects.filter(
                **({"is_resource_sharing": True} if name == "rs_libraries" else {})
            ).values_list("code", flat=True)
        ),
    )
    if unknown := sorted(set(codes) - known):
        kind = "resource-sharing library" if name == "rs_libraries" else "library"
        errors.add(name, f"{spec.label}: {', '.join(unknown)} is not a {kind}.")
    return codes


def check_record_rules(
    values: Mapping[str, Any], *, settings: UserManagementSettings, errors: Errors
) -> None:
    """Rules over the whole general tab: mandatory fields, ID format, date order."""
    record_type = values.get("record_type", "")
    for name in settings.mandatory_for(record_type):
        if values.get(name) in (None, "", []):
            errors.add(name, f"{FIELD_LABELS.get(name, name)} is mandatory.")
    primary_id = values.get("primary_id") or ""
    if primary_id and not re.fullmatch(settings.primary_identifier_regex, primary_id):
        errors.add(
            "primary_id",
            f"Primary identifier '{primary_id}' does not have the required format "
            f"({settings.primary_identifier_regex}).",
        )
    expiry, purge = values.get("expiry_date"), values.get("purge_date")
    if expiry and purge and purge < expiry:
        errors.add("purge_date", "Purge date cannot be before the expiry date.")


def check_pattern(errors: Errors, field: str, label: str, value: str, pattern: str) -> None:
    if value and not re.fullmatch(pattern, value):
        errors.add(field, f"{label}: '{value}' is not in a valid format.")


def check_types(
    errors: Errors, table: str, types: Iterable[str], record_type: str, label: str
) -> list[str]:
    codes = sorted({str(code).strip() for code in types if str(code).strip()})
    if not codes:
        errors.add("types", f"Choose at least one {label.lower()} type.")
    for code in codes:
        check_code(errors, "types", f"{label} type", table, code, record_type)
    return codes
