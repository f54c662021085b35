"""Editing and messaging users in bulk (seed 002, "Editing/Messaging Users in Bulk").

A bulk update is the same kind of job as an SIS import (``ImportRun``, kind ``bulk_update``,
its selection and operation in ``parameters``) and goes through the same steps:

1. ``start_bulk``: check the selection and the operation, create the run (``preparing``).
2. ``read_bulk``: resolve the selection into users, stored as chunks of ``CHUNK_SIZE``: a
   saved search is evaluated now, with the runner's view of users; an uploaded list of IDs
   (primary IDs, or any identifier) is matched, and IDs that find nobody become rejected
   report rows. A killed read resumes after the last stored chunk.
3. ``apply_bulk``: each pending chunk in one transaction. Every user goes through the very
   action a single edit calls (``accounts.actions.update_user``, ``add_note``, ``add_block``,
   ``accounts.mail.send_general_mail``), inside a savepoint: the same validation, external
   fields of external users only when open for update, restricted users only for staff
   allowed to edit them, notes and blocks only for libraries in the runner's scope. A
   refusal rejects that user with the action's message; the rest of the chunk is applied.
   The audit events (channel ``job``, job ``bulk_update-N``), report rows, counters and the
   chunk's "done" mark commit together, so a killed run resumes with nothing lost or doubled.

A **dry run** applies each user's change inside a savepoint that is then rolled back: the
report says exactly what would change or be refused, and nothing is written (nor sent).
E-mails are handed to the mail server when their chunk commits.
"""

from __future__ import annotations

import datetime
import itertools
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_tasks import task

from patronage.access.checks import require
from patronage.access.permissions import Permission
from patronage.accounts import actions as accounts
from patronage.accounts import mail
from patronage.accounts.choices import AccountType, CodeTable, RecordType
from patronage.accounts.models import User, UserIdentifier, UserNote, identifier_key
from patronage.accounts.selectors import (
    SearchField,
    StatusFilter,
    UserSearch,
    search_users,
    visible_users,
)
from patronage.accounts.validation import (
    GENERAL_FIELDS,
    Errors,
    cached_tables,
    clean_general,
    code_entries,
    parse_bool,
    parse_date,
)
from patronage.audit.actions import diff, record
from patronage.audit.context import Actor, Channel
from patronage.errors import Conflict, DomainError, NotFound, ValidationFailed
from patronage.organization.models import Library

from .actions import CHUNK_SIZE, COUNTERS, Progress, _store_chunk, next_pending_chunk
from .models import ImportChunk, ImportItem, ImportRun, Outcome, RunKind, RunStatus, SavedSearch

# General fields a bulk update may set (Alma's "Update/Notify Users" job: user group, dates,
# status, campus, resource sharing, ...). Names and identifiers are per person, never bulk.
BULK_FIELDS = (
    "user_group",
    "job_category",
    "campus_code",
    "preferred_language",
    "cataloger_level",
    "library_notices",
    "rs_libraries",
    "status",
    "expiry_date",
    "purge_date",
)
OPERATIONS = {
    "set_field": "Set a field",
    "add_note": "Add a note",
    "add_block": "Add a block",
    "send_email": "Send an e-mail",
}
MATCH_BY = {"primary_id": "Primary ID", "any_identifier": "Primary ID or any identifier"}
MAX_IDS = 100_000
ID_MAX_LENGTH = 255
# The Find and Manage Users filters a saved search keeps (``accounts.selectors.UserSearch``).
FILTER_CHOICES: dict[str, tuple[str, ...]] = {
    "field": SearchField.CHOICES,
    "record_type": ("", *RecordType.values),
    "account_type": ("", *AccountType.values),
    "status": StatusFilter.CHOICES,
}
FILTER_TEXT = ("query", "user_group", "job_category", "role")
FILTERS = (*FILTER_TEXT, *FILTER_CHOICES)


# --- saved searches ------------------------------------------------------------------------------


