"""The audit trail is tamper-evident: a keyed hash chain that ``patronage audit verify``
recomputes, reporting the first broken link (an altered, forged, deleted or reordered row)."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from patronage.audit import chain
from patronage.audit.actions import record
from patronage.audit.models import AuditEvent, AuditLink
from tests.factories import SYSTEM, make_staff, make_user

pytestmark = pytest.mark.django_db


@contextmanager
def tampering() -> Iterator[object]:
    """Raw SQL behind the application's back (on PostgreSQL, with the triggers off, as a
    superuser could): what verify must catch."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def audit(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def chained():
    """Five events (user creations and updates), all chained."""
    for n in range(5):
        make_user(primary_id=f"chain{n}")
    chain.chain_pending()
    return list(AuditLink.objects.order_by("seq").values_list("seq", "event_id"))


def test_chaining_links_every_committed_event_once_in_order(chained):
    assert [seq for seq, _ in chained] == list(range(1, len(chained) + 1))
    assert {event for _, event in chained} == set(AuditEvent.objects.values_list("pk", flat=True))
    assert chain.chain_pending() == 0  # nothing new: nothing linked twice


def test_an_intact_chain_verifies_and_names_the_unchained_tail(chained):
    record(actor=SYSTEM, verb="test.recent", object_type="test")
    result = chain.verify()
    assert result.ok
    assert result.checked == len(chained) and result.unchained == 1
    assert "Chain intact" in audit("verify")


def test_an_altered_event_is_the_first_broken_link(chained):
    seq, event_id = chained[2]
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET reason = 'nothing happened' WHERE id = %s", [event_id]
        )
    result = chain.verify()
    assert result.broken_at == seq and f"event {event_id}" in result.problem
    with pytest.raises(CommandError, match=f"Broken at link #{seq}: event {event_id}"):
        audit("verify")


def test_a_deleted_event_is_named(chained):
    seq, event_id = chained[1]
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event_id])
    result = chain.verify()
    assert result.broken_at == seq and "deleted" in result.problem


def test_a_deleted_event_and_its_link_leave_a_gap(chained):
    seq, event_id = chained[1]
    with tampering() as cursor:
        cursor.execute("DELETE FROM audit_auditlink WHERE seq = %s", [seq])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event_id])
    result = chain.verify()
    assert result.broken_at == seq and "missing" in result.problem


def test_reordered_events_break_the_chain(chained):
    (seq_a, _), (seq_b, _) = chained[1], chained[2]
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditlink SET seq = -1 WHERE seq = %s", [seq_a])
        cursor.execute("UPDATE audit_auditlink SET seq = %s WHERE seq = %s", [seq_a, seq_b])
        cursor.execute("UPDATE audit_auditlink SET seq = %s WHERE seq = -1", [seq_b])
    result = chain.verify()
    assert result.broken_at == seq_a and "out of order" in result.problem


def test_a_forged_event_with_a_made_up_link_is_caught(chained):
    forged = record(actor=SYSTEM, verb="user.viewed", object_type="user")
    last_seq, _ = chained[-1]
    with tampering() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditlink (seq, event_id, hash) VALUES (%s, %s, %s)",
            [last_seq + 1, forged.pk, "0" * 64],
        )
    result = chain.verify()
    assert result.broken_at == last_seq + 1 and f"event {forged.pk}" in result.problem


def test_an_event_never_chained_long_after_it_occurred_is_reported(chained):
    old = timezone.now() - chain.CHAIN_LOOKBACK - datetime.timedelta(minutes=1)
    event = record(actor=SYSTEM, verb="user.viewed", object_type="user")
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET occurred_at = %s WHERE id = %s", [old, event.pk]
        )
    result = chain.verify()
    assert not result.ok and result.stale_unchained == [event.pk]
    with pytest.raises(CommandError, match="never chained"):
        audit("verify")


def test_late_commits_are_chained_after_later_ids():
    """On PostgreSQL an event may commit after a later id was chained: it is linked next."""
    first = record(actor=SYSTEM, verb="test.first", object_type="test")
    second = record(actor=SYSTEM, verb="test.second", object_type="test")
    with tampering() as cursor:  # as if `first` had not been committed yet
        cursor.execute(
            "INSERT INTO audit_auditlink (seq, event_id, hash) VALUES (1, %s, %s)",
            [
                second.pk,
                chain.link_hash(
                    chain.GENESIS,
                    1,
                    tuple(
                        AuditEvent.objects.filter(pk=second.pk)
                        .values_list(*chain.EVENT_FIELDS)
                        .get()
                    ),
                ),
            ],
        )
    assert chain.chain_pending() == 1
    assert AuditLink.objects.get(seq=2).event_id == first.pk
    assert chain.verify().ok


def test_verifying_needs_its_permission(chained):
    officer = make_staff("PRIVACY_OFFICER", primary_id="officer")
    make_staff("USER_MANAGER", primary_id="manager")
    assert "Chain intact" in audit("verify", "--as", officer.primary_id)
    with pytest.raises(CommandError, match="may not run this command"):
        audit("verify", "--as", "manager")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_chainers_neither_fork_nor_block_each_other():
    """Writers only INSERT; chaining runs serialised by its own lock, so two chainers racing
    each other and the writers never fork the chain (nor fail on a duplicate position)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def write_and_chain(n: int) -> int:
        try:
            for i in range(20):
                record(
                    actor=SYSTEM, verb="test.concurrent", object_type="test", object_id=f"{n}-{i}"
                )
                if i % 5 == 0:
                    chain.chain_pending(batch=7)
            return chain.chain_pending()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write_and_chain, range(4)))
    chain.chain_pending()
    assert AuditLink.objects.count() == AuditEvent.objects.count() == 80
    assert chain.verify().ok
