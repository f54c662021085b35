"""The only code that writes user records.

Each action: keyword-only arguments, one transaction, validation before any write, the
audit event (with the field-level diff) in the same transaction. Views, API endpoints,
CLI commands and importers call these and never write the models themselves.
"""

from __future__ import annotations

import datetime
import mimetypes
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from patronage.access.checks import can, require
from patronage.access.permissions import Permission
from patronage.audit.actions import diff, record
from patronage.audit.context import Actor
from patronage.errors import ConfirmationRequired, Forbidden, ValidationFailed
from patronage.organization.models import Library

from . import external, selectors
from .choices import AccountType, CodeTable, ContactKind, RecordType, Segment, UserStatus
from .models import (
    Address,
    CodeTableEntry,
    Email,
    Phone,
    User,
    UserAttachment,
    UserBlock,
    UserIdentifier,
    UserManagementSettings,
    UserNameToken,
    UserNote,
    UserStatistic,
    identifier_key,
)
from .validation import (
    GENERAL_FIELDS,
    Errors,
    check_code,
    check_pattern,
    check_record_rules,
    check_types,
    clean_general,
    current_settings,
    parse_bool,
    parse_date,
)

PIN_LENGTH = 4
MASKED = "••••"
IDENTIFIER_IN_USE = "This identifier is already in use."
RESTRICTED_FOR_EDITING = (
    "This user is restricted for editing: only staff allowed to edit restricted users "
    f"({Permission.USERS_EDIT_RESTRICTED.label}) may change or e-mail them."
)
# General fields only holders of USERS_EDIT_RESTRICTED may set or clear (seed 002). Disabling
# the IP-range login restrictions weakens sign-in security, so it takes the same permission as
# protecting a record, not merely USERS_EDIT.
RESTRICTED_FIELDS = ("restricted_for_editing", "disable_login_restrictions")


# --- who may change a user ------------------------------------------------------------------


def may_change_user(
    actor_user: User | None, user: User, permission: Permission = Permission.USERS_EDIT
) -> bool:
    """Whether to offer ``permission``'s changes of ``user`` (the UI's Edit buttons)."""
    if not can(actor_user, permission):
        return False
    return not user.restricted_for_editing or can(actor_user, Permission.USERS_EDIT_RESTRICTED)


def require_change(actor: Actor, permission: Permission, user: User, obj: Any = None) -> None:
    """Every write on a user or its entries: ``require`` (403 without the permission, 404 out
    of scope), then the user's restriction for editing (403 ``restricted_for_editing``)."""
    require(actor, permission, user if obj is None else obj)
    if (
        actor.user is not None
        and user.restricted_for_editing
        and not can(actor.user, Permission.USERS_EDIT_RESTRICTED)
    ):
        raise Forbidden(RESTRICTED_FOR_EDITING, code="restricted_for_editing")


def require_may_email(*, actor: Actor, user: User) -> None:
    """Sending e-mail to a user (seed 002): refused for users restricted for editing unless the
    sender may edit them. Every e-mail path calls this before sending."""
    require_change(actor, Permission.USERS_EMAIL, user)


def _check_restricted_fields(actor: Actor, changed: Iterable[str]) -> None:
    """Setting or clearing the restriction flags needs USERS_EDIT_RESTRICTED."""
    if actor.user is None or can(actor.user, Permission.USERS_EDIT_RESTRICTED):
        return
    if names := [name for name in RESTRICTED_FIELDS if name in changed]:
        labels = ", ".join(GENERAL_FIELDS[name].label for name in names)
        raise Forbidden(
            f"Only staff allowed to edit restricted users may change: {labels} "
            f"({Permission.USERS_EDIT_RESTRICTED.label}).",
            code="restricted_for_editing",
        )


# --- helpers shared by the actions --------------------------------------------------------


LIBRARY_LISTS = ("rs_libraries", "purchase_request_libraries")


def _snapshot(user: User) -> dict[str, Any]:
    values = {name: getattr(user, name) for name in GENERAL_FIELDS if name not in LIBRARY_LISTS}
    for name in LIBRARY_LISTS:
        related = getattr(user, name)
        values[name] = sorted(related.values_list("code", flat=True)) if user.pk else []
    return values


def _set_library_lists(user: User, values: Mapping[str, Any]) -> None:
    for name in LIBRARY_LISTS:
        if name in values:
            getattr(user, name).set(Library.objects.filter(code__in=values[name]))