def visible_searches(viewer: User | None) -> QuerySet[SavedSearch]:
    """A staff user's own saved searches; the trusted operator (no user) sees them all."""
    searches = SavedSearch.objects.select_related("owner")
    return searches if viewer is None else searches.filter(owner=viewer)


def get_search(viewer: User | None, search_id: int | str) -> SavedSearch:
    search = (
        visible_searches(viewer).filter(pk=int(search_id)).first()
        if str(search_id).isdigit()
        else None
    )
    if search is None:
        raise NotFound(f"You have no saved search {search_id}.", code="saved_search_not_found")
    return search


def find_search(viewer: User | None, id_or_name: str) -> SavedSearch:
    """By id, or by name among the viewer's own (the CLI's ``--search``)."""
    if str(id_or_name).isdigit():
        return get_search(viewer, id_or_name)
    found = list(visible_searches(viewer).filter(name=id_or_name)[:2])
    if len(found) != 1:
        raise NotFound(
            f"You have no saved search named '{id_or_name}'"
            + (" (several users have one: give its id)." if found else "."),
            code="saved_search_not_found",
        )
    return found[0]


def clean_filters(filters: Mapping[str, Any]) -> dict[str, str]:
    """The filters of a saved search, checked like the search form checks them."""
    errors = Errors()
    cleaned: dict[str, str] = {}
    for name, value in filters.items():
        text = "" if value is None else str(value).strip()
        if name not in FILTERS:
            errors.add(name, f"'{name}' is not a filter of the user search.")
        elif name in FILTER_CHOICES and text not in FILTER_CHOICES[name]:
            allowed = ", ".join(choice for choice in FILTER_CHOICES[name] if choice)
            errors.add(name, f"'{text}' is not one of {allowed}.")
        elif len(text) > 200:
            errors.add(name, "At most 200 characters.")
        elif text:
            cleaned[name] = text
    errors.raise_if_any()
    return cleaned


@transaction.atomic
def save_search(
    *, actor: Actor, name: str, filters: Mapping[str, Any], search: SavedSearch | None = None
) -> SavedSearch:
    """Add a saved search of the acting staff user, or change one of theirs."""
    require(actor, Permission.USERS_BULK_UPDATE)
    if actor.user is None:
        raise ValidationFailed(
            {"owner": "A saved search belongs to a staff user: run the command with --as."},
            code="no_owner",
        )
    name = (name or "").strip()
    errors = Errors()
    if not name:
        errors.add("name", "Enter the name of the search.")
    elif len(name) > 100:
        errors.add("name", "A name has at most 100 characters.")
    owner = search.owner if search is not None else actor.user
    same_name = SavedSearch.objects.filter(owner=owner, name=name)
    if search is not None:
        same_name = same_name.exclude(pk=search.pk)
    if name and same_name.exists():
        errors.add("name", f"You already have a saved search named '{name}'.")
    errors.raise_if_any()
    cleaned = clean_filters(filters)
    before = {"name": search.name, "filters": search.filters} if search else {}
    search = search or SavedSearch(owner=owner)
    search.name, search.filters = name, cleaned
    search.save()
    record(
        actor=actor,
        verb="saved_search.saved",
        obj=search,
        changes=diff(before, {"name": search.name, "filters": search.filters}),
    )
    return search


@transaction.atomic
def delete_search(*, actor: Actor, search: SavedSearch) -> None:
    require(actor, Permission.USERS_BULK_UPDATE)
    record(actor=actor, verb="saved_search.deleted", obj=search, details={"name": search.name})
    search.delete()


def _search_of(filters: Mapping[str, str]) -> UserSearch:
    # Sorted by primary ID, not by name: a name search sorted by name lists only the first
    # NAME_MATCH_LIMIT matches, which is right for a screen and wrong for a job.
    return UserSearch(**filters, sort="primary_id")


# --- checking a job before it starts -------------------------------------------------------------


