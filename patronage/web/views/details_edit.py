"""The writes of the User Details page: each handler calls exactly one action.

On success: an htmx request gets the refreshed tabs, a plain form post is redirected back
to its tab (post/redirect/get). On a validation error the tab is shown again with the
submitted values and each message beside its field, status 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from patronage.access.checks import can
from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import actions, external, selectors
from patronage.accounts.choices import CodeTable, RecordType
from patronage.accounts.models import User, UserManagementSettings
from patronage.accounts.validation import GENERAL_FIELDS
from patronage.errors import ValidationFailed
from patronage.privacy.reads import VIEWED, note_read, reads_patron_data

from ..common import INVALID, actor, domain_errors, is_partial, post_values, staff
from ..options import code_options
from .details import general_values, render_details, signs_in_here

# General-tab fields the edit form offers (status date and audit stamps are read-only).
EDITABLE = (
    "record_type",
    "account_type",
    "primary_id",
    "user_title",
    "first_name",
    "middle_name",
    "last_name",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
    "pref_name_suffix",
    "gender",
    "birth_date",
    "user_group",
    "job_category",
    "job_description",
    "campus_code",
    "preferred_language",
    "web_site_url",
    "cataloger_level",
    "library_notices",
    "keep_loan_history",
    "status",
    "expiry_date",
    "purge_date",
    "force_password_change",
)
# Offered (and compared) only to staff allowed to edit restricted users (seed 002).
EDITABLE_IF_RESTRICTED_ALLOWED = ("restricted_for_editing", "disable_login_restrictions")
MULTI = ("library_notices", "types", "keep_on_sync")


def _done(request: HttpRequest, user: User, tab: str, message: str) -> HttpResponse:
    if is_partial(request, "user-tabs"):
        return render_details(request, user, tab, flash=message)
    messages.success(request, message)
    return redirect(reverse("web:user_detail", args=[user.pk]) + f"?tab={tab}")


def _failed(
    request: HttpRequest, user: User, tab: str, form: str, exc: ValidationFailed, **extra: Any
) -> HttpResponse:
    """Show the tab again with the form ``form`` open, its input kept and its errors."""
    return render_details(
        request,
        user,
        tab,
        status=INVALID,
        editing=form,
        form_values=post_values(request, MULTI),
        form_errors=exc.errors,
        **extra,
    )


def editable_fields(editor: User) -> tuple[str, ...]:
    """The fields the edit form offers ``editor``: the restriction flags only to those who may
    set them, so a form without them never reads as "clear them"."""
    if can(editor, Permission.USERS_EDIT_RESTRICTED):
        return (*EDITABLE, *EDITABLE_IF_RESTRICTED_ALLOWED)
    return EDITABLE


def changed_fields(
    user: User, submitted: dict[str, Any], editable: tuple[str, ...] = EDITABLE
) -> dict[str, Any]:
    """Only what the person changed, so untouched fields are neither re-validated nor audited."""
    current = general_values(user)
    changes: dict[str, Any] = {}
    for name in editable:
        spec = GENERAL_FIELDS[name]
        if spec.kind == "codes":
            value: Any = sorted(v for v in submitted.get(name) or [] if v)
            if value != sorted(current[name]):
                changes[name] = value
        elif spec.kind == "bool":
            value = "1" if submitted.get(name) else ""
            if value != current[name]:
                changes[name] = value
        else:
            value = str(submitted.get(name, "")).strip()
            if value != current[name]:
                changes[name] = value
    return changes


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    submitted = post_values(request, MULTI)
    editable = tuple(
        name for name in editable_fields(staff(request)) if not external.is_read_only(user, name)
    )
    changes = changed_fields(user, submitted, editable)
    if not changes:
        return _done(request, user, "general", "Nothing was changed.")
    try:
        user = actions.update_user(
            actor=actor(request),
            user=user,
            fields=changes,
            keep_on_sync=request.POST.getlist("keep_on_sync"),
        )
    except ValidationFailed as exc:
        values = {**general_values(user), **submitted}
        return render_details(
            request,
            user,
            "general",
            status=INVALID,
            editing="general",
            values=values,
            errors=exc.errors,
        )
    return _done(request, user, "general", "The general information was saved.")


@requires(Permission.USERS_EDIT)
@require_GET
@domain_errors
def general_options_partial(request: HttpRequest, pk: int) -> HttpResponse:
    """The edit form's user group and job category lists for the chosen record type (htmx)."""
    user = selectors.get_user(staff(request), pk)
    record_type = request.GET.get("record_type", "")
    if record_type not in RecordType.values:
        record_type = user.record_type
    context = {
        "values": {name: request.GET.get(name, "") for name in ("user_group", "job_category")},
        "mandatory": set(UserManagementSettings.current().mandatory_for(record_type)),
        "options": {
            "user_group": code_options(CodeTable.USER_GROUP, record_type),
            "job_category": code_options(CodeTable.JOB_CATEGORY, record_type),
        },
    }
    return render(request, "web/users/_general_group_fields.html", context)


