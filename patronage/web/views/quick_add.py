"""Quick User Management (seed 002 "Adding Users"): the form that adds a user.

The form posts raw values to ``accounts.actions.create_user``, which validates them with
the same rules as the API and imports; its field errors are shown next to the fields.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import actions
from patronage.accounts.choices import CodeTable, RecordType
from patronage.accounts.models import UserManagementSettings
from patronage.errors import ConfirmationRequired, ValidationFailed

from ..common import INVALID, actor, domain_errors, post_values
from ..options import code_options, group_and_category_options, record_type_options

# The general fields this form offers (names as in accounts.validation.GENERAL_FIELDS).
FORM_FIELDS = (
    "record_type",
    "first_name",
    "middle_name",
    "last_name",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
    "primary_id",
    "user_title",
    "job_category",
    "job_description",
    "user_group",
    "campus_code",
    "preferred_language",
    "birth_date",
    "expiry_date",
    "purge_date",
    "force_password_change",
)
# Errors of the first email / identifier come back under the entry's own field names.
ERROR_FIELDS = {
    "address": "email_address",
    "types": "email_type",
    "value": "identifier_value",
    "id_type": "identifier_type",
    "pin_number": "pin",
}
SHOWN_FIELDS = {
    *FORM_FIELDS,
    "pin",
    "password",
    "password_verify",
    "email_type",
    "email_address",
    "identifier_type",
    "identifier_value",
}
DEFAULT_RECORD_TYPE = RecordType.PUBLIC


def _record_type(value: Any) -> str:
    return value if value in RecordType.values else DEFAULT_RECORD_TYPE


def _context(values: dict[str, Any], errors: dict[str, str], **extra: Any) -> dict[str, Any]:
    record_type = _record_type(values.get("record_type"))
    config = UserManagementSettings.current()
    unplaced = {k: v for k, v in errors.items() if k not in SHOWN_FIELDS}
    return {
        "nav": "add",
        "values": values,
        "errors": errors,
        "unplaced_errors": unplaced,
        "mandatory": set(config.mandatory_for(record_type)),
        "record_type": record_type,
        "record_type_options": record_type_options(),
        "title_options": code_options(CodeTable.USER_TITLE, record_type),
        "campus_options": code_options(CodeTable.CAMPUS, record_type),
        "language_options": code_options(CodeTable.LANGUAGE, record_type),
        "email_type_options": code_options(CodeTable.EMAIL_TYPE, record_type),
        "identifier_type_options": code_options(CodeTable.IDENTIFIER_TYPE, record_type),
        **group_and_category_options(record_type),
        **extra,
    }


def _form(request: HttpRequest, values: dict[str, Any], errors: dict[str, str], **extra: Any):
    status = INVALID if errors else 200
    return render(request, "web/users/add.html", _context(values, errors, **extra), status=status)


@requires(Permission.USERS_CREATE)
@domain_errors
def user_add(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form(request, {"record_type": DEFAULT_RECORD_TYPE}, {})
    values = post_values(request)
    values["record_type"] = _record_type(values.get("record_type"))
    step = request.POST.get("action", "")
    if step == "generate_pin":
        values["pin"] = actions.generate_pin()
        return _form(request, values, {})
    if step == "refresh":
        return _form(request, values, {})
    return _save(request, values)


def _save(request: HttpRequest, values: dict[str, Any]) -> HttpResponse:
    then = values.get("then") or values.get("then_previous") or "search"
    password = values.get("password", "")
    if password != values.get("password_verify", ""):
        return _form(request, values, {"password_verify": "The two passwords are not the same."})
    fields = {name: values.get(name, "") for name in FORM_FIELDS}
    emails = []
    if values.get("email_address") or values.get("email_type"):
        emails.append(
            {
                "address": values.get("email_address", ""),
                "types": [values["email_type"]] if values.get("email_type") else [],
                "preferred": True,
            }
        )
    identifiers = []
    if values.get("identifier_value") or values.get("identifier_type"):
        identifiers.append(
            {"id_type": values.get("identifier_type", ""), "value": values["identifier_value"]}
        )
    try:
        user = actions.create_user(
            actor=actor(request),
            fields=fields,
            emails=emails,
            identifiers=identifiers,
            password=password,
            pin=values.get("pin", ""),
            confirm_duplicate=values.get("confirm_duplicate") == "1",
        )
    except ValidationFailed as exc:
        errors = {ERROR_FIELDS.get(k, k): v for k, v in exc.errors.items()}
        return _form(request, values, errors)
    except ConfirmationRequired as exc:
        return _form(
            request, values, {}, duplicate_warning=exc.message, then=then, keep_secrets=True
        )
    messages.success(request, f"{user.display_name} ({user.primary_id}) was added.")
    if then == "details":
        return redirect("web:user_detail", user.pk)
    return redirect(reverse("web:user_search") + "?" + urlencode({"q": user.primary_id}))


RECORD_TYPE_LISTS = ("user_group", "job_category", "email_type", "identifier_type")


@requires(Permission.USERS_CREATE)
def record_type_options_partial(request: HttpRequest) -> HttpResponse:
    """The lists that depend on the record type, for the chosen one (htmx): user group and
    job category in place, email and identifier types out of band."""
    values = {name: request.GET.get(name, "") for name in RECORD_TYPE_LISTS}
    values["record_type"] = _record_type(request.GET.get("record_type"))
    return render(request, "web/users/_record_type_options.html", _context(values, {}))


@requires(Permission.USERS_CREATE)
def pin_partial(request: HttpRequest) -> HttpResponse:
    """The PIN field filled with a freshly generated PIN (the Generate button, htmx)."""
    values = {"pin": actions.generate_pin()}
    return render(request, "web/users/_pin_field.html", {"values": values, "errors": {}})
