"""Applying one chunk of SIS records to the user records, with Alma's ownership rules.

What the SIS owns (seed 002):

* the General-tab fields it sends (``formats.SIS_FIELDS``), except those staff changed by
  hand (``User.sis_kept_fields``): those keep the staff value until staff pick the original
  value again, or until the SIS sends the value staff chose; the profile's override list
  names fields the SIS overwrites all the same;
* the **external** identifiers, contact entries, notes, statistics and blocks: replaced by
  what the SIS sends. **Internal** entries (added by staff) are never touched, except that an
  internal identifier or statistic the SIS now sends becomes external, and that a preferred
  e-mail, phone or address sent by the SIS takes the preferred flag.

A chunk is planned with a handful of queries (matching, the matched users and their
entries) and written with bulk statements; the audit events of the chunk go in one batch,
in the chunk's transaction. ``apply_chunk(write=False)`` is the dry run: the same decisions
and report, nothing written.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.forms.models import model_to_dict
from django.utils import timezone

from patronage.accounts.actions import MASKED, _clean_contact, end_sessions
from patronage.accounts.choices import (
    AccountType,
    BlockStatus,
    CodeTable,
    RecordType,
    Segment,
    UserStatus,
)
from patronage.accounts.models import (
    Address,
    Email,
    Phone,
    User,
    UserBlock,
    UserIdentifier,
    UserNameToken,
    UserNote,
    UserStatistic,
    identifier_key,
    name_tokens,
)
from patronage.accounts.validation import (
    Errors,
    check_code,
    check_record_rules,
    clean_general,
    code_entries,
    current_settings,
    parse_date,
)
from patronage.audit.actions import event, record_many
from patronage.audit.context import Actor
from patronage.bulk import insert_rows, update_rows
from patronage.errors import ValidationFailed
from patronage.organization.models import Library

from .formats import LIST_FIELDS, SIS_FIELDS, Record
from .models import ImportProfile, MatchBy, MissingAction, Outcome
from .pins import pin_digest, stored_pin

MISSING = "Not in the full SIS sync."
RECORD_TYPES = frozenset(RecordType.values)
# A constant that no password hash ever equals (``check_password`` refuses it).
UNUSABLE_PASSWORD = UNUSABLE_PASSWORD_PREFIX + "external-user"
# Owner of a user toggled from internal to external: the next sync of any profile adopts it.
SIS_TEMP = "SIS_temp"
NAME_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
)

ENTRY_MODELS: dict[str, Any] = {
    "identifiers": UserIdentifier,
    "email": Email,
    "phone": Phone,
    "address": Address,
    "notes": UserNote,
    "statistics": UserStatistic,
    "blocks": UserBlock,
}
CONTACT_KINDS = ("email", "phone", "address")
DATES = ("start_date", "end_date")
NULL_DATES = frozenset((*DATES, "expiry_date"))  # entry columns stored as NULL when empty
ENTRY_FIELDS: dict[str, tuple[str, ...]] = {
    "identifiers": ("id_type", "value", "note"),
    "email": ("address", "description", "types", "preferred", *DATES),
    "phone": ("number", "types", "preferred", "preferred_sms", *DATES),
    "address": (
        "line1",
        "line2",
        "line3",
        "line4",
        "line5",
        "city",
        "state_province",
        "postal_code",
        "country",
        "address_note",
        "types",
        "preferred",
        *DATES,
    ),
    "notes": ("note_type", "text", "user_viewable", "popup"),
    "statistics": ("category_type", "category", "note"),
    "blocks": ("block_type", "note", "expiry_date"),
}
# What makes an internal entry "the same" as one the SIS sends (it then becomes external).
ADOPTED_BY: dict[str, tuple[str, ...]] = {
    "identifiers": ("key",),
    "statistics": ("category_type", "category"),
}


def plain(value: Any) -> Any:
    """The JSON form of a value, as ``User.sis_values`` and the report keep it."""
    if value.__class__ is str:  # most values, checked first: called for every field
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _keyed_digest(text: str) -> str:
    """A keyed digest (the records hold PINs and personal data: not guessable offline)."""
    key = hashlib.sha256(b"patronage.sis.record:" + settings.SECRET_KEY.encode()).digest()
    return hashlib.blake2b(text.encode(), key=key, digest_size=16).hexdigest()


def record_fingerprint(raw: Record) -> str:
    """The record as the SIS sent it (wherever it stood in the file)."""
    content = {name: value for name, value in raw.items() if name not in ("source", "line")}
    return _keyed_digest(orjson.dumps(content, option=orjson.OPT_SORT_KEYS).decode())


def rules_version(profile: ImportProfile) -> str:
    """What else decides how a record is applied: the profile's settings, the code tables,
    the user-management settings and the libraries. Any change there, and every record is
    checked in full again."""
    parts: list[Any] = [
        [profile.code, profile.match_by, profile.default_record_type, profile.override_fields],
        model_to_dict(current_settings()),
        sorted(Library.objects.values_list("code", "is_resource_sharing")),
    ]
    for table in CodeTable.values:
        parts.append(sorted((code, e.record_types) for code, e in code_entries(table).items()))
    return _keyed_digest(repr(parts))


def sync_stamp(fingerprint: str, rules: str, updated_at: datetime.datetime) -> str:
    """Kept in ``User.sis_values["record"]`` when a sync leaves a user in line with a record:
    the record, the rules, and the user's ``updated_at`` after that sync."""
    return _keyed_digest(f"{fingerprint}|{rules}|{updated_at.isoformat()}")