# --- sign-in: password and PIN --------------------------------------------------------------
# Offered on the General tab for internal accounts only: external users sign in through the
# institution's identity provider. Neither a password nor a refused PIN is ever sent back.

EXTERNAL_SIGN_IN = (
    "External users sign in through the institution's identity provider; "
    "their password and PIN are not set here."
)


def _sign_in_failed(
    request: HttpRequest, user: User, form: str, errors: dict[str, str]
) -> HttpResponse:
    return render_details(
        request,
        user,
        "general",
        status=INVALID,
        editing=form,
        form_values={"force_change": request.POST.get("force_change", "")},
        form_errors=errors,
    )


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def password_set(request: HttpRequest, pk: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    password = request.POST.get("password", "")
    if not password:
        return _sign_in_failed(request, user, "password", {"password": "Enter the new password."})
    if password != request.POST.get("password_verify", ""):
        mismatch = {"password_verify": "The two passwords are not the same."}
        return _sign_in_failed(request, user, "password", mismatch)
    try:
        actions.set_password(
            actor=actor(request),
            user=user,
            password=password,
            force_change=bool(request.POST.get("force_change")),
        )
    except ValidationFailed as exc:
        return _sign_in_failed(request, user, "password", exc.errors)
    return _done(request, user, "general", "The password was changed.")


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def pin_set(request: HttpRequest, pk: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    if request.POST.get("action") == "generate_pin":  # the Generate button without JavaScript
        values = {"pin": actions.generate_pin()}
        return render_details(request, user, "general", editing="pin", form_values=values)
    if not signs_in_here(user) and not user.open_for_update:
        # set_pin itself accepts a PIN for any account (imports may bring one); the staff UI
        # offers sign-in details only where they are managed here, and the PIN of an
        # external user while it is open for update (seed 002).
        return _sign_in_failed(request, user, "pin", {"pin": EXTERNAL_SIGN_IN})
    try:
        actions.set_pin(
            actor=actor(request),
            user=user,
            pin=request.POST.get("pin", ""),
            keep_on_sync=bool(request.POST.get("keep_on_sync")),
        )
    except ValidationFailed as exc:
        errors = {"pin" if name == "pin_number" else name: m for name, m in exc.errors.items()}
        return _sign_in_failed(request, user, "pin", errors)
    return _done(request, user, "general", "The PIN was set.")


@requires(Permission.USERS_EDIT)
@require_GET
@domain_errors
def pin_generate(request: HttpRequest, pk: int) -> HttpResponse:
    """The PIN field of the user's PIN form, filled with a fresh PIN (Generate, htmx)."""
    user = selectors.get_user(staff(request), pk)
    context = {
        "values": {"pin": actions.generate_pin()},
        "errors": {},
        "field_prefix": "pin-",
        "pin_url": reverse("web:user_pin_generate", args=[user.pk]),
    }
    return render(request, "web/users/_pin_field.html", context)


# --- contact information ------------------------------------------------------------------


def _contact_data(request: HttpRequest, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        name: request.POST.get(name, "") for name in actions.CONTACT_TEXT_FIELDS[kind]
    }
    data["types"] = request.POST.getlist("types")
    data["preferred"] = bool(request.POST.get("preferred"))
    if kind == "address":
        data["start_date"] = request.POST.get("start_date", "")
        data["end_date"] = request.POST.get("end_date", "")
    if kind == "phone":
        data["preferred_sms"] = bool(request.POST.get("preferred_sms"))
    return data


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def contact_add(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    selectors.contact_entries(staff(request), user, kind)  # 404 for an unknown kind
    try:
        actions.add_contact(
            actor=actor(request), user=user, kind=kind, data=_contact_data(request, kind)
        )
    except ValidationFailed as exc:
        return _failed(request, user, "contact", f"{kind}-new", exc)
    return _done(request, user, "contact", f"The {kind} was added.")


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def contact_edit(request: HttpRequest, pk: int, kind: str, entry_id: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    entry = selectors.get_contact_entry(staff(request), user, kind, entry_id)
    try:
        actions.update_contact(actor=actor(request), entry=entry, data=_contact_data(request, kind))
    except ValidationFailed as exc:
        return _failed(request, user, "contact", f"{kind}-{entry_id}", exc)
    return _done(request, user, "contact", f"The {kind} was saved.")


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def contact_remove(request: HttpRequest, pk: int, kind: str, entry_id: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    entry = selectors.get_contact_entry(staff(request), user, kind, entry_id)
    actions.remove_contact(actor=actor(request), entry=entry)
    return _done(request, user, "contact", f"The {kind} was removed.")


# --- identifiers, notes, statistics, blocks ---------------------------------------------------


def _add(
    request: HttpRequest,
    pk: int,
    tab: str,
    what: str,
    call: Callable[..., Any],
    names: tuple[str, ...],
    flags: tuple[str, ...] = (),
) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    data: dict[str, Any] = {name: request.POST.get(name, "") for name in names}
    data.update({name: bool(request.POST.get(name)) for name in flags})
    try:
        call(actor=actor(request), user=user, **data)
    except ValidationFailed as exc:
        return _failed(request, user, tab, f"{tab}-new", exc)
    return _done(request, user, tab, f"The {what} was added.")


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def identifier_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _add(
        request,
        pk,
        "identifiers",
        "identifier",
        actions.add_identifier,
        ("id_type", "value", "note"),
    )


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def identifier_remove(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    entry = selectors.get_identifier(staff(request), user, entry_id)
    try:
        actions.remove_identifier(actor=actor(request), identifier=entry)
    except ValidationFailed as exc:
        return _failed(request, user, "identifiers", "identifiers-remove", exc)
    return _done(request, user, "identifiers", "The identifier was removed.")


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _add(
        request,
        pk,
        "notes",
        "note",
        actions.add_note,
        ("note_type", "text", "owner"),
        ("user_viewable", "popup"),
    )


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def note_remove(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    entry = selectors.get_note(staff(request), user, entry_id)
    actions.remove_note(actor=actor(request), note=entry)
    return _done(request, user, "notes", "The note was removed.")


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def statistic_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _add(
        request,
        pk,
        "statistics",
        "statistical category",
        actions.add_statistic,
        ("category", "category_type", "note", "owner"),
    )


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def statistic_remove(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    entry = selectors.get_statistic(staff(request), user, entry_id)
    actions.remove_statistic(actor=actor(request), statistic=entry)
    return _done(request, user, "statistics", "The statistical category was removed.")


@requires(Permission.USERS_MANAGE_BLOCKS)
@require_POST
@domain_errors
def block_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _add(
        request,
        pk,
        "blocks",
        "block",
        actions.add_block,
        ("block_type", "note", "expiry_date", "owner"),
    )


@requires(Permission.USERS_MANAGE_BLOCKS)
@require_POST
@domain_errors
def block_remove(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    entry = selectors.get_block(staff(request), user, entry_id)
    actions.remove_block(actor=actor(request), block=entry)
    return _done(request, user, "blocks", "The block was removed.")


# --- attachments --------------------------------------------------------------------------


@requires(Permission.USERS_MANAGE_ATTACHMENTS)
@require_POST
@domain_errors
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    upload = request.FILES.get("file")
    if upload is None:
        exc = ValidationFailed({"file": "Choose a file to attach."})
        return _failed(request, user, "attachments", "attachments-new", exc)
    try:
        actions.add_attachment(
            actor=actor(request), user=user, upload=upload, note=request.POST.get("note", "")
        )
    except ValidationFailed as exc:
        return _failed(request, user, "attachments", "attachments-new", exc)
    return _done(request, user, "attachments", f"{upload.name} was attached.")


@requires(Permission.USERS_VIEW_DETAILS)
@reads_patron_data(VIEWED)
@domain_errors
def attachment_download(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    """The file itself, only for staff who may see the details of the user it belongs to."""
    user = selectors.get_user(staff(request), pk)
    entry = selectors.get_attachment(staff(request), user, entry_id)
    note_read(request, attachment=entry.pk)
    try:
        handle = entry.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file is missing from storage.") from exc
    response = FileResponse(handle, as_attachment=True, filename=entry.name)
    response["Content-Type"] = entry.content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]  # a streaming response, served as is


@requires(Permission.USERS_MANAGE_ATTACHMENTS)
@require_POST
@domain_errors
def attachment_remove(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    entry = selectors.get_attachment(staff(request), user, entry_id)
    actions.remove_attachment(actor=actor(request), attachment=entry)
    return _done(request, user, "attachments", f"{entry.name} was removed.")
