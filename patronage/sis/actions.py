"""Writers of the SIS app: import profiles, and import runs from reading to report.

A run goes through three steps, each safe to repeat after a crash:

1. ``start_import``: check the profile and the files, create the run (``preparing``).
2. ``read_run``: read the files as a stream and store them as chunks of ``CHUNK_SIZE``
   records. Nothing is applied yet, so a malformed file fails the run with its line and
   position and nothing written. A killed read resumes after the last stored chunk.
3. ``apply_run``: take the pending chunks one at a time (on PostgreSQL, several workers side
   by side: ``SKIP LOCKED``); each chunk's changes, audit events, report rows, counters and
   its "done" mark commit in one transaction. Then ``finish_run`` (once, under the run's
   lock) handles the users a full sync did not mention.
"""

from __future__ import annotations

import csv
import datetime
import functools
import itertools
import logging
import os
import shutil
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from patronage.access.checks import require
from patronage.access.permissions import Permission
from patronage.accounts.actions import require_change
from patronage.accounts.choices import AccountType, RecordType, Segment
from patronage.accounts.models import User, UserIdentifier
from patronage.accounts.validation import cached_tables
from patronage.audit.actions import diff, record
from patronage.audit.context import Actor, Channel
from patronage.audit.models import SubjectKey
from patronage.bulk import insert_rows
from patronage.errors import Conflict, NotFound, ValidationFailed
from patronage.ops.metrics import IMPORTED

from .formats import SIS_FIELDS, FileProblem, check_mapping, read_records
from .models import (
    FileFormat,
    ImportChunk,
    ImportItem,
    ImportProfile,
    ImportRun,
    MatchBy,
    MissingAction,
    Outcome,
    RunKind,
    RunStatus,
    SeenUser,
)
from .sync import (
    ENTRY_MODELS,
    SIS_TEMP,
    ChunkResult,
    apply_chunk,
    deactivate_missing,
    record_keys,
    report_item,
)

# Records per chunk: per transaction, per checkpoint, per unit of parallel work.
CHUNK_SIZE = int(os.environ.get("PATRONAGE_SIS_CHUNK_SIZE", "1000"))
Progress = Callable[[int], None]
# Times in a row a chunk is taken again after the database connection failed.
CHUNK_RETRIES = 3
logger = logging.getLogger(__name__)

# --- profiles --------------------------------------------------------------------------------

PROFILE_FIELDS = (
    "name",
    "file_format",
    "csv_mapping",
    "csv_delimiter",
    "match_by",
    "default_record_type",
    "override_fields",
    "full_sync",
    "missing_action",
    "missing_expiry_days",
)