def _checked_value(field: str, raw: Any) -> Any:
    """The value as the user record's validation reads it. Code values may be limited to
    some record types: accepted here if any record type allows them (each user is checked
    against its own when the run applies the change)."""
    first: Errors | None = None
    for record_type in RecordType.values:
        errors = Errors()
        value = clean_general({field: raw}, record_type=record_type, errors=errors).get(field)
        if not errors:
            return value.isoformat() if isinstance(value, datetime.date) else value
        first = first or errors
    raise ValidationFailed({"value": next(iter((first or {}).values()))}, code="bad_operation")


def _known_code(errors: Errors, field: str, label: str, table: str, code: str) -> None:
    if not code:
        errors.add(field, f"Choose the {label.lower()}.")
    elif code not in code_entries(table):
        errors.add(field, f"{label}: '{code}' is not a known value.")


def _owner_id(errors: Errors, actor: Actor, raw: Any, permission: Permission) -> int | None:
    """The owning library: known, and within the runner's scope (checked again per user)."""
    if raw in (None, ""):
        return None
    library = Library.objects.filter(pk=raw).first() if str(raw).isdigit() else None
    if library is None:
        library = Library.objects.filter(code=str(raw)).first()
    if library is None:
        errors.add("owner", f"'{raw}' is not a library.")
        return None
    try:  # the check add_note/add_block make per user, made once before the run
        accounts._check_owner_in_scope(actor, UserNote(owner=library), permission)
    except ValidationFailed as exc:
        errors.add("owner", exc.errors["owner"])
    return library.pk


def clean_operation(actor: Actor, operation: Mapping[str, Any]) -> dict[str, Any]:
    """The operation as the run keeps it; 403 without the permission it needs, 422 if wrong."""
    kind = str(operation.get("type") or "")
    errors = Errors()
    if kind not in OPERATIONS:
        raise ValidationFailed(
            {"type": f"Choose what to do: {', '.join(OPERATIONS)}."}, code="bad_operation"
        )
    if kind == "set_field":
        require(actor, Permission.USERS_EDIT)
        field = str(operation.get("field") or "")
        if field not in BULK_FIELDS:
            labels = ", ".join(GENERAL_FIELDS[name].label for name in BULK_FIELDS)
            raise ValidationFailed(
                {"field": f"Choose the field to set: {labels}."}, code="bad_operation"
            )
        raw = operation.get("value")
        if GENERAL_FIELDS[field].kind in ("codes", "libraries") and isinstance(raw, str):
            raw = raw.replace(";", ",").split(",")
        return {"type": kind, "field": field, "value": _checked_value(field, raw)}
    if kind == "add_note":
        require(actor, Permission.USERS_EDIT)
        note_type = str(operation.get("note_type") or "")
        _known_code(errors, "note_type", "Note type", CodeTable.NOTE_TYPE, note_type)
        text = str(operation.get("text") or "").strip()
        if not text:
            errors.add("text", "Enter the text of the note.")
        owner = _owner_id(errors, actor, operation.get("owner"), Permission.USERS_EDIT)
        errors.raise_if_any()
        return {
            "type": kind,
            "note_type": note_type,
            "text": text,
            "user_viewable": parse_bool(operation.get("user_viewable", False)),
            "popup": parse_bool(operation.get("popup", False)),
            "owner": owner,
        }
    if kind == "add_block":
        require(actor, Permission.USERS_MANAGE_BLOCKS)
        block_type = str(operation.get("block_type") or "")
        _known_code(errors, "block_type", "Block type", CodeTable.BLOCK_TYPE, block_type)
        try:
            expiry = parse_date(operation.get("expiry_date"))
        except (TypeError, ValueError):
            errors.add("expiry_date", "Not a valid date (use YYYY-MM-DD).")
            expiry = None
        owner = _owner_id(errors, actor, operation.get("owner"), Permission.USERS_MANAGE_BLOCKS)
        errors.raise_if_any()
        return {
            "type": kind,
            "block_type": block_type,
            "note": str(operation.get("note") or "").strip(),
            "expiry_date": expiry.isoformat() if expiry else None,
            "owner": owner,
        }
    require(actor, Permission.USERS_EMAIL)
    subject, body = str(operation.get("subject") or ""), str(operation.get("body") or "")
    mail.check_message(subject, body)
    return {"type": kind, "subject": subject.strip(), "body": body}