def _canon(kind: str, entry: dict[str, Any]) -> tuple[Any, ...]:
    """An entry as compared between the database and the SIS (dates stay dates)."""
    return tuple(
        tuple(entry["types"]) if name == "types" else entry.get(name) for name in ENTRY_FIELDS[kind]
    )


def _shown(kind: str, entry: dict[str, Any]) -> str:
    """How an entry appears in the report and the audit trail."""
    if kind == "identifiers":
        return f"{entry['id_type']}: {entry['value']}"
    if kind == "email":
        return str(entry["address"])
    if kind == "phone":
        return str(entry["number"])
    if kind == "address":
        parts = [entry.get(n) for n in ("line1", "line2", "postal_code", "city", "country")]
        return ", ".join(str(p) for p in parts if p)
    if kind == "notes":
        return f"{entry['note_type']}: {str(entry['text'])[:80]}"
    if kind == "statistics":
        return f"{entry['category_type']}: {entry['category']}".lstrip(": ")
    return str(entry["block_type"])


# --- checking one record ---------------------------------------------------------------------


@dataclass
class Clean:
    """A record that passed every check: the values to apply."""

    position: int
    source: str
    line: int | None
    primary_id: str
    key: str
    general: dict[str, Any]
    pin: str | None
    entries: dict[str, list[dict[str, Any]]]
    keys: list[str]  # the primary ID's key and every identifier's
    fingerprint: str = ""  # of the record as read (``record_fingerprint``)


class Rejected(Exception):
    pass


def _errors_text(errors: dict[str, str]) -> str:
    return "; ".join(errors.values())


def clean_record(position: int, raw: Record, profile: ImportProfile) -> Clean:
    """Check a record with the rules every way in applies; ``Rejected`` says why not."""
    if raw.get("error"):
        raise Rejected(raw["error"])
    given = raw["general"]
    values: dict[str, Any] = {name: [] if name in LIST_FIELDS else "" for name in SIS_FIELDS}
    values.update(given)
    values["record_type"] = values["record_type"] or profile.default_record_type
    values["status"] = (values["status"] or UserStatus.ACTIVE).upper()
    values["gender"] = str(values["gender"]).upper()
    errors = Errors()
    if values["record_type"] not in RECORD_TYPES:
        raise Rejected(f"Record type: '{values['record_type']}' is not one of STAFF, PUBLIC.")
    record_type = values["record_type"]
    general = clean_general(values, record_type=record_type, errors=errors)
    if not errors:
        check_record_rules(general, settings=current_settings(), errors=errors)
    if errors:
        raise Rejected(_errors_text(errors))
    primary_id = general["primary_id"]
    primary_key = identifier_key(primary_id)
    user = _stand_in(record_type)
    entries: dict[str, list[dict[str, Any]]] = {kind: [] for kind in ENTRY_MODELS}
    keys = [primary_key]
    for data in raw["identifiers"]:
        value = str(data.get("value") or "").strip()
        key = identifier_key(value)
        if not value or key in keys:
            continue  # the primary ID repeated as an identifier, or twice the same
        check_code(
            errors,
            "id_type",
            "Identifier type",
            CodeTable.IDENTIFIER_TYPE,
            str(data.get("id_type") or ""),
            record_type,
        )
        keys.append(key)
        entries["identifiers"].append(
            {
                "id_type": data.get("id_type") or "",
                "value": value,
                "key": key,
                "note": str(data.get("note") or "").strip(),
            }
        )
    for kind in CONTACT_KINDS:
        for data in raw[kind]:
            try:
                cleaned = _clean_contact(kind, user, {**data, "segment_type": Segment.EXTERNAL})
            except ValidationFailed as exc:
                errors.add(kind, f"{kind.capitalize()}: {_errors_text(exc.errors)}")
                continue
            entries[kind].append(cleaned)
    for data in raw["notes"]:
        check_code(
            errors, "notes", "Note type", CodeTable.NOTE_TYPE, data["note_type"], record_type
        )
        if not str(data.get("text") or "").strip():
            errors.add("notes", "A note has no text.")
        entries["notes"].append({**data, "text": str(data.get("text") or "").strip()})
    for data in raw["statistics"]:
        check_code(
            errors,
            "statistics",
            "Statistical category",
            CodeTable.STATISTIC_CATEGORY,
            data["category"],
            record_type,
        )
        if data.get("category_type"):
            check_code(
                errors,
                "statistics",
                "Category type",
                CodeTable.STATISTIC_CATEGORY_TYPE,
                data["category_type"],
                record_type,
            )
        entries["statistics"].append(dict(data))
    for data in raw["blocks"]:
        if record_type == RecordType.CONTACT:
            errors.add("blocks", "Contact users cannot be blocked.")
        check_code(
            errors, "blocks", "Block type", CodeTable.BLOCK_TYPE, data["block_type"], record_type
        )
        try:
            expiry = parse_date(data.get("expiry_date"))
        except (TypeError, ValueError):
            errors.add("blocks", f"Block expiry date '{data.get('expiry_date')}' is not a date.")
            expiry = None
        entries["blocks"].append({**data, "expiry_date": expiry})
    if errors:
        raise Rejected(_errors_text(errors))
    for kind in CONTACT_KINDS:
        _first_preferred_only(entries[kind])
    return Clean(
        position=position,
        source=raw["source"],
        line=raw.get("line"),
        primary_id=primary_id,
        key=primary_key,
        general=general,
        pin=raw.get("pin"),
        entries=entries,
        keys=keys,
    )


