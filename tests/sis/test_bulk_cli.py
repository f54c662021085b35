"""``patronage bulk``: bulk updates from the shell, with reports and clear refusals."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from patronage.accounts.models import User, UserNote
from patronage.audit.context import Actor
from patronage.audit.models import AuditEvent
from patronage.sis.bulk_update import read_bulk, start_bulk
from patronage.sis.models import ImportRun
from tests.factories import make_staff, make_user


def bulk(*args: str) -> str:
    out = io.StringIO()
    call_command("bulk", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def ids_file(db, tmp_path):
    for n in (1, 2):
        make_user(primary_id=f"p{n}")
    path = tmp_path / "ids.txt"
    path.write_text("p1\n\np2\nghost\n")
    return str(path)


def test_set_a_field_from_a_file_of_ids_then_the_report(ids_file, tmp_path):
    out = bulk("set", "user_group", "GRAD", "--ids", ids_file, "--no-progress")
    run = ImportRun.objects.get()
    assert f"Run {run.pk} finished: records_done 3, updated 2, unchanged 0, rejected 1." in out
    assert set(
        User.objects.filter(primary_id__in=["p1", "p2"]).values_list("user_group", flat=True)
    ) == {"GRAD"}
    report = bulk("report", str(run.pk))
    assert "ghost,rejected" in report.replace('"', "")
    assert "user_group: UNDERGRAD → GRAD" in report
    assert "Set user group to GRAD" in bulk("runs")


def test_dry_run_from_the_shell_writes_nothing(ids_file):
    out = bulk(
        "note",
        "--type",
        "CIRCULATION",
        "--text",
        "Hi",
        "--ids",
        ids_file,
        "--dry-run",
        "--no-progress",
    )
    assert "dry run finished" in out
    assert not UserNote.objects.exists()


def test_a_saved_search_by_name_as_a_staff_user(ids_file):
    make_staff("USER_MANAGER", primary_id="uma")
    out = bulk(
        "save-search",
        "Undergrads",
        "--filter",
        "user_group=UNDERGRAD",
        "--filter",
        "record_type=PUBLIC",
        "--as",
        "uma",
    )
    assert "'Undergrads'" in out
    assert "Undergrads" in bulk("searches", "--as", "uma")
    bulk(
        "set", "expiry_date", "2030-01-01", "--search", "Undergrads", "--as", "uma", "--no-progress"
    )
    assert {
        str(d)
        for d in User.objects.filter(record_type="PUBLIC").values_list("expiry_date", flat=True)
    } == {"2030-01-01"}
    events = AuditEvent.objects.filter(verb="user.updated", job__startswith="bulk_update-")
    assert {e.actor_label for e in events} == {"uma"}


def test_refusals_are_clear_and_exit_non_zero(ids_file, tmp_path):
    with pytest.raises(CommandError, match="User group: 'NOPE' is not a known value"):
        bulk("set", "user_group", "NOPE", "--ids", ids_file, "--no-progress")
    with pytest.raises(CommandError, match="no saved search named 'Nope'"):
        bulk("set", "user_group", "GRAD", "--search", "Nope", "--no-progress")
    with pytest.raises(CommandError, match="Cannot read"):
        bulk("set", "user_group", "GRAD", "--ids", str(tmp_path / "missing.txt"), "--no-progress")
    with pytest.raises(CommandError, match="You have no bulk run 999"):
        bulk("report", "999")
    with pytest.raises(CommandError, match="Unknown placeholder"):
        body = tmp_path / "mail.txt"
        body.write_text("Hello {{ secret }}")
        bulk(
            "email", "--subject", "Hi", "--body-file", str(body), "--ids", ids_file, "--no-progress"
        )
    assert not ImportRun.objects.exists()


def test_as_a_staff_user_without_the_permission_is_refused(ids_file):
    make_staff("FULFILLMENT_OPERATOR", primary_id="desk")
    with pytest.raises(CommandError, match="may not run this command"):
        bulk("set", "user_group", "GRAD", "--ids", ids_file, "--as", "desk", "--no-progress")


def test_resume_carries_on_with_an_interrupted_run(ids_file):
    run = start_bulk(
        actor=Actor.system(),
        operation={"type": "set_field", "field": "status", "value": "INACTIVE"},
        ids=["p1", "p2"],
    )
    read_bulk(run_id=run.pk)  # then the process died
    out = bulk("resume", str(run.pk), "--no-progress")
    assert "finished: records_done 2, updated 2" in out
    with pytest.raises(CommandError, match="already finished"):
        bulk("resume", str(run.pk))