def clean_ids(raw: Any) -> list[str]:
    """An uploaded or typed list of IDs: one per line (or separated by commas); blank lines
    and surrounding spaces ignored."""
    if isinstance(raw, str):
        raw = raw.replace(",", "\n").splitlines()
    ids = [str(value).strip() for value in raw or [] if str(value).strip()]
    if not ids:
        raise ValidationFailed({"ids": "Give at least one ID."}, code="no_ids")
    if len(ids) > MAX_IDS:
        raise ValidationFailed(
            {"ids": f"At most {MAX_IDS:,} IDs per run (this list has {len(ids):,})."},
            code="too_many_ids",
        )
    if too_long := next((value for value in ids if len(value) > ID_MAX_LENGTH), None):
        raise ValidationFailed(
            {"ids": f"'{too_long[:40]}…' is longer than an ID can be ({ID_MAX_LENGTH})."},
            code="bad_ids",
        )
    return ids


def _store_ids(ids: list[str]) -> str:
    directory = Path(settings.MEDIA_ROOT) / "sis" / "bulk" / uuid.uuid4().hex
    directory.mkdir(parents=True)
    path = directory / "ids.txt"
    path.write_text("\n".join(ids) + "\n", encoding="utf-8")
    return str(path)


# --- runs ----------------------------------------------------------------------------------------


@transaction.atomic
def start_bulk(
    *,
    actor: Actor,
    operation: Mapping[str, Any],
    saved_search: int | str | None = None,
    ids: Any = None,
    match_by: str = "primary_id",
    dry_run: bool = False,
) -> ImportRun:
    """Check the selection (a saved search of the actor's, or a list of IDs) and the
    operation, and create the run; ``enqueue_bulk`` or ``execute_bulk`` then carries it out."""
    require(actor, Permission.USERS_BULK_UPDATE)
    if (saved_search in (None, "")) == (ids is None):
        raise ValidationFailed(
            {"selection": "Choose a saved search or give a list of IDs (one of the two)."},
            code="bad_selection",
        )
    cleaned = clean_operation(actor, operation)
    files: list[str] = []
    if ids is not None:
        if match_by not in MATCH_BY:
            raise ValidationFailed(
                {"match_by": "Match by primary_id or any_identifier."}, code="bad_selection"
            )
        id_list = clean_ids(ids)
        selection: dict[str, Any] = {"ids": len(id_list), "match_by": match_by}
        files = [_store_ids(id_list)]
    else:
        search = get_search(actor.user, saved_search or "")
        selection = {"saved_search": search.pk, "name": search.name, "filters": search.filters}
    run = ImportRun.objects.create(
        kind=RunKind.BULK_UPDATE,
        files=files,
        dry_run=dry_run,
        parameters={"selection": selection, "operation": cleaned},
        started_by=actor.user,
        started_by_label=actor.label,
    )
    shown = {k: v for k, v in cleaned.items() if k not in ("text", "body", "note")}
    record(
        actor=actor,
        verb="bulk_run.started",
        obj=run,
        details={"selection": selection, "operation": shown, "dry_run": dry_run},
    )
    return run


def visible_runs(viewer: User | None) -> QuerySet[ImportRun]:
    """Bulk runs the viewer started (the trusted operator: all): their reports list users."""
    runs = ImportRun.objects.filter(kind=RunKind.BULK_UPDATE)
    return runs if viewer is None else runs.filter(started_by=viewer)


def get_bulk_run(viewer: User | None, run_id: int) -> ImportRun:
    run = visible_runs(viewer).filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"You have no bulk run {run_id}.", code="run_not_found")
    return run


def job_actor(run: ImportRun) -> Actor:
    """Whoever started the run, with their permissions now, under the run's job id."""
    return Actor(user=run.started_by, channel=Channel.JOB, job=run.job)


