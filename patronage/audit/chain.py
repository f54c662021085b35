"""The hash chain over the audit trail: chaining, verifying and archiving.

Why a chaining step instead of a hash computed by each writer: a writer that chained its own
event would have to hold a chain-wide lock from its INSERT until its COMMIT (the next event
needs its hash), so every audited transaction -- with the read-access log, every view of a
patron -- would queue behind the slowest one, and an action that took a row lock after
recording would deadlock with another waiting for the chain. Instead writers only INSERT
(no lock, no extra query), and ``chain_pending`` -- run every minute by
``patronage audit chain`` or the ``chain_audit_trail`` task, and before every archive --
links the committed events in batches under one lock of its own (a PostgreSQL advisory lock;
SQLite's IMMEDIATE transactions serialise it already). ``verify`` reports the events not yet
chained as the unchained tail.

On PostgreSQL ids are taken at INSERT but rows appear at COMMIT, so an event may commit after
a later id was chained. The chain therefore follows chaining order (``AuditLink.seq``), not id
order, and each run looks back ``CHAIN_LOOKBACK`` for such late events; one still unchained
beyond that is reported by ``verify`` (a transaction open that long, or a row inserted behind
the application's back).

The hash is an HMAC (key ``settings.AUDIT_CHAIN_KEY``) over the previous link's hash and a
canonical serialisation of every stored field, so rewriting an event and recomputing the
chain after it needs the key, not just database access.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from patronage.errors import Conflict

from .models import AuditAnchor, AuditEvent, AuditLink

CHAIN_LOOKBACK = datetime.timedelta(minutes=10)
CHAIN_BATCH = 5000
# Any 64-bit number naming the chaining step's advisory lock on PostgreSQL.
CHAIN_LOCK_ID = 0x7061_7472_6F6E  # "patron"

# The stored fields, in the order they are serialised (``id`` and ``seq`` bind the place).
EVENT_FIELDS = (
    "id",
    "occurred_at",
    "actor_id",
    "actor_label",
    "channel",
    "ip",
    "request_id",
    "job",
    "terminal",
    "verb",
    "object_type",
    "object_id",
    "subject_id",
    "reason",
    "changes",
    "details",
)
GENESIS = ""


def _key() -> bytes:
    return str(settings.AUDIT_CHAIN_KEY).encode()


def canonical(seq: int, values: tuple[Any, ...]) -> bytes:
    """One event as bytes: the same on SQLite and PostgreSQL whatever the JSON key order."""
    fields = list(values)
    occurred_at = fields[1]
    fields[1] = occurred_at.astimezone(datetime.UTC).isoformat() if occurred_at else None
    return json.dumps(
        [seq, *fields], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def link_hash(previous: str, seq: int, values: tuple[Any, ...], key: bytes | None = None) -> str:
    return hmac.new(
        key or _key(), previous.encode() + b"\n" + canonical(seq, values), hashlib.sha256
    ).hexdigest()


def _head() -> tuple[int, str]:
    """The last chained position and its hash (from the last link, else the last anchor)."""
    last = AuditLink.objects.order_by("-seq").values_list("seq", "hash").first()
    if last is not None:
        return last
    anchor = AuditAnchor.objects.order_by("-last_seq").values_list("last_seq", "last_hash").first()
    return anchor if anchor is not None else (0, GENESIS)


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_ID])


@transaction.atomic
def chain_pending(batch: int = CHAIN_BATCH) -> int:
    """Link every committed, unchained event to the chain; returns how many were linked."""
    _lock_chain()
    seq, previous = _head()
    newest_linked = AuditLink.objects.order_by("-seq").values_list("event_id", flat=True).first()
    window = AuditEvent.objects.all()  # the first run links everything
    if newest_linked is not None:
        window = AuditEvent.objects.filter(
            Q(pk__gt=newest_linked) | Q(occurred_at__gte=timezone.now() - CHAIN_LOOKBACK)
        )
    pending = window.filter(link__isnull=True).order_by("pk").values_list(*EVENT_FIELDS)
    linked = 0
    key = _key()
    while True:
        rows = list(pending[:batch])
        if not rows:
            return linked
        links = []
        for values in rows:
            seq += 1
            previous = link_hash(previous, seq, values, key)
            links.append(AuditLink(seq=seq, event_id=values[0], hash=previous))
        AuditLink.objects.bulk_create(links)
        linked += len(links)


# --- verifying --------------------------------------------------------------------------------


@dataclass
class Verification:
    checked: int = 0
    first_seq: int = 0
    last_seq: int = 0
    unchained: int = 0
    stale_unchained: list[int] | None = None
    broken_at: int | None = None  # the chain position of the first broken link
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.stale_unchained

    def summary(self) -> str:
        if self.broken_at is not None:
            return f"Broken at link #{self.broken_at}: {self.problem}"
        if self.stale_unchained:
            ids = ", ".join(str(i) for i in self.stale_unchained)
            return (
                f"{len(self.stale_unchained)} event(s) older than the chaining look-back were "
                f"never chained (inserted outside the application?): {ids}"
            )
        chained = (
            f"links #{self.first_seq}-#{self.last_seq}" if self.checked else "no chained events"
        )
        return (
            f"Chain intact: {self.checked} events verified ({chained}); "
            f"{self.unchained} recent event(s) not yet chained."
        )


def _links_from(seq: int) -> Iterator[tuple[Any, ...]]:
    fields = [f"event__{name}" for name in EVENT_FIELDS]
    return (
        AuditLink.objects.filter(seq__gt=seq)
        .order_by("seq")
        .values_list("seq", "hash", "event_id", *fields)
        .iterator(chunk_size=10_000)
    )


def verify() -> Verification:
    """Recompute the chain from the last anchor; stop at the first broken link."""
    anchor = AuditAnchor.objects.order_by("-last_seq").first()
    expected, previous = (anchor.last_seq, anchor.last_hash) if anchor else (0, GENESIS)
    result = Verification(first_seq=expected + 1)
    key = _key()
    with transaction.atomic():  # a server-side cursor on PostgreSQL needs a transaction
        for row in _links_from(expected):
            seq, stored, event_id, values = row[0], row[1], row[2], row[3:]
            expected += 1
            if seq != expected:
                result.broken_at = expected
                result.problem = "this link is missing (deleted, or the links were reordered)."
                return result
            if values[1] is None:  # no occurred_at: the LEFT JOIN found no event
                result.broken_at = seq
                result.problem = f"event {event_id} has been deleted."
                return result
            previous = link_hash(previous, seq, values, key)
            if not hmac.compare_digest(previous, stored):
                result.broken_at = seq
                result.problem = (
                    f"event {event_id} does not match its link: it was altered, forged, or "
                    "moved out of order."
                )
                return result
            result.checked += 1
            result.last_seq = seq
    unchained = AuditEvent.objects.filter(link__isnull=True)
    result.unchained = unchained.count()
    cutoff = timezone.now() - CHAIN_LOOKBACK
    result.stale_unchained = list(
        unchained.filter(occurred_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:20]
    )
    return result


# --- archiving --------------------------------------------------------------------------------


class ArchiveRefused(Conflict):
    code = "archive_refused"


def archive_dir() -> Path:
    path = Path(settings.AUDIT_ARCHIVE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _archive_prefix(before: datetime.datetime) -> tuple[int, str, int]:
    """The longest chained prefix whose events all occurred before ``before``."""
    anchor_seq, _ = AuditAnchor.objects.order_by("-last_seq").values_list(
        "last_seq", "last_hash"
    ).first() or (0, GENESIS)
    links = AuditLink.objects.filter(seq__gt=anchor_seq)
    first_kept = (
        links.filter(event__occurred_at__gte=before).order_by("seq").values_list("seq", flat=True)
    ).first()
    upto = links.filter(seq__lt=first_kept) if first_kept is not None else links
    last = upto.order_by("-seq").values_list("seq", "hash").first()
    if last is None:
        return anchor_seq, "", 0
    return last[0], last[1], last[0] - anchor_seq


def _export(path: Path, upto: int, meta: dict[str, Any]) -> str:
    """Write the prefix as JSON Lines (a header, then each event with its link); its SHA-256."""
    digest = hashlib.sha256()
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:

        def write(obj: Any) -> None:
            line = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
            digest.update(line + b"\n")
            out.write(line + b"\n")

        write(meta)
        rows = (
            AuditLink.objects.filter(seq__gt=meta["from_seq"] - 1, seq__lte=upto)
            .order_by("seq")
            .values_list("seq", "hash", *[f"event__{n}" for n in EVENT_FIELDS])
            .iterator(chunk_size=10_000)
        )
        for seq, link, *values in rows:
            event = dict(zip(EVENT_FIELDS, values, strict=True))
            event["occurred_at"] = event["occurred_at"].astimezone(datetime.UTC).isoformat()
            write({"seq": seq, "hash": link, "event": event})
        out.flush()
        os.fsync(out.fileno())
    partial.rename(path)
    return digest.hexdigest()


def delete_archived_prefix(upto: int) -> int:
    """The sanctioned removal: only links up to an existing anchor, and their events.

    On PostgreSQL the append-only triggers let a DELETE through only inside the
    ``audit_archive_prefix`` function (migration 0005), which checks the anchor itself.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT audit_archive_prefix(%s)", [upto])
            return int(cursor.fetchone()[0])
        if not AuditAnchor.objects.filter(last_seq=upto).exists():
            raise ArchiveRefused(f"No anchor at link #{upto}: nothing is deleted.")
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE id IN "
            "(SELECT event_id FROM audit_auditlink WHERE seq <= %s)",
            [upto],
        )
        deleted = cursor.rowcount
        cursor.execute("DELETE FROM audit_auditlink WHERE seq <= %s", [upto])
        return deleted


