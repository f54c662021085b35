"""The read event's lean path stores exactly what ``record`` would, and the chain links and
verifies it; on PostgreSQL, outside a transaction, it commits without waiting for the WAL
flush (``privacy.reads.record_read``) -- and is there, chained, all the same."""

from __future__ import annotations

import pytest
from django.db import connection
from django.forms.models import model_to_dict

from patronage.audit import chain
from patronage.audit.actions import record
from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent
from patronage.privacy.reads import VIEWED, record_read
from tests.factories import make_staff, make_user

SAME = ("id", "occurred_at")


def stored(event: AuditEvent) -> dict[str, object]:
    return {k: v for k, v in model_to_dict(event).items() if k not in SAME}


@pytest.mark.django_db
def test_the_lean_read_event_is_the_row_record_would_store():
    staff = make_staff()
    patron = make_user()
    actor = Actor(user=staff, channel=Channel.API, ip="10.0.0.7", terminal="T1")
    details = {"tab": "notes", "query": "Ünïcode — ok"}
    by_orm = record(
        actor=actor,
        verb=VIEWED,
        object_type="user",
        object_id=str(patron.pk),
        subject_id=patron.pk,
        reason="Fine dispute",
        details=details,
    )
    record_read(actor, VIEWED, patron.pk, "Fine dispute", details)
    lean = AuditEvent.objects.filter(verb=VIEWED).exclude(pk=by_orm.pk).get()
    assert stored(lean) == stored(by_orm)
    assert lean.occurred_at >= by_orm.occurred_at
    chain.chain_pending()
    assert chain.verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_read_outside_a_transaction_is_committed_and_chained():
    actor = Actor.system(Channel.CLI, job="test")
    assert not connection.in_atomic_block
    record_read(actor, VIEWED, 424242, "", {"tab": "general"})
    record_read(actor, "users.searched", None, "", {"query": "smith", "results": 3})
    assert AuditEvent.objects.filter(verb__in=[VIEWED, "users.searched"]).count() == 2
    assert chain.chain_pending() >= 2
    assert chain.verify().ok