def enqueue_bulk(*, run: ImportRun) -> None:
    """Hand the run to the task worker once the transaction that created it commits."""
    transaction.on_commit(lambda: run_bulk_update.enqueue(run.pk))


@transaction.atomic
def resume_bulk(*, actor: Actor, run_id: int) -> ImportRun:
    """Hand an interrupted run to the task worker again (it carries on where it stopped)."""
    require(actor, Permission.USERS_BULK_UPDATE)
    run = get_bulk_run(actor.user, run_id)
    if run.finished:
        raise Conflict(
            f"Run {run.pk} is already {run.get_status_display().lower()}.", code="run_finished"
        )
    record(actor=actor, verb="bulk_run.resumed", obj=run)
    enqueue_bulk(run=run)
    return run


def execute_bulk(
    *, run_id: int, reading: Progress | None = None, applying: Progress | None = None
) -> ImportRun:
    """Read then apply (the CLI and the background task); safe to call again to resume."""
    read_bulk(run_id=run_id, progress=reading)
    return apply_bulk(run_id=run_id, progress=applying)


@task()
def run_bulk_update(run_id: int) -> dict[str, object]:
    """The background job (``patronage db_worker``); running it again resumes the run."""
    try:
        run = execute_bulk(run_id=run_id)
    except DomainError:  # the selection could not be read: the run failed, its error says why
        run = ImportRun.objects.get(pk=run_id)
    return {"status": run.status, **{name: getattr(run, name) for name in COUNTERS}}


# --- reading the selection -----------------------------------------------------------------------

Record = tuple[int, dict[str, Any]]


def read_bulk(*, run_id: int, progress: Progress | None = None) -> ImportRun:
    """Resolve the selection into stored chunks of users (resumes after the last one)."""
    run = ImportRun.objects.select_related("started_by").get(pk=run_id, kind=RunKind.BULK_UPDATE)
    if run.status != RunStatus.PREPARING:
        return run
    seq = run.chunks.count()
    try:
        records = _selected(run)
        while batch := list(itertools.islice(records, CHUNK_SIZE)):
            _store_chunk(run, seq, batch)
            seq += 1
            if progress:
                progress(len(batch))
    except DomainError as exc:
        _fail(run, exc.message)
        raise
    ImportRun.objects.filter(pk=run.pk, status=RunStatus.PREPARING).update(
        status=RunStatus.RUNNING, chunks_total=seq
    )
    run.refresh_from_db()
    return run


def _selected(run: ImportRun) -> Iterator[Record]:
    selection = run.parameters["selection"]
    if "saved_search" in selection:
        return _searched(run, selection)
    return _listed(run, selection["match_by"])


def _searched(run: ImportRun, selection: Mapping[str, Any]) -> Iterator[Record]:
    """The users the saved search finds now, by id; after a crash, those after the last
    one stored (ids only grow, so nobody is taken twice)."""
    search = SavedSearch.objects.select_related("owner").filter(pk=selection["saved_search"])
    found = search.first()
    if found is None:
        raise NotFound(
            f"The saved search '{selection['name']}' was deleted.", code="saved_search_not_found"
        )
    # The runner's view of users; a run of the trusted operator sees what the owner sees.
    viewer = run.started_by or found.owner
    users = search_users(viewer, _search_of(found.filters)).order_by("pk")
    last = _last_user_id(run)
    if last is not None:
        users = users.filter(pk__gt=last)
    rows = users.values_list("pk", "primary_id").iterator(chunk_size=CHUNK_SIZE)
    for position, (user_id, primary_id) in enumerate(rows, start=run.records_read + 1):
        yield position, {"user_id": user_id, "given": primary_id}


def _last_user_id(run: ImportRun) -> int | None:
    """The last user stored by an interrupted read (reading ends before applying starts, so
    every stored chunk still holds its records)."""
    chunk = run.chunks.order_by("-seq").first()
    if chunk is None or chunk.payload is None:
        return None
    return max(data["user_id"] for _, data in orjson.loads(zlib.decompress(bytes(chunk.payload))))