def _check_profile(values: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    if not str(values.get("name") or "").strip():
        errors["name"] = "Enter the profile's name."
    if values.get("file_format") not in FileFormat.values:
        errors["file_format"] = "Choose XML or CSV."
    elif values["file_format"] == FileFormat.CSV:
        errors.update(check_mapping(values.get("csv_mapping") or {}))
        if len(str(values.get("csv_delimiter") or "")) != 1:
            errors["csv_delimiter"] = "The delimiter is one character."
    if values.get("match_by") not in MatchBy.values:
        errors["match_by"] = "Match by primary ID or by any identifier."
    if values.get("default_record_type") not in (RecordType.PUBLIC, RecordType.STAFF):
        errors["default_record_type"] = "New users are Public or Staff users."
    override = values.get("override_fields") or []
    if not isinstance(override, list) or any(name not in SIS_FIELDS for name in override):
        errors["override_fields"] = "Only General fields the SIS sends can be overridden."
    if values.get("missing_action") not in MissingAction.values:
        errors["missing_action"] = "Do nothing, set inactive or set the expiry date."
    days = values.get("missing_expiry_days")
    if not isinstance(days, int) or days < 0:
        errors["missing_expiry_days"] = "A number of days, 0 or more."
    if errors:
        raise ValidationFailed(errors, code="bad_profile")


def _profile_snapshot(profile: ImportProfile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in PROFILE_FIELDS}


@transaction.atomic
def save_profile(
    *, actor: Actor, code: str, values: Mapping[str, Any], create: bool = False
) -> ImportProfile:
    """Add (``create``) or change an import profile. The code cannot change: users carry it."""
    require(actor, Permission.SIS_PROFILE_MANAGE)
    code = (code or "").strip()
    profile = ImportProfile.objects.select_for_update().filter(code=code).first()
    if create:
        if not code or not code.replace("-", "").replace("_", "").isalnum():
            raise ValidationFailed({"code": "A code of letters, digits, - and _."})
        if profile is not None or code == SIS_TEMP:
            raise ValidationFailed({"code": f"A profile '{code}' already exists."})
        profile = ImportProfile(code=code)
        before: dict[str, Any] = {}
    elif profile is None:
        raise NotFound(f"There is no SIS import profile '{code}'.", code="profile_not_found")
    else:
        before = _profile_snapshot(profile)
    merged = {
        **_profile_snapshot(profile),
        **{k: v for k, v in values.items() if k in PROFILE_FIELDS},
    }
    if unknown := [k for k in values if k not in PROFILE_FIELDS]:
        raise ValidationFailed({k: f"'{k}' is not a setting of a profile." for k in unknown})
    merged["name"] = str(merged["name"] or "").strip()
    _check_profile(merged)
    for name, value in merged.items():
        setattr(profile, name, value)
    profile.save()
    record(
        actor=actor,
        verb="sis_profile.saved",
        obj=profile,
        changes=diff(before, _profile_snapshot(profile)),
        details={"code": profile.code},
    )
    return profile


def get_profile(code: str) -> ImportProfile:
    profile = ImportProfile.objects.filter(code=code).first()
    if profile is None:
        known = ", ".join(ImportProfile.objects.values_list("code", flat=True)) or "none yet"
        raise NotFound(
            f"There is no SIS import profile '{code}' (profiles: {known}).",
            code="profile_not_found",
        )
    return profile


# --- runs --------------------------------------------------------------------------------------


@transaction.atomic
def start_import(
    *, actor: Actor, profile_code: str, paths: list[str], dry_run: bool = False
) -> ImportRun:
    require(actor, Permission.SIS_IMPORT_RUN)
    profile = get_profile(profile_code)
    if not paths:
        raise ValidationFailed({"files": "Give at least one file."}, code="no_files")
    if missing := [p for p in paths if not Path(p).is_file()]:
        raise ValidationFailed({"files": f"No such file: {', '.join(missing)}."}, code="no_file")
    if profile.file_format == FileFormat.CSV and (errors := check_mapping(profile.csv_mapping)):
        raise ValidationFailed(errors, code="bad_mapping")
    run = ImportRun.objects.create(
        profile=profile,
        files=[str(Path(p).resolve()) for p in paths],
        dry_run=dry_run,
        started_by=actor.user,
        started_by_label=actor.label,
    )
    record(
        actor=actor,
        verb="sis_run.started",
        obj=run,
        details={"profile": profile.code, "files": run.files, "dry_run": dry_run},
    )
    return run


def store_uploads(uploads: list[tuple[str, Any]]) -> list[str]:
    """Keep uploaded SIS files (name, stream) under MEDIA_ROOT/sis/ for their run."""
    directory = Path(settings.MEDIA_ROOT) / "sis" / uuid.uuid4().hex
    directory.mkdir(parents=True)
    paths = []
    for name, stream in uploads:
        target = directory / (Path(name).name or "upload")
        with open(target, "wb") as out:
            shutil.copyfileobj(stream, out)
        paths.append(str(target))
    return paths


def enqueue_run(*, run: ImportRun, workers: int = 1) -> None:
    """Hand the run to the task worker once the transaction that created it commits."""
    from .tasks import run_import

    transaction.on_commit(lambda: run_import.enqueue(run.pk, workers))


def run_actor(run: ImportRun) -> Actor:
    """Whoever started the run, through the import channel, under the run's job id."""
    return Actor(user=run.started_by, channel=Channel.IMPORT, job=run.job)


def read_run(*, run_id: int, progress: Progress | None = None) -> ImportRun:
    """Cut the run's files into stored chunks (resumes after the last stored one)."""
    run = ImportRun.objects.select_related("profile").get(pk=run_id)
    if run.status != RunStatus.PREPARING:
        return run
    profile = run.profile
    assert profile is not None
    seq = run.chunks.count()
    already = run.records_read
    buffer: list[tuple[int, dict[str, Any]]] = []
    records = read_records(
        run.files, profile.file_format, profile.csv_mapping, profile.csv_delimiter
    )
    try:
        with _RunKeys() as run_keys:
            for position, raw in enumerate(records, start=1):
                buffer.append((position, raw))
                if position <= already:  # stored before a crash: only remember its keys
                    if len(buffer) == CHUNK_SIZE or position == already:
                        run_keys.add(buffer)
                        buffer = []
                    continue
                if len(buffer) == CHUNK_SIZE:
                    _store_chunk(run, seq, run_keys.add(buffer))
                    seq += 1
                    if progress:
                        progress(len(buffer))
                    buffer = []
            if buffer:
                _store_chunk(run, seq, run_keys.add(buffer))
                seq += 1
                if progress:
                    progress(len(buffer))
    except FileProblem as exc:
        _fail(run, str(exc))
        raise ValidationFailed({"files": str(exc)}, code="malformed_file") from exc
    ImportRun.objects.filter(pk=run.pk, status=RunStatus.PREPARING).update(
        status=RunStatus.RUNNING, chunks_total=seq
    )
    run.refresh_from_db()
    return run


class _RunKeys:
    """The identifier keys (primary IDs and identifiers) of the records read so far in a run,
    in a temporary table of the reading connection (flat memory whatever the run's size).

    Identifiers are unique across users, so a record that carries a key an earlier record
    of the run carries is marked rejected as it is stored: the first record wins, and the
    dry run, the real run and any number of workers report the clash alike, wherever the
    chunks' boundaries fall (applied, the second record would fail on the unique index or
    match the first's user; planned without writing, it would seem fine)."""

    TABLE = "sis_read_keys"

    def __enter__(self) -> _RunKeys:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.TABLE} (key TEXT PRIMARY KEY, "
                "source TEXT NOT NULL, line INTEGER, is_primary BOOLEAN NOT NULL)"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.TABLE}")

    def add(self, records: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        """Remember the records' keys; mark a record with a key read before as rejected."""
        keyed = [(raw, record_keys(raw)) for _, raw in records if not raw.get("error")]
        if not keyed:
            return records
        # Table and column names are constants; values are parameters (PostgreSQL: one
        # array, see patronage.bulk; SQLite: one JSON array, whatever the chunk's size).
        wanted = sorted({key for _, keys in keyed for key in keys})
        postgres = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT key, source, line, is_primary FROM {self.TABLE} WHERE key "  # noqa: S608
                + ("= ANY(%s)" if postgres else "IN (SELECT value FROM json_each(%s))"),
                [wanted if postgres else orjson.dumps(wanted).decode()],
            )
            first = {key: (source, line, bool(primary)) for key, source, line, primary in cursor}
        accepted = []
        for raw, keys in keyed:
            clash = next((key for key in keys if key in first), None)
            if clash is None:
                for key, (_, is_primary) in keys.items():
                    first[key] = (raw["source"], raw.get("line"), is_primary)
                accepted.append((raw, keys))
                continue
            value, is_primary = keys[clash]
            source, line, first_primary = first[clash]
            raw["error"] = (
                f"The primary ID appears twice (first at line {line} of {source})."
                if is_primary and first_primary
                else f"The identifier '{value}' is also in the record at line {line} of {source}."
            )
        rows = [
            (key, raw["source"], raw.get("line"), is_primary)
            for raw, keys in accepted
            for key, (_, is_primary) in keys.items()
        ]
        if rows:
            _insert_keys(self.TABLE, rows)
        return records