def _stamp(user: User, actor: Actor, *, created: bool = False) -> None:
    """The record's "created by / updated by / last updated by job" information."""
    if created:
        user.created_by = actor.user
        user.created_via = actor.label
    user.updated_by = actor.user
    user.updated_via = actor.label
    if actor.job:
        user.last_updated_by_job = actor.job


def end_sessions(user: User) -> None:
    """The account's power shrank: every session signed in before now ends at its next
    request (sessions remember the ``auth_epoch`` they began under), and every API key of
    the account is revoked now (see ``access.api_key_actions.revoke_all_keys``)."""
    from patronage.access.api_key_actions import revoke_all_keys  # access imports accounts

    User.objects.filter(pk=user.pk).update(auth_epoch=F("auth_epoch") + 1)
    user.refresh_from_db(fields=["auth_epoch"])
    revoke_all_keys(user)


def _touch(user: User, actor: Actor) -> None:
    _stamp(user, actor)
    user.save(update_fields=["updated_by", "updated_via", "last_updated_by_job", "updated_at"])


def _index_names(user: User) -> None:
    """Keep the name-search tokens and their copy of the sort key in step with the names."""
    wanted = user.name_tokens()
    have = set(user.name_tokens_set.values_list("token", flat=True)) if user.pk else set()
    if stale := have - wanted:
        user.name_tokens_set.filter(token__in=stale).delete()
    if have - stale:
        user.name_tokens_set.exclude(sort_name=user.sort_name).update(sort_name=user.sort_name)
    UserNameToken.objects.bulk_create(
        UserNameToken(user=user, token=token, sort_name=user.sort_name)
        for token in sorted(wanted - have)
    )


SEGMENTS = frozenset(Segment.values)


def _check_segment(errors: Errors, user: User, segment_type: str) -> str:
    segment = segment_type or Segment.INTERNAL
    if segment not in SEGMENTS:
        errors.add("segment_type", f"'{segment}' is neither Internal nor External.")
    elif segment == Segment.EXTERNAL and user.account_type != AccountType.EXTERNAL:
        errors.add("segment_type", "Only external users have external (SIS-owned) entries.")
    return segment


def _save_identifier(entry: UserIdentifier) -> None:
    """Insert an identifier; the unique key is the final word on clashes (two writers racing)."""
    if UserIdentifier.objects.filter(key=entry.key).exclude(pk=entry.pk).exists():
        field = "primary_id" if entry.is_primary else "value"
        raise ValidationFailed({field: IDENTIFIER_IN_USE}, code="identifier_in_use")
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:
        field = "primary_id" if entry.is_primary else "value"
        raise ValidationFailed({field: IDENTIFIER_IN_USE}, code="identifier_in_use") from exc


# --- the user record ----------------------------------------------------------------------


def find_possible_duplicates(
    first_name: str, last_name: str, birth_date: datetime.date | None
) -> list[User]:
    if not birth_date:
        return []
    return list(
        User.objects.filter(
            birth_date=birth_date, first_name__iexact=first_name, last_name__iexact=last_name
        )[:5]
    )


@transaction.atomic
def create_user(
    *,
    actor: Actor,
    fields: Mapping[str, Any],
    identifiers: Iterable[Mapping[str, Any]] = (),
    emails: Iterable[Mapping[str, Any]] = (),
    phones: Iterable[Mapping[str, Any]] = (),
    addresses: Iterable[Mapping[str, Any]] = (),
    password: str = "",
    pin: str = "",
    confirm_duplicate: bool = False,
) -> User:
    """Add a user (seed 002 "Adding Users"), with its first identifiers and contact entries.

    A user with the same first name, last name and birth date as an existing one is only
    added when ``confirm_duplicate`` is set; otherwise ``ConfirmationRequired`` is raised.
    """
    require(actor, Permission.USERS_CREATE)
    config = UserManagementSettings.current()
    errors = Errors()
    values = {"status": UserStatus.ACTIVE, "account_type": AccountType.INTERNAL, **fields}
    record_type = str(values.get("record_type") or "")
    cleaned = clean_general(values, record_type=record_type, errors=errors)
    _check_restricted_fields(actor, [name for name in RESTRICTED_FIELDS if cleaned.get(name)])
    check_record_rules(cleaned, settings=config, errors=errors)
    errors.raise_if_any()

    if not confirm_duplicate and find_possible_duplicates(
        cleaned["first_name"], cleaned["last_name"], cleaned.get("birth_date")
    ):
        raise ConfirmationRequired(
            "A user with the same first name, last name and birth date already exists. "
            "Confirm to add this user anyway.",
            code="possible_duplicate",
        )

    libraries = {name: cleaned.pop(name) for name in LIBRARY_LISTS if name in cleaned}
    user = User(**cleaned, status_date=timezone.localdate())
    user.sort_name = user.computed_sort_name()
    _stamp(user, actor, created=True)
    if password:
        _apply_password(user, password, cleaned.get("force_password_change", False))
    else:
        user.set_unusable_password()
    if pin:
        _apply_pin(user, pin)
    user.save()
    _save_identifier(
        UserIdentifier(
            user=user,
            id_type="PRIMARY",
            value=user.primary_id,
            key=identifier_key(user.primary_id),
            is_primary=True,
            segment_type=Segment.EXTERNAL
            if user.account_type == AccountType.EXTERNAL
            else Segment.INTERNAL,
        )
    )
    _set_library_lists(user, libraries)
    _index_names(user)
    record(
        actor=actor,
        verb="user.created",
        obj=user,
        subject=user,
        changes=diff({}, {k: v for k, v in _snapshot(user).items() if v not in ("", None, [])}),
    )
    for data in identifiers:
        add_identifier(actor=actor, user=user, **data)
    for kind, entries in (
        (ContactKind.EMAIL, emails),
        (ContactKind.PHONE, phones),
        (ContactKind.ADDRESS, addresses),
    ):
        for data in entries:
            add_contact(actor=actor, user=user, kind=kind, data=data)
    return user