def _listed(run: ImportRun, match_by: str) -> Iterator[Record]:
    """The uploaded IDs in order, each with the user it finds (or none: rejected later)."""
    viewer = run.started_by
    with open(run.files[0], encoding="utf-8") as lines:
        numbered = ((n, line.strip()) for n, line in enumerate(lines, start=1) if line.strip())
        position = 0
        while batch := list(itertools.islice(numbered, CHUNK_SIZE)):
            if position + len(batch) <= run.records_read:
                position += len(batch)
                continue
            found = _match(viewer, [value for _, value in batch], match_by)
            for line, value in batch:
                position += 1
                if position > run.records_read:
                    yield (
                        position,
                        {
                            "user_id": found.get(identifier_key(value)),
                            "given": value,
                            "line": line,
                        },
                    )


def _match(viewer: User | None, values: list[str], match_by: str) -> dict[str, int]:
    """Identifier key → user id, among the users the viewer may see: one query."""
    matches = UserIdentifier.objects.filter(key__any_of={identifier_key(v) for v in values})
    if match_by == "primary_id":
        matches = matches.filter(is_primary=True)
    if viewer is not None:
        matches = matches.filter(user__in=visible_users(viewer).values("pk"))
    return dict(matches.values_list("key", "user_id"))


@transaction.atomic
def _fail(run: ImportRun, error: str) -> None:
    run.chunks.all().delete()
    ImportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, error=error, finished_at=timezone.now()
    )
    record(actor=job_actor(run), verb="bulk_run.failed", obj=run, reason=error)


# --- applying ------------------------------------------------------------------------------------

Change = list[dict[str, Any]]


def _set_field(
    actor: Actor, user: User, op: Mapping[str, Any], run: ImportRun
) -> tuple[str, Change]:
    field = op["field"]
    before = _value_of(user, field)
    user = accounts.update_user(
        actor=actor, user=user, fields={field: op["value"]}, reason=f"Bulk update {run.job}"
    )
    changes = diff({field: before}, {field: _value_of(user, field)})
    return (Outcome.UPDATED if changes else "unchanged"), changes


def _value_of(user: User, field: str) -> Any:
    if field == "rs_libraries":
        return sorted(user.rs_libraries.values_list("code", flat=True))
    return getattr(user, field)


def _add_note(
    actor: Actor, user: User, op: Mapping[str, Any], run: ImportRun
) -> tuple[str, Change]:
    note = accounts.add_note(
        actor=actor,
        user=user,
        note_type=op["note_type"],
        text=op["text"],
        user_viewable=op["user_viewable"],
        popup=op["popup"],
        owner=op["owner"],
    )
    return Outcome.UPDATED, [{"field": "notes", "old": None, "new": note.text}]


def _add_block(
    actor: Actor, user: User, op: Mapping[str, Any], run: ImportRun
) -> tuple[str, Change]:
    block = accounts.add_block(
        actor=actor,
        user=user,
        block_type=op["block_type"],
        note=op["note"],
        expiry_date=op["expiry_date"],
        owner=op["owner"],
    )
    return Outcome.UPDATED, [{"field": "blocks", "old": None, "new": block.block_type}]


def _send_email(
    actor: Actor, user: User, op: Mapping[str, Any], run: ImportRun
) -> tuple[str, Change]:
    address = mail.send_general_mail(actor=actor, user=user, subject=op["subject"], body=op["body"])
    return Outcome.SENT, [{"field": "email", "old": None, "new": address}]


APPLY: dict[str, Callable[[Actor, User, Mapping[str, Any], ImportRun], tuple[str, Change]]] = {
    "set_field": _set_field,
    "add_note": _add_note,
    "add_block": _add_block,
    "send_email": _send_email,
}


class _DryRun(Exception):
    """Rolls a dry run's savepoint back, carrying what the change would have been."""

    def __init__(self, outcome: str, changes: Change):
        super().__init__(outcome)
        self.outcome, self.changes = outcome, changes


