"""Archiving old events: privileged and audited; exports before it removes; the chain still
verifies from the anchor; the only sanctioned deletion (PostgreSQL refuses any other)."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from patronage.audit import chain
from patronage.audit.actions import archive_trail
from patronage.audit.models import AuditAnchor, AuditEvent, AuditLink
from patronage.audit.tasks import archive_audit_trail
from patronage.errors import Forbidden
from tests.audit.test_chain import tampering
from tests.factories import SYSTEM, actor_for, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _archive_in_tmp(settings, tmp_path):
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "archive"


def age(days: int) -> None:
    """Move every event so far back in time (raw SQL, as if it had been recorded then)."""
    with tampering() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET occurred_at = %s",
            [
                connection.ops.adapt_datetimefield_value(
                    timezone.now() - datetime.timedelta(days=days)
                )
            ],
        )


@pytest.fixture
def old_and_new():
    """Old events (a year ago, chained) and newer ones."""
    for n in range(3):
        make_user(primary_id=f"old{n}")
    age(365)  # before chaining: the links cover the stored (old) times
    chain.chain_pending()
    old = set(AuditEvent.objects.values_list("pk", flat=True))
    make_user(primary_id="recent")
    return old


def test_archiving_exports_anchors_and_removes_only_the_old_events(old_and_new):
    before = timezone.now() - datetime.timedelta(days=30)
    result = archive_trail(actor=SYSTEM, before=before)
    anchor = result.anchor
    assert anchor.event_count == len(old_and_new)
    assert not AuditEvent.objects.filter(pk__in=old_and_new).exists()
    assert AuditEvent.objects.filter(verb="user.created").count() == 1  # the recent one
    lines = [json.loads(line) for line in result.path.read_text().splitlines()]
    assert lines[0]["event_count"] == len(old_and_new) and lines[0]["last_hash"] == anchor.last_hash
    assert {line["event"]["id"] for line in lines[1:]} == old_and_new
    # The chain goes on from the anchor, and the archive is itself an event of it.
    chain.chain_pending()
    assert chain.verify().ok
    archived = AuditEvent.objects.get(verb="audit.archived")
    assert archived.details["sha256"] == anchor.file_sha256
    assert AuditLink.objects.order_by("seq").first().seq == anchor.last_seq + 1


def test_nothing_to_archive_is_a_clear_refusal(old_and_new):
    with pytest.raises(chain.ArchiveRefused, match="no chained events before this date"):
        archive_trail(actor=SYSTEM, before=timezone.now() - datetime.timedelta(days=400))
    assert not AuditAnchor.objects.exists()


def test_a_future_date_is_refused(old_and_new):
    with pytest.raises(chain.ArchiveRefused, match="up to now"):
        archive_trail(actor=SYSTEM, before=timezone.now() + datetime.timedelta(days=1))


def test_a_broken_chain_is_never_archived_away(old_and_new, tmp_path):
    victim = min(old_and_new)
    with tampering() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'rewritten' WHERE id = %s", [victim])
    with pytest.raises(chain.ArchiveRefused, match="does not verify"):
        archive_trail(actor=SYSTEM, before=timezone.now() - datetime.timedelta(days=30))
    assert AuditEvent.objects.filter(pk__in=old_and_new).count() == len(old_and_new)
    assert not AuditAnchor.objects.exists()
    assert not list((tmp_path / "archive").glob("*.jsonl"))


def test_archiving_needs_its_permission(old_and_new):
    officer = make_staff("PRIVACY_OFFICER", primary_id="officer")
    with pytest.raises(Forbidden):
        archive_trail(actor=actor_for(officer), before=timezone.now())
    with pytest.raises(CommandError, match="may not run this command"):
        call_command("audit", "archive", "--before", "2030-01-01", "--as", "officer")
    assert AuditEvent.objects.filter(pk__in=old_and_new).count() == len(old_and_new)


def test_the_cli_and_the_task_archive(old_and_new):
    admin = make_staff("GENERAL_SYSTEM_ADMINISTRATOR", primary_id="sysadmin")
    day = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    out = io.StringIO()
    call_command("audit", "archive", "--before", day, "--as", "sysadmin", stdout=out)
    assert f"Archived {len(old_and_new)} event(s)" in out.getvalue()
    assert AuditEvent.objects.get(verb="audit.archived").actor == admin
    with pytest.raises(CommandError, match="not a date"):
        call_command("audit", "archive", "--before", "last year")
    # Nothing left to archive: the task refuses the same way.
    with pytest.raises(chain.ArchiveRefused):
        archive_audit_trail.call(
            admin.pk, (timezone.now() - datetime.timedelta(days=30)).isoformat()
        )


def test_the_task_archives_as_its_user(old_and_new):
    admin = make_staff("GENERAL_SYSTEM_ADMINISTRATOR", primary_id="sysadmin")
    done = archive_audit_trail.call(
        admin.pk, (timezone.now() - datetime.timedelta(days=30)).isoformat()
    )
    assert done["events"] == len(old_and_new)
    event = AuditEvent.objects.get(verb="audit.archived")
    assert event.channel == "job" and event.actor == admin


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_postgresql_deletes_only_through_the_archive_function(old_and_new):
    victim = min(old_and_new)
    for statement in (
        "DELETE FROM audit_auditevent WHERE id = %s",
        "DELETE FROM audit_auditlink WHERE event_id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement, [victim])
    # Setting the flag by hand does not make UPDATE possible, and the function wants an anchor.
    with pytest.raises(DatabaseError, match="no audit anchor"), transaction.atomic():
        connection.cursor().execute("SELECT audit_archive_prefix(2)")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        cursor = connection.cursor()
        cursor.execute("SELECT set_config('patronage.audit_archive', 'on', true)")
        cursor.execute("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s", [victim])
    assert AuditEvent.objects.filter(pk__in=old_and_new).count() == len(old_and_new)
    result = archive_trail(actor=SYSTEM, before=timezone.now() - datetime.timedelta(days=30))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(
            "DELETE FROM audit_auditanchor WHERE id = %s", [result.anchor.pk]
        )
