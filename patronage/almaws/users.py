"""The Alma user object ↔ our user record: reading through the selectors, writing through the
actions of ``accounts`` and ``access``. Nothing is decided here that those do not decide.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from patronage.access import actions as access_actions
from patronage.access.checks import can
from patronage.access.models import Role, RoleGrant, ScopeType
from patronage.access.permissions import Permission
from patronage.accounts import actions, selectors
from patronage.accounts.choices import (
    AccountType,
    CodeTable,
    Gender,
    RecordType,
    Segment,
    UserStatus,
)
from patronage.accounts.models import User, identifier_key
from patronage.accounts.prepared import PreparedRows
from patronage.accounts.validation import parse_date
from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent
from patronage.circulation.selectors import SPONSORS, balances, visible_loans
from patronage.organization.models import AcquisitionsUnit, CirculationDesk, Department, Library

from .errors import AlmaError, invalid_parameter

BASE_PATH = "/almaws/v1"
INSTITUTION = "INSTITUTION"
# Alma's role parameter types, and the kind of unit each names.
PARAMETER_UNITS: dict[str, tuple[str, Any]] = {
    "CirculationDesk": (ScopeType.CIRCULATION_DESK, CirculationDesk),
    "ServiceUnit": (ScopeType.DEPARTMENT, Department),
    "AcquisitionsUnit": (ScopeType.ACQUISITIONS_UNIT, AcquisitionsUnit),
}
# Fields Alma's PUT leaves alone when staff last changed them by hand, unless ``override``
# names them (alma-users-api.openapi.json, PUT /users/{user_id}).
OVERRIDABLE = (
    "user_group",
    "job_category",
    "pin_number",
    "preferred_language",
    "campus_code",
    "rs_libraries",
    "user_title",
    "library_notices",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
    "cataloger_level",
)
# General fields as the Alma object names them, with the code table of code fields.
CODE_FIELDS = {
    "user_title": CodeTable.USER_TITLE,
    "job_category": CodeTable.JOB_CATEGORY,
    "user_group": CodeTable.USER_GROUP,
    "campus_code": CodeTable.CAMPUS,
    "cataloger_level": CodeTable.CATALOGER_LEVEL,
    "preferred_language": CodeTable.LANGUAGE,
}
CHOICE_FIELDS = {
    "record_type": RecordType,
    "gender": Gender,
    "account_type": AccountType,
    "status": UserStatus,
}
TEXT_FIELDS = (
    "primary_id",
    "first_name",
    "middle_name",
    "last_name",
    "job_description",
    "web_site_url",
    "external_id",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
    "pref_name_suffix",
)
DATE_FIELDS = ("birth_date", "expiry_date", "purge_date")
# Kept when a PUT leaves them out: without them the record is not a record.
KEPT_WHEN_ABSENT = ("record_type", "account_type", "status", "primary_id")


def actor_of(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def alma_date(day: datetime.date | None) -> str | None:
    """Dates as Alma writes them: ``2026-05-31Z``."""
    return f"{day.isoformat()}Z" if day else None


def alma_datetime(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def user_link(request: HttpRequest, primary_id: str) -> str:
    return request.build_absolute_uri(f"{BASE_PATH}/users/{quote(primary_id, safe='')}")


class Descriptions:
    """Code-table descriptions for one answer (kept per process by the selectors)."""

    def __init__(self) -> None:
        self._by_table = selectors.code_descriptions.get()

    def __call__(self, table: str, value: str) -> dict[str, str]:
        return {"value": value, "desc": self._by_table.get(table, {}).get(value, "")}


def _choice(enum: Any, value: str) -> dict[str, str]:
    labels = dict(enum.choices)
    return {"value": value, "desc": str(labels.get(value, "")) if value else ""}


# --- reading ----------------------------------------------------------------------------------


def lookup(viewer: User | None, user_id: str, user_id_type: str) -> User:
    """The user a path names, as Alma finds them: any unique identifier by default
    (``all_unique``), or only identifiers of the given type; 401861 when none is visible."""
    user_id_type = user_id_type or "all_unique"
    if user_id_type == "all_unique":
        user = selectors.find_by_identifier(viewer, user_id)
    elif user_id_type in ("primary_id", "PRIMARY"):
        user = selectors.find_by_identifier(viewer, user_id, "PRIMARY")
    else:
        if user_id_type not in selectors.code_descriptions.get().get(CodeTable.IDENTIFIER_TYPE, {}):
            raise invalid_parameter(
                "user_id_type", user_id_type, "Use all_unique, primary_id or an identifier type."
            )
        user = selectors.find_by_identifier(viewer, user_id, user_id_type)
    if user is None:
        raise AlmaError("401861", f"User with identifier {user_id} was not found.")
    return user


def brief_object(request: HttpRequest, user: User, describe: Descriptions) -> dict[str, Any]:
    """A user in a list (Alma's brief user): names, group and the link to the record."""
    return {
        "primary_id": user.primary_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "full_name": user.display_name,
        "user_group": describe(CodeTable.USER_GROUP, user.user_group),
        "status": _choice(UserStatus, user.status),
        "expiry_date": alma_date(user.expiry_date),
        "link": user_link(request, user.primary_id),
    }


def user_object(
    request: HttpRequest,
    viewer: User | None,
    user: User,
    *,
    brief: bool = False,
    expand: Iterable[str] = (),
) -> dict[str, Any]:
    """The whole Alma user object as ``viewer`` may see it.

    Staff who may see only cards (seed 000) get the card's fields; the password and PIN are
    always empty, as Alma writes them.
    """
    describe = Descriptions()
    value: dict[str, Any] = {
        "record_type": _choice(RecordType, user.record_type),
        "primary_id": user.primary_id,
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "last_name": user.last_name,
        "full_name": user.display_name,
        "user_group": describe(CodeTable.USER_GROUP, user.user_group),
        "expiry_date": alma_date(user.expiry_date),
        "status": _choice(UserStatus, user.status),
        "link": user_link(request, user.primary_id),
    }
    if not selectors.may_see_details(viewer):
        return value
    value.update(
        {
            "pin_number": "",
            "job_description": user.job_description,
            "gender": _choice(Gender, user.gender),
            "web_site_url": user.web_site_url,
            "birth_date": alma_date(user.birth_date),
            "purge_date": alma_date(user.purge_date),
            "account_type": _choice(AccountType, user.account_type),
            "external_id": user.external_id,
            "password": "",
            "force_password_change": "TRUE" if user.force_password_change else "",
            "status_date": alma_date(user.status_date),
            "last_patron_activity_date": alma_date(user.last_patron_activity_date),
            **{name: describe(table, getattr(user, name)) for name, table in CODE_FIELDS.items()},
            **{name: getattr(user, name) for name in TEXT_FIELDS},
            "source_link_id": "",
            "source_institution_code": "",
            "linking_id": "",
            "is_researcher": False,
        }
    )
    # The lists beside the entries are read with them (one statement on PostgreSQL).
    also: list[tuple[Any, tuple[Any, ...]]] = []
    roles = not brief and can(viewer, Permission.ROLES_VIEW)
    if not brief:
        also += [(SPONSORS, (user.pk,)), (_RS_LIBRARIES, (user.pk,))]
    if roles:
        also.append((_ROLE_ROWS, (user.pk, timezone.now())))
    entries = selectors.record_entries(viewer, user, also)
    value["contact_info"] = _contact_info(entries, describe, emails_only=brief)
    value["user_identifier"] = _identifiers(entries, describe)
    value["user_statistic"] = _statistics(entries, describe)
    if brief:  # Alma's view=brief: core information, emails, identifiers and statistics
        return value
    sponsors, rs_libraries, *role_rows = entries.also
    value["user_block"] = _blocks(entries, describe)
    value["user_note"] = _notes(entries, describe)
    if roles:
        value["user_role"] = _roles(role_rows[0])
    value["proxy_for_user"] = [
        {
            "primary_id": sponsor.primary_id,
            "full_name": sponsor.display_name,
            "link": user_link(request, sponsor.primary_id),
        }
        for sponsor in sponsors
    ]
    value["rs_library"] = [{"code": {"value": code, "desc": name}} for code, name in rs_libraries]
    value["library_notice"] = [
        {"code": describe(CodeTable.PATRON_LETTER, letter), "value": True}
        for letter in user.library_notices
    ]
    value.update(_expansions(request, viewer, user, set(expand)))
    return value


def _expansions(
    request: HttpRequest, viewer: User | None, user: User, expand: set[str]
) -> dict[str, Any]:
    link = user_link(request, user.primary_id)
    out: dict[str, Any] = {}
    if "loans" in expand and can(viewer, Permission.FULFILLMENT_LOAN_VIEW):
        count = visible_loans(viewer, user).filter(returned_at__isnull=True).count()
        out["loans"] = {"value": count, "link": f"{link}/loans"}
    if "requests" in expand:
        out["requests"] = {"value": 0, "link": f"{link}/requests"}
    if "fees" in expand and can(viewer, Permission.FINES_VIEW):
        out["fees"] = {"value": float(balances(user).active), "link": f"{link}/fees"}
    return out


def _segment(entry: Any) -> str:
    return str(entry.segment_type)


def _contact_info(
    entries: selectors.RecordEntries, describe: Descriptions, *, emails_only: bool
) -> dict[str, Any]:
    emails = [
        {
            "email_address": email.address,
            "description": email.description,
            "email_type": [describe(CodeTable.EMAIL_TYPE, t) for t in email.types],
            "preferred": email.preferred,
            "segment_type": _segment(email),
        }
        for email in entries.emails
    ]
    if emails_only:
        return {"email": emails}
    return {
        "address": [
            {
                **{name: getattr(address, name) for name in ADDRESS_TEXT},
                "country": {"value": address.country, "desc": ""},
                "address_note": address.address_note,
                "start_date": alma_date(address.start_date),
                "end_date": alma_date(address.end_date),
                "address_type": [describe(CodeTable.ADDRESS_TYPE, t) for t in address.types],
                "preferred": address.preferred,
                "segment_type": _segment(address),
            }
            for address in entries.addresses
        ],
        "email": emails,
        "phone": [
            {
                "phone_number": phone.number,
                "phone_type": [describe(CodeTable.PHONE_TYPE, t) for t in phone.types],
                "preferred": phone.preferred,
                "preferred_sms": phone.preferred_sms,
                "segment_type": _segment(phone),
            }
            for phone in entries.phones
        ],
    }


ADDRESS_TEXT = ("line1", "line2", "line3", "line4", "line5", "city", "state_province")
ADDRESS_FIELDS = (*ADDRESS_TEXT, "postal_code")


def _identifiers(entries: selectors.RecordEntries, describe: Descriptions) -> list[dict[str, Any]]:
    return [
        {
            "id_type": describe(CodeTable.IDENTIFIER_TYPE, identifier.id_type),
            "value": identifier.value,
            "note": identifier.note,
            "status": "ACTIVE",
            "segment_type": _segment(identifier),
        }
        for identifier in entries.identifiers
        if not identifier.is_primary
    ]


def _statistics(entries: selectors.RecordEntries, describe: Descriptions) -> list[dict[str, Any]]:
    return [
        {
            "statistic_category": describe(CodeTable.STATISTIC_CATEGORY, statistic.category),
            "category_type": describe(CodeTable.STATISTIC_CATEGORY_TYPE, statistic.category_type),
            "statistic_note": statistic.note,
            "segment_type": _segment(statistic),
        }
        for statistic in entries.statistics
    ]


def _blocks(entries: selectors.RecordEntries, describe: Descriptions) -> list[dict[str, Any]]:
    return [
        {
            "block_type": describe(CodeTable.BLOCK_TYPE, block.block_type),
            "block_description": describe(CodeTable.BLOCK_TYPE, block.block_type),
            "block_status": block.status,
            "block_note": block.note,
            "created_by": entries.created_by.get(block.created_by_id or 0, ""),
            "created_date": alma_datetime(block.created_at),
            "expiry_date": alma_datetime(
                datetime.datetime.combine(block.expiry_date, datetime.time(), datetime.UTC)
            )
            if block.expiry_date
            else None,
            "segment_type": _segment(block),
        }
        for block in entries.blocks
    ]


def _notes(entries: selectors.RecordEntries, describe: Descriptions) -> list[dict[str, Any]]:
    return [
        {
            "note_type": describe(CodeTable.NOTE_TYPE, note.note_type),
            "note_text": note.text,
            "user_viewable": note.user_viewable,
            "popup_note": note.popup,
            "created_by": entries.created_by.get(note.created_by_id or 0, ""),
            "created_date": alma_datetime(note.created_at),
            "segment_type": _segment(note),
        }
        for note in entries.notes
    ]


def _grants(user: User) -> list[RoleGrant]:
    return list(
        RoleGrant.objects.active()
        .filter(user=user)
        .select_related(
            "role",
            "library",
            "circulation_desk__library",
            "department__library",
            "acquisitions_unit__library",
        )
        .order_by("id")
    )


# The lists of the user object beside its entries, each one query compiled once per database
# connection (accounts/prepared.py): every Alma client's GET reads them.
_RS_LIBRARIES = PreparedRows(
    lambda user_id: (
        User.rs_libraries.through.objects.filter(user_id=user_id)
        .order_by("library__code")
        .values_list("library__code", "library__name")
    ),
    (int,),
)
# The grant's field holding the unit each role parameter names.
_PARAMETER_FIELDS = {
    "CirculationDesk": "circulation_desk",
    "ServiceUnit": "department",
    "AcquisitionsUnit": "acquisitions_unit",
}
_ROLE_ROWS = PreparedRows(
    lambda user_id, now: (
        RoleGrant.objects.active(at=now)
        .filter(user_id=user_id)
        .order_by("id")
        .values_list(
            "role__code",
            "role__name",
            "valid_until",
            "library__code",
            "library__name",
            *(
                f"{field}__{column}"
                for field in _PARAMETER_FIELDS.values()
                for column in ("code", "name", "library__code", "library__name")
            ),
        )
    ),
    (int, datetime.datetime),
)


def _roles(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Active grants (rows of ``_ROLE_ROWS``) as Alma's user roles: the role as
    ``role_type``, the library (or the institution) as ``scope``, a desk, department or
    acquisitions unit as a parameter."""
    roles = []
    for row in rows:
        role_code, role_name, valid_until, library_code, library_name = row[:5]
        scope = {"value": INSTITUTION, "desc": "Institution"}
        if library_code is not None:
            scope = {"value": library_code, "desc": library_name}
        parameters = []
        for n, kind in enumerate(_PARAMETER_FIELDS):
            code, name, its_library, its_library_name = row[5 + 4 * n : 9 + 4 * n]
            if code is not None:
                scope = {"value": its_library, "desc": its_library_name}
                parameters.append(
                    {
                        "type": {"value": kind, "desc": ""},
                        "scope": scope,
                        "value": {"value": code, "desc": name},
                    }
                )
        roles.append(
            {
                "status": {"value": "ACTIVE", "desc": "Active"},
                "scope": scope,
                "role_type": {"value": role_code, "desc": role_name},
                "expiry_date": alma_date(valid_until.date()) if valid_until else None,
                "parameter": parameters,
            }
        )
    return roles


# --- writing ----------------------------------------------------------------------------------


def _code(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("value") or "").strip()
    return str(value or "").strip()


def _date(value: Any) -> str:
    return str(value or "").strip()


def general_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The general-tab fields of an Alma user object (absent ones empty)."""
    fields: dict[str, Any] = {name: _code(body.get(name)) for name in CHOICE_FIELDS}
    fields.update({name: _code(body.get(name)) for name in CODE_FIELDS})
    fields.update({name: str(body.get(name) or "").strip() for name in TEXT_FIELDS})
    fields.update({name: _date(body.get(name)) or None for name in DATE_FIELDS})
    fields["force_password_change"] = str(body.get("force_password_change") or "").lower() in (
        "true",
        "y",
        "yes",
    )
    fields["rs_libraries"] = [_code(entry.get("code")) for entry in body.get("rs_library", [])]
    fields["library_notices"] = [
        _code(entry.get("code"))
        for entry in body.get("library_notice", [])
        if entry.get("value") is not False
    ]
    return fields


def _mandatory(body: Mapping[str, Any]) -> None:
    for name in ("primary_id", "first_name", "last_name", "record_type"):
        if not _code(body.get(name)):
            raise AlmaError("401664", f"Mandatory field is missing: {name}")


def _identifier_in(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id_type": _code(entry.get("id_type")),
        "value": str(entry.get("value") or "").strip(),
        "note": str(entry.get("note") or "").strip(),
        "segment_type": entry.get("segment_type") or "",
    }


def _contact_in(kind: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    common = {
        "preferred": bool(entry.get("preferred")),
        "segment_type": entry.get("segment_type") or "",
    }
    if kind == "email":
        return {
            "address": str(entry.get("email_address") or "").strip(),
            "description": str(entry.get("description") or "").strip(),
            "types": [_code(t) for t in entry.get("email_type", [])],
            **common,
        }
    if kind == "phone":
        return {
            "number": str(entry.get("phone_number") or "").strip(),
            "types": [_code(t) for t in entry.get("phone_type", [])],
            "preferred_sms": bool(entry.get("preferred_sms")),
            **common,
        }
    return {
        **{name: str(entry.get(name) or "").strip() for name in ADDRESS_FIELDS},
        "country": _code(entry.get("country")),
        "address_note": str(entry.get("address_note") or "").strip(),
        "start_date": _date(entry.get("start_date")) or None,
        "end_date": _date(entry.get("end_date")) or None,
        "types": [_code(t) for t in entry.get("address_type", [])],
        **common,
    }


def _contacts_in(body: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    info = body.get("contact_info") or {}
    return {kind: [_contact_in(kind, e) for e in info.get(kind, [])] for kind in CONTACT_KINDS}


CONTACT_KINDS = ("address", "email", "phone")


def _password_and_pin(body: Mapping[str, Any]) -> tuple[str, str]:
    return str(body.get("password") or ""), str(body.get("pin_number") or "").strip()


@transaction.atomic
def create(request: HttpRequest, body: Mapping[str, Any]) -> User:
    """POST /users: the record, its identifiers and contact information, then its notes,
    statistics, blocks and roles — one transaction, so a refusal leaves nothing behind."""
    _mandatory(body)
    actor = actor_of(request)
    fields = general_fields(body)
    if not fields["account_type"]:
        fields["account_type"] = AccountType.INTERNAL
    if not fields["status"]:
        fields["status"] = UserStatus.ACTIVE
    contacts = _contacts_in(body)
    password, pin = _password_and_pin(body)
    user = actions.create_user(
        actor=actor,
        fields=fields,
        identifiers=[_identifier_in(e) for e in body.get("user_identifier", [])],
        emails=contacts["email"],
        phones=contacts["phone"],
        addresses=contacts["address"],
        password=password,
        pin=pin,
    )
    _add_or_remove_owned(actor, actor.user, user, body, functools.partial(_owned_by_us, user))
    _set_roles(actor, user, body.get("user_role", []))
    return user


# --- PUT: the whole record replaced, entry by entry ------------------------------------------


def _sig_contact(kind: str, data: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two contact entries the same, whichever side they come from."""
    values = dict(data)
    values["types"] = tuple(sorted(values.get("types") or []))
    values["segment_type"] = values.get("segment_type") or Segment.INTERNAL
    for name in ("start_date", "end_date"):
        try:
            values[name] = parse_date(values.get(name))
        except (TypeError, ValueError):
            values[name] = values.get(name)
    return tuple(sorted((k, v) for k, v in values.items() if k != "preferred"))


def _contact_as_input(kind: str, entry: Any) -> dict[str, Any]:
    common = {"preferred": entry.preferred, "segment_type": _segment(entry)}
    if kind == "email":
        extra = {"address": entry.address, "description": entry.description}
    elif kind == "phone":
        extra = {"number": entry.number, "preferred_sms": entry.preferred_sms}
    else:
        extra = {
            **{name: getattr(entry, name) for name in ADDRESS_FIELDS},
            "country": entry.country,
            "address_note": entry.address_note,
            "start_date": entry.start_date,
            "end_date": entry.end_date,
        }
    return {**extra, "types": list(entry.types), **common}


def _note_in(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "note_type": _code(entry.get("note_type")),
        "text": str(entry.get("note_text") or "").strip(),
        "user_viewable": bool(entry.get("user_viewable")),
        "popup": bool(entry.get("popup_note")),
        "segment_type": entry.get("segment_type") or Segment.INTERNAL,
    }


def _statistic_in(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "category": _code(entry.get("statistic_category")),
        "category_type": _code(entry.get("category_type")),
        "note": str(entry.get("statistic_note") or "").strip(),
        "segment_type": entry.get("segment_type") or Segment.INTERNAL,
    }


def _block_in(entry: Mapping[str, Any]) -> dict[str, Any]:
    expiry = _date(entry.get("expiry_date"))
    return {
        "block_type": _code(entry.get("block_type")),
        "note": str(entry.get("block_note") or "").strip(),
        "expiry_date": expiry.split("T")[0] if expiry else None,
        "segment_type": entry.get("segment_type") or Segment.INTERNAL,
    }


def _sig(data: Mapping[str, Any]) -> tuple[Any, ...]:
    values = dict(data)
    if "expiry_date" in values:
        with contextlib.suppress(TypeError, ValueError):
            values["expiry_date"] = parse_date(values["expiry_date"])
    if "value" in values:
        values["value"] = identifier_key(str(values["value"]))
    values["segment_type"] = values.get("segment_type") or Segment.INTERNAL
    return tuple(sorted(values.items()))


def _reconcile(
    existing: Iterable[tuple[tuple[Any, ...], Any]],
    wanted: Iterable[Mapping[str, Any]],
    signature: Callable[[Mapping[str, Any]], tuple[Any, ...]],
    add: Callable[[Mapping[str, Any]], Any],
    remove: Callable[[Any], Any],
) -> None:
    """Make a list of entries the wanted one: keep equal entries, add the new ones (first,
    so a newly preferred entry takes over), then remove the others."""
    remaining = list(existing)
    to_add = []
    for data in wanted:
        sig = signature(data)
        match = next((i for i, (have, _) in enumerate(remaining) if have == sig), None)
        if match is None:
            to_add.append(data)
        else:
            remaining.pop(match)
    for data in to_add:
        add(data)
    for _, entry in remaining:
        remove(entry)


def _owned_by_us(user: User, entry_segment: str) -> bool:
    """External users' external (SIS-owned) entries are the SIS's: a PUT neither removes
    nor adds them (Alma: an empty segment of an external user counts as external)."""
    if user.account_type != AccountType.EXTERNAL:
        return True
    return entry_segment == Segment.INTERNAL


def _replace_entries(
    actor: Actor, viewer: User | None, user: User, body: Mapping[str, Any]
) -> None:
    ours = functools.partial(_owned_by_us, user)
    identifiers = [_identifier_in(e) for e in body.get("user_identifier", [])]
    _reconcile(
        [
            (_sig(_identifier_as_input(i)), i)
            for i in selectors.identifiers_of(viewer, user)
            if not i.is_primary and ours(_segment(i))
        ],
        [i for i in identifiers if ours(i["segment_type"] or Segment.EXTERNAL)],
        _sig,
        lambda data: actions.add_identifier(actor=actor, user=user, **data),
        lambda entry: actions.remove_identifier(actor=actor, identifier=entry),
    )
    for kind, wanted in _contacts_in(body).items():
        _reconcile(
            [
                (_sig_contact(kind, _contact_as_input(kind, e)), e)
                for e in selectors.contact_entries(viewer, user, kind)
                if ours(_segment(e))
            ],
            [e for e in wanted if ours(e["segment_type"] or Segment.EXTERNAL)],
            functools.partial(_sig_contact, kind),
            functools.partial(_add_contact, actor, user, kind),
            lambda entry: actions.remove_contact(actor=actor, entry=entry),
        )
    _add_or_remove_owned(actor, viewer, user, body, ours)


def _add_contact(actor: Actor, user: User, kind: str, data: Mapping[str, Any]) -> Any:
    return actions.add_contact(actor=actor, user=user, kind=kind, data=data)


def _identifier_as_input(identifier: Any) -> dict[str, Any]:
    return {
        "id_type": identifier.id_type,
        "value": identifier.value,
        "note": identifier.note,
        "segment_type": _segment(identifier),
    }


def _add_or_remove_owned(
    actor: Actor,
    viewer: User | None,
    user: User,
    body: Mapping[str, Any],
    ours: Callable[[str], bool],
) -> None:
    """Notes, statistics and blocks; those of libraries outside the caller's scope are not
    visible to them, so a PUT leaves them alone."""
    # The body's list, its parser, the caller's entries, the fields that make two entries
    # the same, and the actions that add and remove one (keyword of the entry to remove).
    kinds = (
        (
            "user_note",
            _note_in,
            selectors.notes_of,
            ("note_type", "text", "user_viewable", "popup"),
            actions.add_note,
            actions.remove_note,
            "note",
        ),
        (
            "user_statistic",
            _statistic_in,
            selectors.statistics_of,
            ("category", "category_type", "note"),
            actions.add_statistic,
            actions.remove_statistic,
            "statistic",
        ),
        (
            "user_block",
            _block_in,
            selectors.blocks_of,
            ("block_type", "note", "expiry_date"),
            actions.add_block,
            actions.remove_block,
            "block",
        ),
    )
    for key, parse, entries_of, fields, add, remove, keyword in kinds:
        wanted = [parse(e) for e in body.get(key, [])]
        _reconcile(
            [
                (_sig({**{f: getattr(e, f) for f in fields}, "segment_type": _segment(e)}), e)
                for e in entries_of(viewer, user)
                if ours(_segment(e))
            ],
            [w for w in wanted if ours(w["segment_type"])],
            _sig,
            functools.partial(_add_owned, add, actor, user),
            functools.partial(_remove_owned, remove, actor, keyword),
        )


def _add_owned(add: Callable[..., Any], actor: Actor, user: User, data: Mapping[str, Any]) -> Any:
    return add(actor=actor, user=user, **data)


def _remove_owned(remove: Callable[..., Any], actor: Actor, keyword: str, entry: Any) -> Any:
    return remove(actor=actor, **{keyword: entry})


# --- roles ------------------------------------------------------------------------------------


def _unit_of(
    role: Mapping[str, Any],
) -> Library | CirculationDesk | Department | AcquisitionsUnit | None:
    scope = _code(role.get("scope"))
    for parameter in role.get("parameter", []):
        kind = _code(parameter.get("type"))
        if kind not in PARAMETER_UNITS:
            continue
        _, model = PARAMETER_UNITS[kind]
        units = model.objects.filter(code=_code(parameter.get("value")))
        if scope and scope != INSTITUTION:
            units = units.filter(library__code=scope)
        unit = units.first()
        if unit is None:
            raise AlmaError("401864", f"Given {kind} ({_code(parameter.get('value'))}) is invalid.")
        return unit  # type: ignore[no-any-return]
    if not scope or scope == INSTITUTION:
        return None
    library = Library.objects.filter(code=scope).first()
    if library is None:
        raise AlmaError("401864", f"Given role scope ({scope}) is invalid.")
    return library


def _grant_key(role_code: str, unit: Any) -> tuple[str, str, int | None]:
    return role_code, type(unit).__name__ if unit is not None else "", getattr(unit, "pk", None)


def _set_roles(actor: Actor, user: User, roles: Iterable[Mapping[str, Any]]) -> None:
    """Alma's rule: an empty role list keeps the roles; otherwise the active grants become
    exactly the listed roles, granted and revoked through ``access.actions`` (so the
    role-management permission and every rule of granting apply)."""
    wanted: dict[tuple[str, str, int | None], tuple[Role, Any, Any]] = {}
    for entry in roles:
        if _code(entry.get("status")) == "INACTIVE":
            continue
        role_code = _code(entry.get("role_type"))
        role = Role.objects.filter(code=role_code, retired=False).first()
        if role is None:
            raise AlmaError("401864", f"Given role type ({role_code}) is invalid.")
        unit = _unit_of(entry)
        wanted[_grant_key(role_code, unit)] = (role, unit, entry.get("expiry_date"))
    if not wanted:
        return
    current = {_grant_key(g.role.code, g.unit): g for g in _grants(user)}
    for key, (role, unit, expiry) in wanted.items():
        if key not in current:
            until = _end_of(expiry)
            access_actions.grant_role(
                actor=actor,
                user=user,
                role=role,
                scope=unit,
                valid_until=until,
                reason="Alma API: role in the user record",
            )
    for key, grant in current.items():
        # A login model's own role comes and goes with the login model, not the role list.
        if key not in wanted and not grant.role.login_model:
            access_actions.revoke_grant(
                actor=actor, grant=grant, reason="Alma API: role not in the user record"
            )


def _end_of(expiry: Any) -> datetime.datetime | None:
    try:
        day = parse_date(expiry)
    except (TypeError, ValueError):
        raise AlmaError("401664", f"Role expiry date '{expiry}' is not a date.") from None
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


# --- general fields ---------------------------------------------------------------------------


def _current(user: User, name: str) -> Any:
    if name == "rs_libraries":
        return sorted(user.rs_libraries.values_list("code", flat=True))
    if name == "library_notices":
        return sorted(user.library_notices)
    return getattr(user, name)


def _same(current: Any, given: Any) -> bool:
    if isinstance(current, datetime.date) or current is None:
        try:
            return current == parse_date(given)
        except (TypeError, ValueError):
            return False
    if isinstance(current, list):
        return current == sorted(set(given))
    return bool(current == given)


def _changed_by_hand(user: User) -> set[str]:
    """Fields whose last change was made by staff in the UI (Alma's "updated manually")."""
    seen: set[str] = set()
    by_hand: set[str] = set()
    events = AuditEvent.objects.filter(subject=user, verb__in=("user.updated", "user.pin_set"))
    for channel, changes in events.order_by("-id").values_list("channel", "changes"):
        for change in changes:
            field = change.get("field")
            if field in OVERRIDABLE and field not in seen:
                seen.add(field)
                if channel == Channel.UI:
                    by_hand.add(field)
    return by_hand


@transaction.atomic
def replace(
    request: HttpRequest, user: User, body: Mapping[str, Any], override: Iterable[str]
) -> User:
    """PUT /users/{id}: the whole record becomes the body, by Alma's rules."""
    _mandatory(body)
    actor = actor_of(request)
    viewer = actor.user
    fields = general_fields(body)
    for name in KEPT_WHEN_ABSENT:
        if not fields[name]:
            fields[name] = getattr(user, name)
    changed = {
        name: value for name, value in fields.items() if not _same(_current(user, name), value)
    }
    password, pin = _password_and_pin(body)
    protected = set(changed) | ({"pin_number"} if pin else set())
    if protected & set(OVERRIDABLE) - set(override):
        for name in _changed_by_hand(user) - set(override):
            changed.pop(name, None)
            if name == "pin_number":
                pin = ""
    force_change = changed.pop("force_password_change", user.force_password_change)
    if changed:
        user = actions.update_user(actor=actor, user=user, fields=changed, reason="Alma API PUT")
    if password:
        actions.set_password(actor=actor, user=user, password=password, force_change=force_change)
    elif force_change != user.force_password_change:
        actions.update_user(actor=actor, user=user, fields={"force_password_change": force_change})
    if pin:
        actions.set_pin(actor=actor, user=user, pin=pin)
    _replace_entries(actor, viewer, user, body)
    _set_roles(actor, user, body.get("user_role", []))
    return user