def apply_bulk(*, run_id: int, progress: Progress | None = None) -> ImportRun:
    """Apply pending chunks until none is left, then finish the run. Several processes may
    call this for the same run at once: each takes chunks the others have not locked."""
    run = ImportRun.objects.select_related("started_by").get(pk=run_id, kind=RunKind.BULK_UPDATE)
    if run.status != RunStatus.RUNNING:
        return run
    actor = job_actor(run)
    with cached_tables():
        while (size := _apply_next_chunk(run, actor)) is not None:
            if progress:
                progress(size)
    return _finish(run_id)


def _apply_next_chunk(run: ImportRun, actor: Actor) -> int | None:
    with transaction.atomic():
        chunk = next_pending_chunk(run)
        if chunk is None:
            return None
        counts = {"updated": 0, "unchanged": 0, "rejected": 0}
        items = []
        for position, data in orjson.loads(zlib.decompress(bytes(chunk.payload or b""))):
            item = _apply_one(run, actor, position, data)
            if item.outcome == "unchanged":
                counts["unchanged"] += 1
                continue  # only counted, as in an import's report
            counts["rejected" if item.outcome == Outcome.REJECTED else "updated"] += 1
            items.append(item)
        ImportItem.objects.bulk_create(items, batch_size=500)
        ImportChunk.objects.filter(pk=chunk.pk).update(done=True, payload=None)
        ImportRun.objects.filter(pk=run.pk).update(
            records_done=F("records_done") + chunk.size,
            **{name: F(name) + value for name, value in counts.items()},
        )
        return chunk.size


def _apply_one(run: ImportRun, actor: Actor, position: int, data: Mapping[str, Any]) -> ImportItem:
    item = ImportItem(
        run=run,
        record=position,
        line=data.get("line"),
        primary_id=str(data["given"])[:ID_MAX_LENGTH],
        user_id=data["user_id"],
        outcome=Outcome.REJECTED,
    )
    user = User.objects.filter(pk=data["user_id"]).first() if data["user_id"] else None
    if user is None:
        item.reason = (
            "No user has this ID (or you may not see them)."
            if data["user_id"] is None
            else "This user no longer exists."
        )
        return item
    item.primary_id = user.primary_id
    operation = run.parameters["operation"]
    try:
        with transaction.atomic():
            outcome, changes = APPLY[operation["type"]](actor, user, operation, run)
            if run.dry_run:
                raise _DryRun(outcome, changes)
    except _DryRun as dry:
        outcome, changes = dry.outcome, dry.changes
    except ValidationFailed as exc:
        item.reason = " ".join(exc.errors.values())
        return item
    except DomainError as exc:  # no permission (any more), restricted for editing, ...
        item.reason = exc.message
        return item
    item.outcome, item.changes = outcome, changes
    return item


def _finish(run_id: int) -> ImportRun:
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.chunks.filter(done=False).exists():
            return run
        run.status = RunStatus.FINISHED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        record(
            actor=job_actor(run),
            verb="bulk_run.finished",
            obj=run,
            details={name: getattr(run, name) for name in COUNTERS},
        )
        return run


def operation_text(run: ImportRun) -> str:
    """One line saying what the run does, for lists and reports."""
    operation = run.parameters.get("operation", {})
    kind = operation.get("type", "")
    if kind == "set_field":
        value = operation["value"]
        shown = ", ".join(value) if isinstance(value, list) else (value or "(empty)")
        return f"Set {GENERAL_FIELDS[operation['field']].label.lower()} to {shown}"
    if kind == "add_note":
        return f"Add a {operation['note_type']} note"
    if kind == "add_block":
        return f"Add a {operation['block_type']} block"
    if kind == "send_email":
        return f"E-mail “{operation['subject']}”"
    return ""


def selection_text(run: ImportRun) -> str:
    selection = run.parameters.get("selection", {})
    if "saved_search" in selection:
        return f"Saved search “{selection['name']}”"
    if "ids" in selection:
        return f"{selection['ids']} IDs ({MATCH_BY[selection['match_by']].lower()})"
    return ""