@dataclass(frozen=True)
class ArchiveResult:
    anchor: AuditAnchor
    path: Path


@transaction.atomic
def archive(before: datetime.datetime, actor_label: str) -> ArchiveResult:
    """Export the chained events older than ``before`` to a file, anchor, then delete them.

    Refused (nothing written or deleted) when there is nothing to archive or when the chain
    up to there does not verify: a broken chain is evidence, never archived away.
    """
    chain_pending()
    _lock_chain()
    upto, last_hash, count = _archive_prefix(before)
    if not count:
        raise ArchiveRefused("There are no chained events before this date to archive.")
    check = verify()
    if check.broken_at is not None and check.broken_at <= upto:
        raise ArchiveRefused(f"The chain does not verify, nothing archived. {check.summary()}")
    from_seq = upto - count + 1
    name = f"audit-{from_seq:012d}-{upto:012d}.jsonl"
    path = archive_dir() / name
    if path.exists():
        raise ArchiveRefused(f"The archive file {path} exists already: nothing is overwritten.")
    meta = {
        "format": "patronage-audit-archive/1",
        "from_seq": from_seq,
        "to_seq": upto,
        "last_hash": last_hash,
        "archived_before": before.isoformat(),
        "event_count": count,
    }
    sha256 = _export(path, upto, meta)
    anchor = AuditAnchor.objects.create(
        last_seq=upto,
        last_hash=last_hash,
        archived_before=before,
        event_count=count,
        file_name=name,
        file_sha256=sha256,
        actor_label=actor_label,
    )
    delete_archived_prefix(upto)
    return ArchiveResult(anchor=anchor, path=path)