def _insert_keys(table: str, rows: list[tuple[str, str, int | None, bool]]) -> None:
    columns = "key, source, line, is_primary"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM "  # noqa: S608
                "unnest(%s::text[], %s::text[], %s::integer[], %s::boolean[])",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)",  # noqa: S608
                rows,
            )


def _store_chunk(run: ImportRun, seq: int, records: list[tuple[int, dict[str, Any]]]) -> None:
    payload = zlib.compress(orjson.dumps(records), 1)
    with transaction.atomic():
        ImportChunk.objects.create(
            run=run, seq=seq, first_record=records[0][0], size=len(records), payload=payload
        )
        ImportRun.objects.filter(pk=run.pk).update(records_read=records[-1][0])


@transaction.atomic
def _fail(run: ImportRun, error: str) -> None:
    """A file that cannot be read fails the run before anything was applied."""
    run.chunks.all().delete()
    ImportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, error=error, finished_at=timezone.now()
    )
    record(actor=run_actor(run), verb="sis_run.failed", obj=run, reason=error)


def apply_run(*, run_id: int, progress: Progress | None = None) -> ImportRun:
    """Apply pending chunks until none is left, then finish the run. Several processes may
    call this for the same run at once: each takes chunks the others have not locked."""
    run = ImportRun.objects.select_related("profile", "started_by").get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return run
    profile = run.profile
    assert profile is not None
    actor = run_actor(run)
    track_seen = profile.full_sync and profile.missing_action != MissingAction.NOTHING
    failures = created = 0
    refresh_at = 1  # users this process has created when the statistics are next refreshed
    with cached_tables():
        while True:
            try:
                applied = _apply_next_chunk(run, profile, actor, track_seen)
                if applied is None:
                    break
                if progress:
                    progress(applied[0])
                created += applied[1]
                if created >= refresh_at:
                    _refresh_statistics()
                    refresh_at = 2 * created
            except (OperationalError, InterfaceError) as exc:
                # The connection died (a failover, a killed backend) or the database gave up
                # on the transaction (deadlock, serialization): the chunk rolled back whole,
                # so it is simply taken again, on a fresh connection. (Dying under the
                # statistics refresh, after the chunk committed, the next chunk is taken.)
                failures += 1
                if failures > CHUNK_RETRIES or connection.in_atomic_block:
                    raise
                logger.warning("%s: chunk not applied (%s); retrying", run.job, exc)
                connection.close()
                time.sleep(0.5 * failures)
                continue
            failures = 0
    return finish_run(run_id=run_id)