@functools.cache
def _stand_in(record_type: str) -> User:
    """An unsaved external user of the record type: what contact checks look at."""
    return User(record_type=record_type, account_type=AccountType.EXTERNAL)


def _first_preferred_only(entries: list[dict[str, Any]]) -> None:
    seen = False
    for entry in entries:
        entry["preferred"] = bool(entry.get("preferred")) and not seen
        seen = seen or entry["preferred"]


# --- a chunk -----------------------------------------------------------------------------------


@dataclass
class ChunkResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)  # ImportItem rows
    seen: list[int] = field(default_factory=list)


@dataclass
class _Writes:
    """Everything a chunk writes, flushed in a few bulk statements."""

    new_users: list[tuple[dict[str, Any], Clean]] = field(default_factory=list)
    user_updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    retokenise: dict[int, str] = field(default_factory=dict)  # user id → sort name
    rs_libraries: dict[int, list[str]] = field(default_factory=dict)
    delete: dict[str, list[int]] = field(default_factory=dict)
    create: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    segment_changes: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    deactivated: list[int] = field(default_factory=list)
    primary_ids: list[tuple[int, str, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


USER_VALUE_FIELDS = tuple(name for name in SIS_FIELDS if name != "rs_libraries")


def apply_chunk(
    *,
    records: Iterable[tuple[int, Record]],
    profile: ImportProfile,
    actor: Actor,
    run_id: int,
    write: bool,
    track_seen: bool,
) -> ChunkResult:
    """Check, match and apply records (``write=False``: decide and report only)."""
    result = _apply_chunk(records, profile, actor, run_id, write)
    if track_seen:
        # A user whose record was rejected is still in the SIS: not "missing" from the sync.
        keys = {
            identifier_key(item["primary_id"])
            for item in result.items
            if item["outcome"] == Outcome.REJECTED and item["primary_id"]
        }
        if keys:
            result.seen.extend(
                UserIdentifier.objects.filter(key__any_of=keys, is_primary=True).values_list(
                    "user_id", flat=True
                )
            )
    else:
        result.seen = []
    return result


def _apply_chunk(
    records: Iterable[tuple[int, Record]],
    profile: ImportProfile,
    actor: Actor,
    run_id: int,
    write: bool,
) -> ChunkResult:
    result = ChunkResult()
    rules = rules_version(profile)
    pending = [(position, raw, record_fingerprint(raw)) for position, raw in records]
    owners = _identifier_owners(
        {key for _, raw, _ in pending if not raw.get("error") for key in record_keys(raw)}
    )
    pending = _skip_unchanged(pending, owners, profile, rules, result)
    cleans: list[Clean] = []
    for position, raw, fingerprint in pending:
        try:
            clean = clean_record(position, raw, profile)
        except Rejected as exc:
            _reject(
                result,
                run_id,
                position,
                raw.get("source", ""),
                raw.get("line"),
                str(raw["general"].get("primary_id", "")),
                str(exc),
            )
            continue
        clean.fingerprint = fingerprint
        cleans.append(clean)
    if not cleans:
        return result

    matched: dict[int, Clean] = {}
    creating: list[Clean] = []
    for clean in cleans:
        user_id, problem = _match(clean, owners, profile.match_by)
        if problem:
            _reject_clean(result, run_id, clean, problem)
        elif user_id is None:
            creating.append(clean)
        elif user_id in matched:
            _reject_clean(result, run_id, clean, "Matches the same user as another record.")
        else:
            matched[user_id] = clean

    writes = _Writes()
    now = timezone.now()
    for clean in creating:
        _plan_create(clean, profile, actor, writes, result, run_id, now, rules)
    if matched:
        users = _load_users(list(matched), lock=write)
        entries = _load_entries(list(matched))
        libraries = _load_rs_libraries(list(matched))
        for user_id, clean in matched.items():
            user = users[user_id]
            if problem := _ownership_problem(user, profile):
                _reject_clean(result, run_id, clean, problem)
                continue
            result.seen.append(user_id)
            try:
                changes = _plan_update(
                    clean,
                    user,
                    entries.get(user_id, {}),
                    libraries.get(user_id, []),
                    profile,
                    actor,
                    writes,
                    now,
                    rules,
                )
            except Rejected as exc:
                _reject_clean(result, run_id, clean, str(exc))
                continue
            if changes:
                result.updated += 1
                result.items.append(_item(run_id, clean, Outcome.UPDATED, user_id, changes))
            else:
                result.unchanged += 1
    if write:
        _flush(writes, result, actor, now)
    return result


def record_keys(raw: Record) -> dict[str, tuple[str, bool]]:
    """The identifier keys of a record as read (``clean_record`` makes the same ones):
    key → (the value, whether it is the primary ID)."""
    primary = str(raw["general"].get("primary_id") or "")
    keys = {identifier_key(primary): (primary, True)}
    for identifier in raw["identifiers"]:
        value = str(identifier.get("value") or "").strip()
        keys.setdefault(identifier_key(value), (value, False))
    keys.pop("", None)
    return keys


def _skip_unchanged(
    pending: list[tuple[int, Record, str]],
    owners: dict[str, tuple[int, bool]],
    profile: ImportProfile,
    rules: str,
    result: ChunkResult,
) -> list[tuple[int, Record, str]]:
    """Count as unchanged, without checking them again, the records that are exactly what a
    sync applied last under the same rules to a user nobody has changed since (its
    ``updated_at``: every action that changes a user or its entries stamps it); the others
    are returned, to be checked and applied in full. A nightly file mostly repeats itself, so
    this is most of a re-sync's records."""
    candidates: dict[int, tuple[int, Record, str]] = {}
    met: set[int] = set()  # users two records match go the full way (one is rejected)
    for item in pending:
        raw = item[1]
        if raw.get("error"):
            continue
        owner = owners.get(identifier_key(str(raw["general"].get("primary_id") or "")))
        if owner is None or not owner[1]:
            continue
        if owner[0] in met:
            candidates.pop(owner[0], None)
        elif all(owners.get(key, (None,))[0] == owner[0] for key in record_keys(raw)):
            candidates[owner[0]] = item
        met.add(owner[0])
    if not candidates:
        return pending
    skipped: set[int] = set()
    rows = User.objects.filter(
        pk__any_of=list(candidates),
        account_type=AccountType.EXTERNAL,
        external_id=profile.code,
        open_for_update=False,
    ).values_list("id", "updated_at", "sis_values__record")
    for user_id, updated_at, stamp in rows:
        position, _, fingerprint = candidates[user_id]
        if stamp == sync_stamp(fingerprint, rules, updated_at):
            skipped.add(position)
            result.unchanged += 1
            result.seen.append(user_id)
    return [item for item in pending if item[0] not in skipped]


def _reject(
    result: ChunkResult,
    run_id: int,
    position: int,
    source: str,
    line: int | None,
    primary_id: str,
    reason: str,
) -> None:
    result.rejected += 1
    result.items.append(
        report_item(run_id, position, source, line, primary_id, Outcome.REJECTED, reason=reason)
    )


def _reject_clean(result: ChunkResult, run_id: int, clean: Clean, reason: str) -> None:
    _reject(result, run_id, clean.position, clean.source, clean.line, clean.primary_id, reason)


def report_item(
    run_id: int,
    position: int,
    source: str,
    line: int | None,
    primary_id: str,
    outcome: str,
    *,
    user_id: int | None = None,
    changes: list[dict[str, Any]] | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """One row of the run's report (``ImportItem``)."""
    return {
        "run_id": run_id,
        "record": position,
        "source": source,
        "line": line,
        "primary_id": primary_id[:255],
        "outcome": outcome,
        "user_id": user_id,
        "changes": changes or [],
        "reason": reason,
    }


def _item(
    run_id: int, clean: Clean, outcome: str, user_id: int | None, changes: list[dict[str, Any]]
) -> dict[str, Any]:
    return report_item(
        run_id,
        clean.position,
        clean.source,
        clean.line,
        clean.primary_id,
        outcome,
        user_id=user_id,
        changes=changes,
    )


# --- matching ----------------------------------------------------------------------------------


def _identifier_owners(keys: set[str]) -> dict[str, tuple[int, bool]]:
    rows = UserIdentifier.objects.filter(key__any_of=keys).values_list(
        "key", "user_id", "is_primary"
    )
    return {key: (user_id, is_primary) for key, user_id, is_primary in rows}


def _match(
    clean: Clean, owners: dict[str, tuple[int, bool]], match_by: str
) -> tuple[int | None, str]:
    """(the matched user or None to create one, the reason to reject instead)."""
    user_id: int | None = None
    by_primary = owners.get(clean.key)
    if by_primary and (by_primary[1] or match_by == MatchBy.ANY_IDENTIFIER):
        user_id = by_primary[0]
    elif by_primary:
        return None, (
            f"The primary ID '{clean.primary_id}' is an identifier of another user; this "
            "profile matches by primary ID only."
        )
    elif match_by == MatchBy.ANY_IDENTIFIER:
        found = {owners[key][0] for key in clean.keys if key in owners}
        if len(found) > 1:
            return None, "The identifiers match several users."
        user_id = next(iter(found), None)
    for key in clean.keys:
        if key in owners and owners[key][0] != user_id:
            value = next(
                (e["value"] for e in clean.entries["identifiers"] if e["key"] == key),
                clean.primary_id,
            )
            return None, f"The identifier '{value}' already belongs to another user."
    return user_id, ""


def _ownership_problem(user: dict[str, Any], profile: ImportProfile) -> str:
    if user["account_type"] != AccountType.EXTERNAL:
        return (
            "This is an internal user: the SIS may not change it (toggle it to external to let "
            "the next sync take it over)."
        )
    if user["external_id"] not in (profile.code, SIS_TEMP):
        return f"This user belongs to another SIS profile ({user['external_id'] or 'none'})."
    return ""


def _load_users(ids: list[int], *, lock: bool) -> dict[int, dict[str, Any]]:
    query = User.objects.filter(pk__any_of=ids).order_by("pk")
    if lock:  # in id order, so that parallel workers never deadlock
        query = query.select_for_update()
    rows = query.values(
        "id",
        *USER_VALUE_FIELDS,
        "account_type",
        "external_id",
        "sis_values",
        "sis_kept_fields",
        "open_for_update",
        "updated_at",
    )
    return {row["id"]: row for row in rows}


def _load_entries(ids: list[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    found: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for kind, model in ENTRY_MODELS.items():
        query = model.objects.filter(user_id__any_of=ids)
        extra: tuple[str, ...] = ("segment_type",)
        if kind == "identifiers":
            query = query.filter(is_primary=False)
            extra = (*extra, "key")
        for row in query.values("id", "user_id", *extra, *ENTRY_FIELDS[kind]):
            found.setdefault(row["user_id"], {}).setdefault(kind, []).append(row)
    return found


def _load_rs_libraries(ids: list[int]) -> dict[int, list[str]]:
    through = User.rs_libraries.through
    found: dict[int, list[str]] = {}
    for user_id, code in through.objects.filter(user_id__any_of=ids).values_list(
        "user_id", "library__code"
    ):
        found.setdefault(user_id, []).append(code)
    return {user_id: sorted(codes) for user_id, codes in found.items()}


# --- planning ----------------------------------------------------------------------------------


def _sis_values(clean: Clean) -> dict[str, Any]:
    values = {name: plain(value) for name, value in clean.general.items()}
    values["pin_number"] = pin_digest(clean.pin)
    return values


def _sort_name(values: dict[str, Any]) -> str:
    last = values.get("pref_last_name") or values["last_name"]
    first = values.get("pref_first_name") or values["first_name"]
    return f"{last} {first}".casefold()[:520]


def _stamp(actor: Actor, now: datetime.datetime) -> dict[str, Any]:
    return {
        "updated_by_id": actor.user.pk if actor.user is not None else None,
        "updated_via": actor.label,
        "last_updated_by_job": actor.job,
        "updated_at": now,
    }


def _plan_create(
    clean: Clean,
    profile: ImportProfile,
    actor: Actor,
    writes: _Writes,
    result: ChunkResult,
    run_id: int,
    now: datetime.datetime,
    rules: str,
) -> None:
    values = {name: clean.general[name] for name in USER_VALUE_FIELDS}
    sis_values = _sis_values(clean)
    stamp = _stamp(actor, now)
    row = {
        **values,
        "account_type": AccountType.EXTERNAL,
        "external_id": profile.code,
        "sis_values": {**sis_values, "record": sync_stamp(clean.fingerprint, rules, now)},
        "status_date": now.date(),
        "sort_name": _sort_name(values),
        "created_at": now,
        "created_by_id": stamp["updated_by_id"],
        "created_via": actor.label,
        **stamp,
        # External users sign in through the institution's identity provider.
        "password": UNUSABLE_PASSWORD,
        "pin_number": stored_pin(clean.pin),
    }
    writes.new_users.append((row, clean))
    changes = [
        {"field": name, "old": None, "new": sis_values[name]}
        for name, value in clean.general.items()
        if value not in ("", None, [])
    ]
    for kind, entries in clean.entries.items():
        if entries:
            changes.append({"field": kind, "old": None, "new": [_shown(kind, e) for e in entries]})
    result.created += 1
    result.items.append(_item(run_id, clean, Outcome.CREATED, None, changes))


def _plan_update(
    clean: Clean,
    user: dict[str, Any],
    entries: dict[str, list[dict[str, Any]]],
    rs_libraries: list[str],
    profile: ImportProfile,
    actor: Actor,
    writes: _Writes,
    now: datetime.datetime,
    rules: str,
) -> list[dict[str, Any]]:
    """Plan the writes that bring a matched user in line with its SIS record; the changes."""
    user_id = user["id"]
    override = set(profile.override_fields)
    kept = set(user["sis_kept_fields"])
    sis_values = _sis_values(clean)
    current = {name: plain(user[name]) for name in USER_VALUE_FIELDS}
    current["rs_libraries"] = rs_libraries
    new: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    for name in SIS_FIELDS:
        wanted = sis_values[name]
        if name in kept and name not in override:
            if current[name] == wanted:
                kept.discard(name)  # staff chose the SIS value: the SIS owns it again
            continue
        if current[name] != wanted:
            new[name] = clean.general[name]
            changes.append({"field": name, "old": current[name], "new": wanted})
    pin_changed = sis_values["pin_number"] != user["sis_values"].get("pin_number", "") and (
        "pin_number" not in kept or "pin_number" in override
    )
    if pin_changed:
        changes.append({"field": "pin_number", "old": MASKED, "new": MASKED})
    if changes:
        merged = {
            **{name: user[name] for name in USER_VALUE_FIELDS},
            "rs_libraries": rs_libraries,
            **new,
        }
        errors = Errors()
        check_record_rules(merged, settings=current_settings(), errors=errors)
        if errors:
            raise Rejected(_errors_text(errors))
    entry_changes = _plan_entries(user_id, clean, entries, writes, now)
    changes.extend(entry_changes)

    update: dict[str, Any] = {k: v for k, v in new.items() if k != "rs_libraries"}
    if "rs_libraries" in new:
        writes.rs_libraries[user_id] = new["rs_libraries"]
    if pin_changed:
        update["pin_number"] = stored_pin(clean.pin)
    if "primary_id" in new:
        writes.primary_ids.append((user_id, clean.primary_id, clean.key))
    if "status" in new:
        update["status_date"] = now.date()
        if new["status"] == UserStatus.INACTIVE:
            writes.deactivated.append(user_id)
    if any(name in new for name in NAME_FIELDS):
        names = {name: new.get(name, user[name]) for name in NAME_FIELDS}
        update["sort_name"] = _sort_name(names)
        writes.retokenise[user_id] = update["sort_name"]
    if user["external_id"] != profile.code:
        update["external_id"] = profile.code
        changes.append({"field": "external_id", "old": user["external_id"], "new": profile.code})
    # Bookkeeping that is not a change staff would see: the SIS values behind "original
    # value" and the stamp that lets the next sync skip this record if nothing changes, the
    # fields staff still keep, and the end of an Open for Update.
    sis_values["record"] = sync_stamp(
        clean.fingerprint, rules, now if changes else user["updated_at"]
    )
    if sis_values != user["sis_values"]:
        update["sis_values"] = sis_values
    if kept != set(user["sis_kept_fields"]):
        update["sis_kept_fields"] = sorted(kept)
    if user["open_for_update"]:
        update["open_for_update"] = False
    if changes:
        update.update(_stamp(actor, now))
        writes.events.append(
            event(
                actor=actor,
                verb="user.synced",
                object_type="user",
                object_id=str(user_id),
                subject_id=user_id,
                changes=changes,
            )
        )
    if update:
        writes.user_updates.append((user_id, update))
    return changes


def _plan_entries(
    user_id: int,
    clean: Clean,
    current: dict[str, list[dict[str, Any]]],
    writes: _Writes,
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    changes = []
    for kind in ENTRY_MODELS:
        have = current.get(kind, [])
        external = [e for e in have if e["segment_type"] == Segment.EXTERNAL]
        internal = [e for e in have if e["segment_type"] != Segment.EXTERNAL]
        wanted = [dict(e) for e in clean.entries[kind]]
        adopted: list[tuple[dict[str, Any], dict[str, Any]]] = []
        if kind in ADOPTED_BY:
            same = ADOPTED_BY[kind]
            by_value = {tuple(e[n] for n in same): e for e in internal}
            for entry in wanted:
                if (match := by_value.get(tuple(entry[n] for n in same))) is not None:
                    adopted.append((match, entry))
        unpreferred: list[dict[str, Any]] = []
        if kind in CONTACT_KINDS and wanted:
            if any(e["preferred"] for e in wanted):
                unpreferred = [e for e in internal if e["preferred"]]
            elif not any(e["preferred"] for e in internal):
                wanted[0]["preferred"] = True
        to_create = [e for e in wanted if all(e is not new for _, new in adopted)]
        if (
            not adopted
            and not unpreferred
            and sorted(_canon(kind, e) for e in external)
            == sorted(_canon(kind, e) for e in to_create)
        ):
            continue
        writes.delete.setdefault(kind, []).extend(e["id"] for e in external)
        writes.create.setdefault(kind, []).extend(
            _entry_row(kind, user_id, e, now) for e in to_create
        )
        for old, new in adopted:
            writes.segment_changes.setdefault(kind, []).append(
                (old["id"], {"segment_type": Segment.EXTERNAL, **_entry_values(kind, new)})
            )
        for old in unpreferred:
            writes.segment_changes.setdefault(kind, []).append((old["id"], {"preferred": False}))
        before = [_shown(kind, e) for e in have]
        after = [_shown(kind, e) for e in internal if all(e is not o for o, _ in adopted)]
        after += [_shown(kind, new) for _, new in adopted] + [_shown(kind, e) for e in to_create]
        changes.append({"field": kind, "old": before, "new": after})
    return changes


def _entry_row(
    kind: str, user_id: int, entry: dict[str, Any], now: datetime.datetime
) -> dict[str, Any]:
    row = {"user_id": user_id, "segment_type": Segment.EXTERNAL, **_entry_values(kind, entry)}
    if kind in ("notes", "statistics", "blocks"):
        row["created_at"] = now
    return row


def _entry_values(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    values = {name: entry.get(name) for name in ENTRY_FIELDS[kind]}
    if kind in ("identifiers", "email"):
        values["key"] = entry["key"]
    if kind == "blocks":
        values["status"] = BlockStatus.ACTIVE
    return {k: ("" if v is None and k not in NULL_DATES else v) for k, v in values.items()}


# --- writing -----------------------------------------------------------------------------------


def _flush(writes: _Writes, result: ChunkResult, actor: Actor, now: datetime.datetime) -> None:
    if writes.new_users:
        _create_users(writes, result, actor, now)
    update_rows(User, writes.user_updates)
    for user_id, value, key in writes.primary_ids:
        UserIdentifier.objects.filter(user_id=user_id, is_primary=True).update(value=value, key=key)
    for kind, ids in writes.delete.items():
        if ids:
            ENTRY_MODELS[kind].objects.filter(pk__any_of=ids).delete()
    for kind, changed in writes.segment_changes.items():
        update_rows(ENTRY_MODELS[kind], changed)
    for kind, rows in writes.create.items():
        insert_rows(ENTRY_MODELS[kind], rows)
    if writes.retokenise:
        UserNameToken.objects.filter(user_id__any_of=list(writes.retokenise)).delete()
        names = User.objects.filter(pk__any_of=list(writes.retokenise)).values("id", *NAME_FIELDS)
        insert_rows(
            UserNameToken,
            [
                {"user_id": row["id"], "token": token, "sort_name": writes.retokenise[row["id"]]}
                for row in names
                for token in sorted(name_tokens(*(row[n] for n in NAME_FIELDS)))
            ],
        )
    if writes.rs_libraries:
        _set_rs_libraries(writes.rs_libraries)
    for user_id in writes.deactivated:
        # Marking a user inactive blocks the account: its sessions and API keys end.
        end_sessions(User.objects.get(pk=user_id))
    record_many(writes.events)


def _create_users(
    writes: _Writes, result: ChunkResult, actor: Actor, now: datetime.datetime
) -> None:
    ids = insert_rows(User, [row for row, _ in writes.new_users], returning_ids=True)
    by_position = {item["record"]: item for item in result.items}
    creates: dict[str, list[dict[str, Any]]] = {kind: [] for kind in ENTRY_MODELS}
    tokens: list[dict[str, Any]] = []
    libraries: dict[int, list[str]] = {}
    for user_id, (row, clean) in zip(ids, writes.new_users, strict=True):
        item = by_position[clean.position]
        item["user_id"] = user_id
        result.seen.append(user_id)
        creates["identifiers"].append(
            {
                "user_id": user_id,
                "id_type": "PRIMARY",
                "value": clean.primary_id,
                "key": clean.key,
                "is_primary": True,
                "segment_type": Segment.EXTERNAL,
            }
        )
        for kind, entries in clean.entries.items():
            if kind in CONTACT_KINDS and entries and not any(e["preferred"] for e in entries):
                entries[0]["preferred"] = True
            creates[kind].extend(_entry_row(kind, user_id, e, now) for e in entries)
        tokens.extend(
            {"user_id": user_id, "token": token, "sort_name": row["sort_name"]}
            for token in sorted(name_tokens(*(row[n] for n in NAME_FIELDS)))
        )
        if clean.general["rs_libraries"]:
            libraries[user_id] = clean.general["rs_libraries"]
        writes.events.append(
            event(
                actor=actor,
                verb="user.created",
                object_type="user",
                object_id=str(user_id),
                subject_id=user_id,
                changes=item["changes"],
            )
        )
    for kind, rows in creates.items():
        insert_rows(ENTRY_MODELS[kind], rows)
    insert_rows(UserNameToken, tokens)
    if libraries:
        _set_rs_libraries(libraries, fresh=True)


def _set_rs_libraries(wanted: dict[int, list[str]], *, fresh: bool = False) -> None:
    through = User.rs_libraries.through
    ids = dict(Library.objects.values_list("code", "id"))
    if not fresh:
        through.objects.filter(user_id__any_of=list(wanted)).delete()
    insert_rows(
        through,
        [
            {"user_id": user_id, "library_id": ids[code]}
            for user_id, codes in wanted.items()
            for code in codes
        ],
    )


def deactivate_missing(
    *,
    user_ids: list[int],
    profile: ImportProfile,
    actor: Actor,
    run_id: int,
    write: bool,
    expiry: datetime.date,
) -> list[dict[str, Any]]:
    """Apply the profile's rule to users a full sync did not mention (set inactive or expire)."""
    items, events = [], []
    rows = User.objects.filter(pk__any_of=user_ids).order_by("pk")
    if write:
        rows = rows.select_for_update()
    today = timezone.localdate()
    for row in rows.values("id", "primary_id", "status", "expiry_date", "purge_date"):
        if profile.missing_action == MissingAction.INACTIVE:
            if row["status"] == UserStatus.INACTIVE:
                continue
            update = {"status": UserStatus.INACTIVE, "status_date": today}
            changes = [{"field": "status", "old": row["status"], "new": UserStatus.INACTIVE}]
        else:
            if row["expiry_date"] is not None and row["expiry_date"] <= expiry:
                continue
            update = {"expiry_date": expiry}
            if row["purge_date"] is not None and row["purge_date"] < expiry:
                update["purge_date"] = expiry
            changes = [
                {"field": name, "old": plain(row[name]), "new": plain(value)}
                for name, value in update.items()
            ]
        items.append(
            report_item(
                run_id,
                0,
                "",
                None,
                row["primary_id"],
                Outcome.DEACTIVATED,
                user_id=row["id"],
                changes=changes,
                reason=MISSING,
            )
        )
        if write:
            User.objects.filter(pk=row["id"]).update(**update, **_stamp(actor, timezone.now()))
            if update.get("status") == UserStatus.INACTIVE:
                end_sessions(User.objects.get(pk=row["id"]))
            events.append(
                event(
                    actor=actor,
                    verb="user.synced",
                    object_type="user",
                    object_id=str(row["id"]),
                    subject_id=row["id"],
                    changes=changes,
                    reason=MISSING,
                )
            )
    if write:
        record_many(events)
    return items
