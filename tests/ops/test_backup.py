"""patronage backup / restore: a restore brings back exactly what the backup held."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from patronage.accounts import actions
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM, make_user

# pg_dump sees only committed rows: these tests commit, on a transactional database.
pytestmark = pytest.mark.usefixtures("reference_data")


def snapshot() -> dict:
    return {
        "users": User.objects.count(),
        "audit events": AuditEvent.objects.count(),
        "sample": sorted(User.objects.values_list("primary_id", "last_name", "grants_token")),
    }


def test_a_restore_brings_back_what_the_backup_held(tmp_path):
    for n in range(5):
        make_user(primary_id=f"kept{n}", last_name=f"Kept{n}")
    before = snapshot()
    target = tmp_path / "patronage.backup"
    call_command("backup", str(target))
    assert target.stat().st_size > 0
    # Work after the backup: a new user, a changed name.
    make_user(primary_id="later")
    actions.update_user(
        actor=SYSTEM, user=User.objects.get(primary_id="kept0"), fields={"last_name": "Changed"}
    )
    assert snapshot() != before
    call_command("restore", str(target), "--yes")
    assert snapshot() == before


def test_a_restore_must_be_confirmed_and_refuses_what_is_not_a_backup(tmp_path):
    make_user(primary_id="stays")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="no such file"):
        call_command("restore", str(tmp_path / "missing"), "--yes")
    junk = tmp_path / "junk"
    junk.write_text("not a database")
    with pytest.raises(CommandError):
        call_command("restore", str(junk), "--yes")
    assert User.objects.filter(primary_id="stays").exists()


def test_a_backup_into_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(CommandError, match="no such directory"):
        call_command("backup", str(tmp_path / "nowhere" / "file"))
