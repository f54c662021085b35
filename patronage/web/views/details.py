"""User Details (seed 002 "Editing Users"): the record and its tabs.

Tabs are plain links (``?tab=contact``) that htmx turns into partial swaps of
``#user-tabs``; every tab also renders as a full page. Library-owned entries are listed
through ``restrict`` so entries of libraries outside the actor's scope do not show.

Seed 000: staff who may not see patrons' details get one tab, the user's card
(``accounts.selectors.user_card`` decides; its detail selectors refuse them anyway).
Seed 002: Edit buttons are offered only where ``actions.may_change_user`` allows, so a user
restricted for editing shows none to staff who may not edit restricted users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.paginator import Paginator
from django.db.models import TextChoices
from django.http import HttpRequest, HttpResponse

from patronage.access.checks import can
from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import external, selectors
from patronage.accounts.actions import CONTACT_TEXT_FIELDS, RESTRICTED_FIELDS, may_change_user
from patronage.accounts.choices import (
    AccountType,
    CodeTable,
    Gender,
    RecordType,
    UserStatus,
)
from patronage.accounts.models import User, UserManagementSettings
from patronage.accounts.validation import FIELD_LABELS, GENERAL_FIELDS
from patronage.approvals.acknowledgements import acknowledgement_required
from patronage.audit.context import Channel
from patronage.audit.shredding import Opener
from patronage.privacy.reads import VIEWED, note_read, reads_patron_data

from ..common import domain_errors, render_page, staff
from ..options import (
    code_labels,
    code_labels_of,
    code_options,
    library_options,
    record_type_options,
)

TABS = (
    ("general", "General information"),
    ("contact", "Contact information"),
    ("identifiers", "Identifiers"),
    ("notes", "Notes"),
    ("blocks", "Blocks"),
    ("statistics", "Statistics"),
    ("attachments", "Attachments"),
    ("history", "History"),
)
NOT_FOR_CONTACTS = {"identifiers", "blocks"}
# The only tab of staff who see users' cards but not their details (seed 000).
CARD_TABS = (("card", "User card"),)
CONTACT_TABLES = {
    "address": CodeTable.ADDRESS_TYPE,
    "email": CodeTable.EMAIL_TYPE,
    "phone": CodeTable.PHONE_TYPE,
}
HISTORY_PAGE = 50
EXTRA_HISTORY_LABELS = {
    "address": "Address",
    "email": "Email",
    "phone": "Phone",
    "identifiers": "Identifiers",
    "notes": "Notes",
    "blocks": "Blocks",
    "statistics": "Statistics",
    "attachments": "Attachments",
    "password": "Password",
    "pin_number": "PIN number",
    "roles": "Roles",
}
# Code fields of the General tab and the code table each one shows the description of.
GENERAL_CODE_TABLES = {
    name: spec.table for name, spec in GENERAL_FIELDS.items() if spec.kind in ("code", "codes")
}
# Fields with fixed choices whose labels the History tab shows instead of the stored value.
HISTORY_CHOICES: dict[str, type[TextChoices]] = {
    "record_type": RecordType,
    "account_type": AccountType,
    "status": UserStatus,
    "gender": Gender,
}


# Account types whose password and PIN are managed here (not by an identity provider).
SIGN_IN_HERE = (AccountType.INTERNAL, AccountType.INTERNAL_EXTERNAL_AUTH)


def signs_in_here(user: User) -> bool:
    return user.account_type in SIGN_IN_HERE


def available_tabs(actor: User, user: User) -> list[tuple[str, str]]:
    if not selectors.may_see_details(actor):
        return list(CARD_TABS)
    tabs = []
    for key, label in TABS:
        if user.record_type == RecordType.CONTACT and key in NOT_FOR_CONTACTS:
            continue
        if key == "history" and not can(actor, Permission.USERS_VIEW_HISTORY):
            continue
        tabs.append((key, label))
    return tabs


def picture_url(user: User) -> str:
    return selectors.picture_url(user)


def general_values(user: User) -> dict[str, Any]:
    """The record as form values (strings, lists for multi-value fields)."""
    values: dict[str, Any] = {}
    for name, spec in GENERAL_FIELDS.items():
        value = getattr(user, name)
        if spec.kind == "date":
            values[name] = value.isoformat() if value else ""
        elif spec.kind == "bool":
            values[name] = "1" if value else ""
        elif spec.kind == "codes":
            values[name] = [str(v) for v in value or []]
        else:
            values[name] = "" if value is None else str(value)
    return values


def contact_values(entry: Any, kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(entry, name) for name in CONTACT_TEXT_FIELDS[kind]}
    values["types"] = list(entry.types)
    values["preferred"] = "1" if entry.preferred else ""
    if kind == "phone":
        values["preferred_sms"] = "1" if entry.preferred_sms else ""
    for name in ("start_date", "end_date"):
        date = getattr(entry, name)
        values[name] = date.isoformat() if date else ""
    return values


def _general(actor: User, user: User, ctx: dict[str, Any]) -> None:
    labels = {name: code_labels(table) for name, table in GENERAL_CODE_TABLES.items()}
    ctx["code_text"] = {
        name: (
            ", ".join(labels[name].get(c, c) for c in getattr(user, name))
            if GENERAL_FIELDS[name].kind == "codes"
            else labels[name].get(getattr(user, name), getattr(user, name))
        )
        for name in GENERAL_CODE_TABLES
    }
    ctx["picture_url"] = picture_url(user)
    ctx["may_edit"] = may_change_user(actor, user)
    ctx["may_edit_restricted"] = can(actor, Permission.USERS_EDIT_RESTRICTED)
    ctx["restricted_fields"] = RESTRICTED_FIELDS
    # An external user's SIS-owned fields: shown read-only, with why (seed 002).
    ctx["read_only"] = {name for name in GENERAL_FIELDS if external.is_read_only(user, name)}
    # Open for Update: per changed field, whether the next sync overrides it (seed 002).
    ctx["keep_on_sync_fields"] = (
        [
            (name, GENERAL_FIELDS[name].label)
            for name in external.ASK_ON_OPEN_FOR_UPDATE
            if name != "rs_libraries"  # not on the edit form (the API takes it)
        ]
        if user.account_type == AccountType.EXTERNAL and user.open_for_update
        else []
    )
    ctx["may_toggle_account_type"] = may_change_user(
        actor, user, Permission.USERS_CHANGE_ACCOUNT_TYPE
    )
    ctx["signs_in_here"] = signs_in_here(user)
    ctx.setdefault("values", general_values(user))
    record_type = ctx["values"].get("record_type") or user.record_type
    if record_type not in RecordType.values:
        record_type = user.record_type
    ctx["mandatory"] = set(UserManagementSettings.current().mandatory_for(record_type))
    ctx["options"] = {
        "record_type": record_type_options(),
        "account_type": [(str(v), str(label)) for v, label in AccountType.choices],
        "status": [(str(v), str(label)) for v, label in UserStatus.choices],
        "gender": [(str(v), str(label)) for v, label in Gender.choices if v],
        **{name: code_options(table, record_type) for name, table in GENERAL_CODE_TABLES.items()},
    }


def _contact(actor: User, user: User, ctx: dict[str, Any]) -> None:
    labels = {kind: code_labels(table) for kind, table in CONTACT_TABLES.items()}
    sections = []
    for kind, title in (
        ("address", "Addresses"),
        ("email", "Email addresses"),
        ("phone", "Phone numbers"),
    ):
        rows = [
            {
                "entry": entry,
                "key": f"{kind}-{entry.pk}",
                "values": contact_values(entry, kind),
                "type_text": ", ".join(labels[kind].get(t, t) for t in entry.types),
            }
            for entry in selectors.contact_entries(actor, user, kind)
        ]
        sections.append(
            {
                "kind": kind,
                "title": title,
                "rows": rows,
                "type_options": code_options(CONTACT_TABLES[kind], user.record_type),
            }
        )
    ctx["sections"] = sections
    ctx["may_edit"] = may_change_user(actor, user)


def _identifiers(actor: User, user: User, ctx: dict[str, Any]) -> None:
    ctx["identifiers"] = selectors.identifiers_of(actor, user)
    ctx["id_labels"] = code_labels(CodeTable.IDENTIFIER_TYPE) | {"PRIMARY": "Primary identifier"}
    ctx["id_type_options"] = code_options(CodeTable.IDENTIFIER_TYPE, user.record_type)
    ctx["may_edit"] = may_change_user(actor, user)


def _notes(actor: User, user: User, ctx: dict[str, Any]) -> None:
    ctx["notes"] = selectors.notes_of(actor, user).select_related("owner")
    ctx["note_labels"] = code_labels(CodeTable.NOTE_TYPE)
    ctx["note_type_options"] = code_options(CodeTable.NOTE_TYPE, user.record_type)
    ctx["library_options"] = library_options()
    ctx["may_edit"] = may_change_user(actor, user)


def _blocks(actor: User, user: User, ctx: dict[str, Any]) -> None:
    ctx["blocks"] = selectors.effective_blocks(actor, user)
    ctx["block_labels"] = code_labels(CodeTable.BLOCK_TYPE)
    ctx["block_type_options"] = code_options(CodeTable.BLOCK_TYPE, user.record_type)
    ctx["library_options"] = library_options()
    ctx["may_edit"] = may_change_user(actor, user, Permission.USERS_MANAGE_BLOCKS)


def _statistics(actor: User, user: User, ctx: dict[str, Any]) -> None:
    ctx["statistics"] = selectors.statistics_of(actor, user).select_related("owner")
    ctx["category_labels"] = code_labels(CodeTable.STATISTIC_CATEGORY)
    ctx["category_type_labels"] = code_labels(CodeTable.STATISTIC_CATEGORY_TYPE)
    ctx["category_options"] = code_options(CodeTable.STATISTIC_CATEGORY, user.record_type)
    ctx["category_type_options"] = code_options(CodeTable.STATISTIC_CATEGORY_TYPE, user.record_type)
    ctx["library_options"] = library_options()
    ctx["may_edit"] = may_change_user(actor, user)


def _attachments(actor: User, user: User, ctx: dict[str, Any]) -> None:
    ctx["attachments"] = selectors.attachments_of(actor, user)
    ctx["may_edit"] = may_change_user(actor, user, Permission.USERS_MANAGE_ATTACHMENTS)


def history_value_labels() -> dict[str, dict[str, str]]:
    """Field → {stored value → what people read}, for the code fields of the General tab.

    Code-table fields show the entry's description (disabled entries included); a code since
    deleted from its table has no description and is shown as stored. Fields with fixed
    choices (record type, account type, status, gender) show the choice's label.
    """
    by_table = code_labels_of(set(GENERAL_CODE_TABLES.values()))
    labels = {name: by_table.get(table, {}) for name, table in GENERAL_CODE_TABLES.items()}
    for name, choices in HISTORY_CHOICES.items():
        labels[name] = {str(value): str(label) for value, label in choices.choices if value}
    return labels


def _history(actor: User, user: User, ctx: dict[str, Any], page: str | None = None) -> None:
    events = Paginator(selectors.user_history(actor, user), HISTORY_PAGE).get_page(page)
    labels = {**FIELD_LABELS, **EXTRA_HISTORY_LABELS}
    value_labels = history_value_labels()
    rows = []
    opener = Opener(events.object_list)
    for event in events.object_list:
        for change in opener.changes(event):
            name = str(change.get("field", ""))
            described = {} if change["erased"] else value_labels.get(name, {})
            rows.append(
                {
                    "event": event,
                    "field": labels.get(name, name.replace("_", " ").capitalize()),
                    "old": _shown(change.get("old"), described),
                    "new": _shown(change.get("new"), described),
                }
            )
    ctx["history_page"] = events
    ctx["channel_labels"] = dict(Channel.choices)
    ctx["history_rows"] = rows


def _shown(value: Any, described: Mapping[str, str] | None = None) -> str:
    """A recorded value as text; codes as their description when ``described`` has one."""
    described = described or {}
    if value is None or value == "":
        return ""
    if isinstance(value, list):
        return ", ".join(described.get(str(v), str(v)) for v in value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return described.get(str(value), str(value))


def _card(actor: User, user: User, ctx: dict[str, Any]) -> None:
    ctx["card"] = selectors.user_card(actor, user)
    ctx["group_text"] = code_labels(CodeTable.USER_GROUP).get(user.user_group, user.user_group)


TAB_BUILDERS = {
    "card": _card,
    "general": _general,
    "contact": _contact,
    "identifiers": _identifiers,
    "notes": _notes,
    "blocks": _blocks,
    "statistics": _statistics,
    "attachments": _attachments,
}


def render_details(
    request: HttpRequest,
    user: User,
    tab: str,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The details page, or only its tabs when htmx asks for ``#user-tabs``."""
    actor = staff(request)
    tabs = available_tabs(actor, user)
    if tab not in dict(tabs):
        tab = tabs[0][0]
    note_read(request, tab=tab)  # on a marked route: which tab the read event was for
    ctx: dict[str, Any] = {
        "nav": "users",
        "subject": user,
        "card_only": not selectors.may_see_details(actor),
        "acknowledgement_required": acknowledgement_required(actor),
        "tabs": tabs,
        "tab": tab,
        "errors": {},
        "editing": request.GET.get("edit", ""),
        **extra,
    }
    if tab == "history":
        _history(actor, user, ctx, request.GET.get("page"))
    else:
        TAB_BUILDERS[tab](actor, user, ctx)
    return render_page(
        request, "web/users/detail.html", "web/users/_tabs.html", "user-tabs", ctx, status
    )


@requires(Permission.USERS_VIEW)
@reads_patron_data(VIEWED)
@domain_errors
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = selectors.get_user(staff(request), pk)
    return render_details(request, user, request.GET.get("tab", "general"))