@transaction.atomic
def update_user(
    *,
    actor: Actor,
    user: User,
    fields: Mapping[str, Any],
    reason: str = "",
    keep_on_sync: Iterable[str] = (),
) -> User:
    """Change general-tab fields. Only the fields given are touched; the diff is audited.

    On an external user, the fields the SIS owns follow ``accounts.external`` (read-only
    unless open for update; ``keep_on_sync``: fields the next sync must not override)."""
    require_change(actor, Permission.USERS_EDIT, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    require_change(actor, Permission.USERS_EDIT, user)  # the locked row: the flag as it is now
    external.check_keep_on_sync(user, keep_on_sync)
    before = _snapshot(user)
    errors = Errors()
    record_type = str(fields.get("record_type") or user.record_type)
    cleaned = clean_general(fields, record_type=record_type, errors=errors)
    _check_restricted_fields(
        actor,
        [name for name in RESTRICTED_FIELDS if name in cleaned and cleaned[name] != before[name]],
    )
    merged = {**before, **cleaned}
    check_record_rules(merged, settings=UserManagementSettings.current(), errors=errors)
    if record_type != user.record_type:
        _check_record_type_change(user, merged, record_type, errors)
    errors.raise_if_any()

    changes = diff(before, {name: merged[name] for name in cleaned})
    if not changes:
        return user
    if user.account_type == AccountType.EXTERNAL:
        user.sis_kept_fields = external.kept_after_edit(
            user, {change["field"]: change["new"] for change in changes}, keep_on_sync
        )
    for name in cleaned:
        if name not in LIBRARY_LISTS:
            setattr(user, name, merged[name])
    _set_library_lists(user, cleaned)
    if before["status"] != user.status:
        # Marking a user inactive is equivalent to blocking the account (seed 002).
        user.status_date = timezone.localdate()
        if user.status == UserStatus.INACTIVE:
            end_sessions(user)  # and revokes the API keys; the save below keeps the epoch
    if before["primary_id"] != user.primary_id:
        primary = user.identifiers.get(is_primary=True)
        primary.value, primary.key = user.primary_id, identifier_key(user.primary_id)
        _save_identifier(primary)
    user.sort_name = user.computed_sort_name()
    _stamp(user, actor)
    user.save()
    _index_names(user)
    record(actor=actor, verb="user.updated", obj=user, subject=user, changes=changes, reason=reason)
    return user


def _check_record_type_change(
    user: User, values: Mapping[str, Any], new_type: str, errors: Errors
) -> None:
    """Values chosen for the old record type must also exist for the new one."""
    for name in ("user_group", "job_category"):
        if values.get(name):
            spec = GENERAL_FIELDS[name]
            check_code(errors, name, spec.label, spec.table, values[name], new_type)
    if new_type == RecordType.CONTACT and user.blocks.exists():
        errors.add("record_type", "Contact users cannot have blocks; remove the blocks first.")


def _apply_password(user: User, password: str, force_change: bool) -> None:
    if user.account_type == AccountType.EXTERNAL:
        raise ValidationFailed(
            {
                "password": "External users sign in through the institution's identity provider; "
                "they have no password here."
            },
            code="password_not_allowed",
        )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed({"password": " ".join(exc.messages)}, code="weak_password") from exc
    user.set_password(password)
    user.force_password_change = force_change


def _apply_pin(user: User, pin: str) -> None:
    pin = pin.strip()
    if len(pin) != PIN_LENGTH or not pin.isascii() or not pin.isdigit():
        raise ValidationFailed(
            {"pin_number": "The PIN must be exactly four digits."}, code="invalid_pin"
        )
    user.pin_number = make_password(pin)


@transaction.atomic
def set_password(*, actor: Actor, user: User, password: str, force_change: bool = False) -> None:
    require_change(actor, Permission.USERS_EDIT, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    _apply_password(user, password, force_change)
    _stamp(user, actor)
    user.save()
    record(
        actor=actor,
        verb="user.password_set",
        obj=user,
        subject=user,
        changes=[{"field": "password", "old": MASKED, "new": MASKED}],
        details={"force_password_change": force_change},
    )


@transaction.atomic
def set_pin(*, actor: Actor, user: User, pin: str, keep_on_sync: bool = False) -> None:
    """Set the PIN. On an external user open for update, ``keep_on_sync`` says whether the
    next sync keeps it (else the SIS's PIN comes back); see ``accounts.external``."""
    require_change(actor, Permission.USERS_EDIT, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    _apply_pin(user, pin)
    external.pin_after_set(user, keep_on_sync)
    _stamp(user, actor)
    user.save()
    record(
        actor=actor,
        verb="user.pin_set",
        obj=user,
        subject=user,
        changes=[{"field": "pin_number", "old": MASKED, "new": MASKED}],
    )


def generate_pin() -> str:
    """A random four-digit PIN (seed 002: the Generate button beside the PIN field)."""
    return f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"


# --- identifiers --------------------------------------------------------------------------


@transaction.atomic
def add_identifier(
    *,
    actor: Actor,
    user: User,
    id_type: str,
    value: str,
    note: str = "",
    segment_type: str = Segment.INTERNAL,
) -> UserIdentifier:
    require_change(actor, Permission.USERS_EDIT, user)
    errors = Errors()
    value = (value or "").strip()
    if not value:
        errors.add("value", "Enter the identifier.")
    if user.record_type == RecordType.CONTACT:
        errors.add("id_type", "Contact users have no identifiers tab.")
    check_code(
        errors, "id_type", "Identifier type", CodeTable.IDENTIFIER_TYPE, id_type, user.record_type
    )
    segment = _check_segment(errors, user, segment_type)
    errors.raise_if_any()
    entry = UserIdentifier(
        user=user,
        id_type=id_type,
        value=value,
        key=identifier_key(value),
        note=note.strip(),
        segment_type=segment,
    )
    _save_identifier(entry)
    _touch(user, actor)
    record(
        actor=actor,
        verb="identifier.added",
        obj=entry,
        subject=user,
        changes=[{"field": "identifiers", "old": None, "new": str(entry)}],
    )
    return entry


@transaction.atomic
def remove_identifier(*, actor: Actor, identifier: UserIdentifier) -> None:
    user = identifier.user
    require_change(actor, Permission.USERS_EDIT, user)
    if identifier.is_primary:
        raise ValidationFailed(
            {"id_type": "The primary identifier cannot be removed; change it instead."}
        )
    identifier.delete()
    _touch(user, actor)
    record(
        actor=actor,
        verb="identifier.removed",
        object_type="useridentifier",
        subject=user,
        changes=[{"field": "identifiers", "old": str(identifier), "new": None}],
    )


# --- contact information ------------------------------------------------------------------

CONTACT_MODELS: dict[str, type[Address] | type[Email] | type[Phone]] = {
    ContactKind.ADDRESS: Address,
    ContactKind.EMAIL: Email,
    ContactKind.PHONE: Phone,
}
CONTACT_TYPE_TABLES: dict[str, str] = {
    ContactKind.ADDRESS: CodeTable.ADDRESS_TYPE,
    ContactKind.EMAIL: CodeTable.EMAIL_TYPE,
    ContactKind.PHONE: CodeTable.PHONE_TYPE,
}
ADDRESS_LINES = ("line1", "line2", "line3", "line4", "line5")
CONTACT_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    ContactKind.ADDRESS: (
        *ADDRESS_LINES,
        "city",
        "state_province",
        "postal_code",
        "country",
        "address_note",
    ),
    ContactKind.EMAIL: ("address", "description"),
    ContactKind.PHONE: ("number",),
}


def _clean_contact(kind: str, user: User, data: Mapping[str, Any]) -> dict[str, Any]:
    config = current_settings()
    errors = Errors()
    allowed = {
        *CONTACT_TEXT_FIELDS[kind],
        "types",
        "preferred",
        "start_date",
        "end_date",
        "segment_type",
        "preferred_sms",
    }
    for name in data:
        if name not in allowed:
            errors.add(
                name, f"'{name}' is not a field of a{'n' if kind != 'phone' else ''} {kind}."
            )
    cleaned: dict[str, Any] = {
        name: str(data.get(name) or "").strip() for name in CONTACT_TEXT_FIELDS[kind]
    }
    label = ContactKind(kind).label
    cleaned["types"] = check_types(
        errors, CONTACT_TYPE_TABLES[kind], data.get("types") or [], user.record_type, label
    )
    cleaned["preferred"] = parse_bool(data.get("preferred", False))
    cleaned["segment_type"] = _check_segment(errors, user, str(data.get("segment_type") or ""))
    for name in ("start_date", "end_date"):
        try:
            cleaned[name] = parse_date(data.get(name))
        except (TypeError, ValueError):
            errors.add(name, f"'{data.get(name)}' is not a valid date (use YYYY-MM-DD).")
    if (
        cleaned.get("start_date")
        and cleaned.get("end_date")
        and cleaned["end_date"] < cleaned["start_date"]
    ):
        errors.add("end_date", "The end date cannot be before the start date.")
    if kind == ContactKind.EMAIL:
        if not cleaned["address"]:
            errors.add("address", "Enter the email address.")
        check_pattern(errors, "address", "Email address", cleaned["address"], config.email_regex)
        cleaned["key"] = identifier_key(cleaned["address"])
    elif kind == ContactKind.PHONE:
        if not cleaned["number"]:
            errors.add("number", "Enter the phone number.")
        check_pattern(errors, "number", "Phone number", cleaned["number"], config.phone_regex)
        cleaned["preferred_sms"] = parse_bool(data.get("preferred_sms", False))
    else:
        if not cleaned["line1"]:
            errors.add("line1", "Enter the first address line.")
        for line in ADDRESS_LINES:
            check_pattern(errors, line, "Address line", cleaned[line], config.address_line_regex)
        check_pattern(
            errors, "postal_code", "Postal code", cleaned["postal_code"], config.postal_code_regex
        )
    errors.raise_if_any()
    return cleaned


def _make_preferred_unique(entry: Address | Email | Phone) -> None:
    """One preferred entry per kind: the newly preferred one wins; the first is preferred."""
    siblings = type(entry).objects.filter(user_id=entry.user_id).exclude(pk=entry.pk)
    if entry.preferred:
        siblings.filter(preferred=True).update(preferred=False)
    elif not siblings.filter(preferred=True).exists():
        entry.preferred = True


@transaction.atomic
def add_contact(
    *, actor: Actor, user: User, kind: str, data: Mapping[str, Any]
) -> Address | Email | Phone:
    require_change(actor, Permission.USERS_EDIT, user)
    if kind not in CONTACT_MODELS:
        raise ValidationFailed({"kind": f"'{kind}' is not address, email or phone."})
    cleaned = _clean_contact(kind, user, data)
    entry = CONTACT_MODELS[kind](user=user, **cleaned)
    _make_preferred_unique(entry)
    entry.save()
    _touch(user, actor)
    record(
        actor=actor,
        verb=f"{kind}.added",
        obj=entry,
        subject=user,
        changes=[{"field": kind, "old": None, "new": str(entry)}],
    )
    return entry


@transaction.atomic
def update_contact(
    *, actor: Actor, entry: Address | Email | Phone, data: Mapping[str, Any]
) -> Address | Email | Phone:
    user = entry.user
    require_change(actor, Permission.USERS_EDIT, user)
    kind = entry._meta.model_name or ""
    if not entry.is_external and data.get("segment_type") == Segment.EXTERNAL:
        raise ValidationFailed(
            {"segment_type": "An internal entry cannot be turned external: remove it instead."},
            code="internal_entry",
        )
    if entry.is_external and user.account_type == AccountType.EXTERNAL:
        raise ValidationFailed(
            {kind: "This entry comes from the student information system and is changed there."},
            code="external_entry",
        )
    current = {
        name: getattr(entry, name)
        for name in (
            *CONTACT_TEXT_FIELDS[kind],
            "types",
            "preferred",
            "start_date",
            "end_date",
            "segment_type",
        )
    }
    cleaned = _clean_contact(kind, user, {**current, **data})
    before = str(entry)
    for name, value in cleaned.items():
        setattr(entry, name, value)
    _make_preferred_unique(entry)
    entry.save()
    _touch(user, actor)
    record(
        actor=actor,
        verb=f"{kind}.updated",
        obj=entry,
        subject=user,
        changes=[{"field": kind, "old": before, "new": str(entry)}],
    )
    return entry


@transaction.atomic
def remove_contact(*, actor: Actor, entry: Address | Email | Phone) -> None:
    user = entry.user
    require_change(actor, Permission.USERS_EDIT, user)
    kind = entry._meta.model_name or ""
    was_preferred = entry.preferred
    entry.delete()
    if was_preferred and (
        successor := type(entry).objects.filter(user=user).order_by("id").first()
    ):
        successor.preferred = True
        successor.save(update_fields=["preferred"])
    _touch(user, actor)
    record(
        actor=actor,
        verb=f"{kind}.removed",
        object_type=kind,
        subject=user,
        changes=[{"field": kind, "old": str(entry), "new": None}],
    )


# --- notes, statistics, blocks (library-owned entries) ---------------------------------------


def _owner(errors: Errors, owner: Library | int | str | None) -> Library | None:
    if owner is None or owner == "":
        return None
    if isinstance(owner, Library):
        return owner
    library = Library.objects.filter(pk=owner).first() if str(owner).isdigit() else None
    if library is None:
        errors.add("owner", "Unknown owning library.")
    return library


def _check_owner_in_scope(actor: Actor, entry: Any, permission: Permission) -> None:
    """Staff may only give an entry to a library within their own scope."""
    if actor.user is not None and not can(actor.user, permission, entry):
        raise ValidationFailed(
            {"owner": "You can only give this to a library within the scope of your roles."},
            code="owner_out_of_scope",
        )


OwnedEntry = UserNote | UserStatistic | UserBlock


def _add_owned_entry(
    *, actor: Actor, entry: OwnedEntry, permission: Permission, field: str, shown: str
) -> None:
    """Save a new library-owned entry of ``entry.user``: scope check, write, audit."""
    _check_owner_in_scope(actor, entry, permission)
    entry.save()
    _touch(entry.user, actor)
    record(
        actor=actor,
        verb=f"{field.rstrip('s')}.added",
        obj=entry,
        subject=entry.user,
        changes=[{"field": field, "old": None, "new": shown}],
    )


def _remove_owned_entry(
    *, actor: Actor, entry: OwnedEntry, permission: Permission, field: str, shown: str
) -> None:
    require_change(actor, permission, entry.user, entry)
    user = entry.user
    entry.delete()
    _touch(user, actor)
    record(
        actor=actor,
        verb=f"{field.rstrip('s')}.removed",
        object_type=entry._meta.model_name or "",
        subject=user,
        changes=[{"field": field, "old": shown, "new": None}],
    )


@transaction.atomic
def add_note(
    *,
    actor: Actor,
    user: User,
    note_type: str,
    text: str,
    user_viewable: bool = False,
    popup: bool = False,
    owner: Library | int | str | None = None,
    segment_type: str = Segment.INTERNAL,
) -> UserNote:
    require_change(actor, Permission.USERS_EDIT, user)
    errors = Errors()
    if not (text or "").strip():
        errors.add("text", "Enter the text of the note.")
    check_code(errors, "note_type", "Note type", CodeTable.NOTE_TYPE, note_type, user.record_type)
    segment = _check_segment(errors, user, segment_type)
    library = _owner(errors, owner)
    errors.raise_if_any()
    note = UserNote(
        user=user,
        note_type=note_type,
        text=text.strip(),
        user_viewable=parse_bool(user_viewable),
        popup=parse_bool(popup),
        owner=library,
        segment_type=segment,
        created_by=actor.user,
    )
    _add_owned_entry(
        actor=actor, entry=note, permission=Permission.USERS_EDIT, field="notes", shown=note.text
    )
    return note


@transaction.atomic
def remove_note(*, actor: Actor, note: UserNote) -> None:
    _remove_owned_entry(
        actor=actor, entry=note, permission=Permission.USERS_EDIT, field="notes", shown=note.text
    )


@transaction.atomic
def add_statistic(
    *,
    actor: Actor,
    user: User,
    category: str,
    category_type: str = "",
    note: str = "",
    owner: Library | int | str | None = None,
    segment_type: str = Segment.INTERNAL,
) -> UserStatistic:
    require_change(actor, Permission.USERS_EDIT, user)
    errors = Errors()
    check_code(
        errors,
        "category",
        "Statistical category",
        CodeTable.STATISTIC_CATEGORY,
        category,
        user.record_type,
    )
    if category_type:
        check_code(
            errors,
            "category_type",
            "Category type",
            CodeTable.STATISTIC_CATEGORY_TYPE,
            category_type,
            user.record_type,
        )
    segment = _check_segment(errors, user, segment_type)
    library = _owner(errors, owner)
    errors.raise_if_any()
    statistic = UserStatistic(
        user=user,
        category=category,
        category_type=category_type,
        note=(note or "").strip(),
        owner=library,
        segment_type=segment,
        created_by=actor.user,
    )
    _add_owned_entry(
        actor=actor,
        entry=statistic,
        permission=Permission.USERS_EDIT,
        field="statistics",
        shown=category,
    )
    return statistic


@transaction.atomic
def remove_statistic(*, actor: Actor, statistic: UserStatistic) -> None:
    _remove_owned_entry(
        actor=actor,
        entry=statistic,
        permission=Permission.USERS_EDIT,
        field="statistics",
        shown=statistic.category,
    )


@transaction.atomic
def add_block(
    *,
    actor: Actor,
    user: User,
    block_type: str,
    note: str = "",
    expiry_date: Any = None,
    owner: Library | int | str | None = None,
    segment_type: str = Segment.INTERNAL,
) -> UserBlock:
    require_change(actor, Permission.USERS_MANAGE_BLOCKS, user)
    errors = Errors()
    if user.record_type == RecordType.CONTACT:
        raise ValidationFailed(
            {"block_type": "Contact users cannot be blocked (they have no Blocks tab)."},
            code="blocks_not_for_contacts",
        )
    check_code(
        errors, "block_type", "Block type", CodeTable.BLOCK_TYPE, block_type, user.record_type
    )
    segment = _check_segment(errors, user, segment_type)
    library = _owner(errors, owner)
    try:
        expiry = parse_date(expiry_date)
    except (TypeError, ValueError):
        errors.add("expiry_date", f"'{expiry_date}' is not a valid date (use YYYY-MM-DD).")
        expiry = None
    errors.raise_if_any()
    block = UserBlock(
        user=user,
        block_type=block_type,
        note=(note or "").strip(),
        expiry_date=expiry,
        owner=library,
        segment_type=segment,
        created_by=actor.user,
    )
    _add_owned_entry(
        actor=actor,
        entry=block,
        permission=Permission.USERS_MANAGE_BLOCKS,
        field="blocks",
        shown=block_type,
    )
    return block


@transaction.atomic
def remove_block(*, actor: Actor, block: UserBlock) -> None:
    _remove_owned_entry(
        actor=actor,
        entry=block,
        permission=Permission.USERS_MANAGE_BLOCKS,
        field="blocks",
        shown=block.block_type,
    )


# --- attachments --------------------------------------------------------------------------


def add_attachment(
    *, actor: Actor, user: User, upload: File[Any], name: str = "", note: str = ""
) -> UserAttachment:
    """Store a file for the user. The file is written first and removed if the row is not."""
    require_change(actor, Permission.USERS_MANAGE_ATTACHMENTS, user)
    name = (name or upload.name or "attachment").rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    size = upload.size or 0
    errors = Errors()
    if content_type not in django_settings.ATTACHMENT_CONTENT_TYPES:
        errors.add("file", f"Files of type {content_type} cannot be attached.")
    if size > django_settings.ATTACHMENT_MAX_BYTES:
        limit_mb = django_settings.ATTACHMENT_MAX_BYTES / (1024 * 1024)
        errors.add("file", f"The file is larger than the limit of {limit_mb:g} MB.")
    if size == 0:
        errors.add("file", "The file is empty.")
    errors.raise_if_any()
    attachment = UserAttachment(
        user=user,
        name=name,
        content_type=content_type,
        size=size,
        note=(note or "").strip(),
        created_by=actor.user,
    )
    attachment.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            attachment.save()
            _touch(user, actor)
            record(
                actor=actor,
                verb="attachment.added",
                obj=attachment,
                subject=user,
                changes=[{"field": "attachments", "old": None, "new": name}],
            )
    except BaseException:
        attachment.file.delete(save=False)
        raise
    return attachment


def remove_attachment(*, actor: Actor, attachment: UserAttachment) -> None:
    require_change(actor, Permission.USERS_MANAGE_ATTACHMENTS, attachment.user)
    user = attachment.user
    with transaction.atomic():
        attachment.delete()
        _touch(user, actor)
        record(
            actor=actor,
            verb="attachment.removed",
            object_type="userattachment",
            subject=user,
            changes=[{"field": "attachments", "old": attachment.name, "new": None}],
        )
        transaction.on_commit(lambda: attachment.file.delete(save=False))


# --- configuration: code tables and user-management settings ----------------------------------


@transaction.atomic
def save_code_entry(
    *,
    actor: Actor,
    table: str,
    code: str,
    description: str,
    record_types: Iterable[str] = (),
    enabled: bool = True,
    sort_order: int = 0,
) -> CodeTableEntry:
    """Add or change one value of a code table. Values are never deleted, only disabled,
    because existing records may still carry them."""
    require(actor, Permission.CONFIG_CODE_TABLES)
    errors = Errors()
    code, description = (code or "").strip(), (description or "").strip()
    if table not in CodeTable.values:
        errors.add("table", f"'{table}' is not a code table.")
    if not code:
        errors.add("code", "Enter the code.")
    elif len(code) > CODE_MAX_LENGTH:
        errors.add("code", f"A code has at most {CODE_MAX_LENGTH} characters.")
    if not description:
        errors.add("description", "Enter the description.")
    types = sorted({str(t) for t in record_types})
    if unknown := [t for t in types if t not in RecordType.values]:
        errors.add("record_types", f"Unknown record type(s): {', '.join(unknown)}.")
    errors.raise_if_any()
    entry = CodeTableEntry.objects.select_for_update().filter(table=table, code=code).first()
    before = _entry_snapshot(entry) if entry else {}
    entry = entry or CodeTableEntry(table=table, code=code)
    entry.description, entry.record_types = description, types
    entry.enabled, entry.sort_order = parse_bool(enabled), int(sort_order)
    entry.save()
    selectors.code_descriptions.forget()
    record(
        actor=actor,
        verb="code_table.saved",
        obj=entry,
        changes=diff(before, _entry_snapshot(entry)),
        details={"table": table, "code": code},
    )
    return entry


CODE_MAX_LENGTH = 100


def _entry_snapshot(entry: CodeTableEntry) -> dict[str, Any]:
    return {
        "description": entry.description,
        "record_types": entry.record_types,
        "enabled": entry.enabled,
        "sort_order": entry.sort_order,
    }


SETTINGS_FIELDS = (
    "primary_identifier_regex",
    "email_regex",
    "phone_regex",
    "postal_code_regex",
    "address_line_regex",
    "photo_server_url",
    "photo_identifier_type",
    "photo_suffix",
    "mandatory_fields",
)
REGEX_SETTINGS = SETTINGS_FIELDS[:5]


@transaction.atomic
def update_settings(*, actor: Actor, changes: Mapping[str, Any]) -> UserManagementSettings:
    """Change user-management parameters: validation patterns, mandatory fields, pictures."""
    require(actor, Permission.CONFIG_USER_SETTINGS)
    config = UserManagementSettings.objects.select_for_update().get(
        pk=UserManagementSettings.current().pk
    )
    errors = Errors()
    for name in changes:
        if name not in SETTINGS_FIELDS:
            errors.add(name, f"'{name}' is not a user-management setting.")
    for name in REGEX_SETTINGS:
        if name in changes:
            try:
                re.compile(str(changes[name]))
            except re.error as exc:
                errors.add(name, f"Not a valid regular expression: {exc}.")
    url = str(changes.get("photo_server_url", "") or "")
    if url and not (url.startswith("https://") and url.endswith("/")):
        errors.add("photo_server_url", "The picture URL must use HTTPS and end with '/'.")
    mandatory = changes.get("mandatory_fields")
    if mandatory is not None:
        _check_mandatory_fields(mandatory, errors)
    errors.raise_if_any()
    before = {name: getattr(config, name) for name in changes}
    for name, value in changes.items():
        setattr(config, name, value)
    config.save()
    record(
        actor=actor,
        verb="settings.updated",
        obj=config,
        changes=diff(before, {name: getattr(config, name) for name in changes}),
    )
    return config


def _check_mandatory_fields(mandatory: Any, errors: Errors) -> None:
    if not isinstance(mandatory, dict):
        errors.add("mandatory_fields", "Give a list of fields per record type.")
        return
    for record_type, names in mandatory.items():
        if record_type not in RecordType.values:
            errors.add("mandatory_fields", f"'{record_type}' is not a record type.")
        elif not isinstance(names, list) or any(n not in GENERAL_FIELDS for n in names):
            errors.add("mandatory_fields", f"Unknown field among those for {record_type}.")