def _refresh_statistics() -> None:
    """PostgreSQL: fresh planner statistics of the tables a first load fills.

    The server plans each foreign-key check once per connection and keeps the plan. Planned
    while the users table was nearly empty, the check scans it, and every chunk's COMMIT
    (where the deferred checks run) took longer than the last: 100 ms at the first chunk,
    800 ms at 15,000 users, 2.7 ms a user at 100,000. New statistics invalidate those plans
    (and the matching lookups'), so a chunk costs the same at any size. Refreshing them each
    time this process has doubled the users it created costs about ten ANALYZEs for a
    million users, and none for a re-sync that creates nobody.
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (User, UserIdentifier, SubjectKey)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _apply_next_chunk(
    run: ImportRun, profile: ImportProfile, actor: Actor, track_seen: bool
) -> tuple[int, int] | None:
    """Apply the next pending chunk: (its records, the users it created), or None."""
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        chunk = next_pending_chunk(run)
        if chunk is None:
            return None
        records = [(p, r) for p, r in orjson.loads(zlib.decompress(bytes(chunk.payload or b"")))]
        result = _apply_records(records, run, profile, actor, track_seen)
        insert_rows(ImportItem, result.items)
        if result.seen:
            SeenUser.objects.bulk_create(
                (SeenUser(run=run, user_id=user_id) for user_id in result.seen),
                batch_size=1000,
                ignore_conflicts=True,
            )
        ImportChunk.objects.filter(pk=chunk.pk).update(done=True, payload=None)
        if not run.dry_run:
            transaction.on_commit(functools.partial(_count_imported, result))
        ImportRun.objects.filter(pk=run.pk).update(
            records_done=F("records_done") + chunk.size,
            created=F("created") + result.created,
            updated=F("updated") + result.updated,
            unchanged=F("unchanged") + result.unchanged,
            rejected=F("rejected") + result.rejected,
        )
        return chunk.size, 0 if run.dry_run else result.created


def _count_imported(result: ChunkResult) -> None:
    """Import throughput for Prometheus (``patronage_import_records_total``), once the
    chunk is committed; a dry run imports nothing and is not counted."""
    for outcome in ("created", "updated", "unchanged", "rejected"):
        if count := getattr(result, outcome):
            IMPORTED.labels(outcome).inc(count)


def _commit_without_waiting_for_disk() -> None:
    """PostgreSQL: this transaction's COMMIT returns before its WAL reaches the disk.

    A chunk commits its user writes together with its "done" mark, so a database crash
    that loses the last few such commits (at most three ``wal_writer_delay``) loses each
    of them whole: the chunks are pending again and ``resume`` re-applies them, exactly as
    after a crash of the importer. Waiting for the disk at every chunk buys nothing here.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def next_pending_chunk(run: ImportRun) -> ImportChunk | None:
    """Lock the run's next chunk no other worker holds (imports and bulk updates alike)."""
    return (
        ImportChunk.objects.select_for_update(skip_locked=True)
        .filter(run=run, done=False)
        .order_by("seq")
        .first()
    )


def _apply_records(
    records: list[tuple[int, dict[str, Any]]],
    run: ImportRun,
    profile: ImportProfile,
    actor: Actor,
    track_seen: bool,
) -> ChunkResult:
    options: dict[str, Any] = {
        "profile": profile,
        "actor": actor,
        "run_id": run.pk,
        "write": not run.dry_run,
        "track_seen": track_seen,
    }
    try:
        with transaction.atomic():
            return apply_chunk(records=records, **options)
    except IntegrityError:
        pass
    # A clash the planning could not see (another worker created the same user meanwhile):
    # apply record by record, so that only a record that still clashes is rejected.
    total = ChunkResult()
    for position, raw in records:
        try:
            with transaction.atomic():
                part = apply_chunk(records=[(position, raw)], **options)
        except IntegrityError as exc:
            part = ChunkResult(rejected=1)
            part.items.append(
                report_item(
                    run.pk,
                    position,
                    raw.get("source", ""),
                    raw.get("line"),
                    str(raw["general"].get("primary_id", "")),
                    Outcome.REJECTED,
                    reason=f"Could not be saved: {exc}",
                )
            )
        for name in ("created", "updated", "unchanged", "rejected"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.items.extend(part.items)
        total.seen.extend(part.seen)
    return total


def finish_run(*, run_id: int) -> ImportRun:
    """Once every chunk is applied: users missing from a full sync, then the run ends."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.chunks.filter(done=False).exists():
            return run
        profile = run.profile
        assert profile is not None
        actor = run_actor(run)
        if profile.full_sync and profile.missing_action != MissingAction.NOTHING:
            run.deactivated = _handle_missing(run, profile, actor)
            SeenUser.objects.filter(run=run).delete()
        run.status = RunStatus.FINISHED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at", "deactivated"])
        record(
            actor=actor,
            verb="sis_run.finished",
            obj=run,
            details={name: getattr(run, name) for name in COUNTERS},
        )
        return run


COUNTERS = ("records_done", "created", "updated", "unchanged", "rejected", "deactivated")


def _handle_missing(run: ImportRun, profile: ImportProfile, actor: Actor) -> int:
    missing = (
        User.objects.filter(account_type=AccountType.EXTERNAL, external_id=profile.code)
        .exclude(pk__in=SeenUser.objects.filter(run=run).values("user_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expiry = timezone.localdate() + datetime.timedelta(days=profile.missing_expiry_days)
    ids = list(missing)
    count = 0
    for start in range(0, len(ids), CHUNK_SIZE):
        items = deactivate_missing(
            user_ids=ids[start : start + CHUNK_SIZE],
            profile=profile,
            actor=actor,
            run_id=run.pk,
            write=not run.dry_run,
            expiry=expiry,
        )
        insert_rows(ImportItem, items)
        count += len(items)
    return count


def execute_run(
    *, run_id: int, reading: Progress | None = None, applying: Progress | None = None
) -> ImportRun:
    """Read then apply (the CLI and the background task); safe to call again to resume."""
    read_run(run_id=run_id, progress=reading)
    return apply_run(run_id=run_id, progress=applying)


def imports() -> QuerySet[ImportRun]:
    """SIS import runs (bulk updates are runs too: ``patronage.sis.bulk_update``)."""
    return ImportRun.objects.filter(kind=RunKind.SIS_IMPORT)


def get_run(run_id: int) -> ImportRun:
    run = imports().select_related("profile").filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"There is no run {run_id}.", code="run_not_found")
    return run


@transaction.atomic
def resume_run(*, actor: Actor, run_id: int) -> ImportRun:
    """Hand an interrupted run to the task worker again (it carries on where it stopped)."""
    require(actor, Permission.SIS_IMPORT_RUN)
    run = get_run(run_id)
    if run.finished:
        raise Conflict(
            f"Run {run.pk} is already {run.get_status_display().lower()}.", code="run_finished"
        )
    record(actor=actor, verb="sis_run.resumed", obj=run)
    enqueue_run(run=run)
    return run


# --- the report --------------------------------------------------------------------------------

REPORT_HEADING = ["record", "file", "line", "primary_id", "outcome", "user_id", "changes", "reason"]


def _changes_text(changes: list[dict[str, Any]]) -> str:
    def shown(value: Any) -> str:
        if value in (None, "", []):
            return "—"
        return " | ".join(map(str, value)) if isinstance(value, list) else str(value)

    return "; ".join(f"{c['field']}: {shown(c['old'])} → {shown(c['new'])}" for c in changes)


class _Echo:
    def write(self, value: str) -> str:
        return value


def report_response(run: ImportRun) -> StreamingHttpResponse:
    """The report as a streamed CSV download (UTF-8 with a byte-order mark for spreadsheets)."""
    writer = csv.writer(_Echo())
    lines = itertools.chain(["\ufeff"], (writer.writerow(row) for row in report_rows(run)))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{run.job}-report.csv"'
    response["Cache-Control"] = "no-store"
    return response


def report_rows(run: ImportRun) -> Iterator[list[str]]:
    """The report as CSV rows: summary lines, then one line per created, updated, rejected
    or deactivated user (unchanged users are counted in the summary)."""
    yield ["# run", run.job, "profile", run.profile.code if run.profile else "", "", "", "", ""]
    summary = ", ".join(f"{name} {getattr(run, name)}" for name in COUNTERS)
    yield ["# summary", summary, "dry run" if run.dry_run else "", run.status, "", "", "", ""]
    yield REPORT_HEADING
    for item in run.items.order_by("record", "id").iterator(chunk_size=2000):
        yield [
            str(item.record or ""),
            item.source,
            str(item.line or ""),
            item.primary_id,
            item.outcome,
            str(item.user_id or ""),
            _changes_text(item.changes),
            item.reason,
        ]


# --- external users in the staff UI ---------------------------------------------------------------


@transaction.atomic
def set_open_for_update(*, actor: Actor, user: User, open_for_update: bool) -> User:
    """Let staff edit the SIS-owned fields of an external user until the next sync."""
    require_change(actor, Permission.USERS_EDIT, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.account_type != AccountType.EXTERNAL:
        raise ValidationFailed(
            {"open_for_update": "Only external users are opened for update."},
            code="not_external",
        )
    if user.open_for_update == open_for_update:
        return user
    user.open_for_update = open_for_update
    user.save(update_fields=["open_for_update"])
    record(
        actor=actor,
        verb="user.open_for_update",
        obj=user,
        subject=user,
        changes=[{"field": "open_for_update", "old": not open_for_update, "new": open_for_update}],
    )
    return user


@transaction.atomic
def toggle_account_type(*, actor: Actor, user: User) -> User:
    """Internal → external: the owner becomes ``SIS_temp`` (the next sync of any profile
    takes the user over) and every identifier becomes external; the user no longer signs in
    with a password here. External → internal: every entry becomes internal (staff own it
    all) and the SIS bookkeeping is dropped."""
    require_change(actor, Permission.USERS_CHANGE_ACCOUNT_TYPE, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"account_type": user.account_type, "external_id": user.external_id}
    if user.account_type == AccountType.EXTERNAL:
        user.account_type, user.external_id = AccountType.INTERNAL, ""
        for model in ENTRY_MODELS.values():
            model.objects.filter(user=user).update(segment_type=Segment.INTERNAL)
    else:
        user.account_type, user.external_id = AccountType.EXTERNAL, SIS_TEMP
        user.identifiers.update(segment_type=Segment.EXTERNAL)
        user.set_unusable_password()
    user.sis_values, user.sis_kept_fields, user.open_for_update = {}, [], False
    user.updated_by, user.updated_via = actor.user, actor.label
    user.save()
    record(
        actor=actor,
        verb="user.account_type_toggled",
        obj=user,
        subject=user,
        changes=diff(before, {"account_type": user.account_type, "external_id": user.external_id}),
    )
    return user
