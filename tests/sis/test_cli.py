"""``patronage sis``: imports from the shell, with reports and clear refusals."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from patronage.accounts.models import User
from patronage.sis.models import ImportRun
from tests.factories import make_staff

from .conftest import user_xml, users_file


def sis(*args: str) -> str:
    out = io.StringIO()
    call_command("sis", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_then_the_report(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1"), user_xml("s2", user_group="NOPE"))
    out = sis("import", path, "--profile", "registrar", "--no-progress")
    run = ImportRun.objects.get()
    assert f"Run {run.pk} finished: records_done 2, created 1" in out
    assert "rejected 1" in out
    report = sis("report", str(run.pk))
    assert "s2,rejected" in report.replace('"', "")
    target = tmp_path / "report.csv"
    sis("report", str(run.pk), "-o", str(target))
    assert "User group: 'NOPE' is not a known value" in target.read_text()


def test_dry_run_from_the_shell_writes_no_user(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1"))
    out = sis("import", path, "--profile", "registrar", "--dry-run", "--no-progress")
    assert "dry run finished: records_done 1, created 1" in out
    assert not User.objects.filter(primary_id="s1").exists()


def test_refusals_are_clear_and_exit_non_zero(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1"))
    with pytest.raises(CommandError, match="no SIS import profile 'nope'"):
        sis("import", path, "--profile", "nope", "--no-progress")
    bad = tmp_path / "bad.xml"
    bad.write_text("<users><user><primary_id>x</user></users>")
    with pytest.raises(CommandError, match=r"bad.xml \(line 1, position \d+\): not well-formed"):
        sis("import", str(bad), "--profile", "registrar", "--no-progress")
    with pytest.raises(CommandError, match="There is no run 999"):
        sis("report", "999")
    runs = ImportRun.objects.count()
    with pytest.raises(CommandError, match="--workers: give 1 or more"):
        sis("import", path, "--profile", "registrar", "--workers", "0", "--no-progress")
    assert ImportRun.objects.count() == runs  # refused before a run was started


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's refusal")
def test_several_workers_on_sqlite_are_refused_before_anything_starts(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1"))
    with pytest.raises(CommandError, match="several workers need PostgreSQL"):
        sis("import", path, "--profile", "registrar", "--workers", "2", "--no-progress")
    assert not ImportRun.objects.exists()


def test_as_a_staff_user_without_the_permission_is_refused(profile, tmp_path):
    make_staff("USER_MANAGER", primary_id="uma")
    path = users_file(tmp_path / "a.xml", user_xml("s1"))
    with pytest.raises(CommandError, match="may not run this command"):
        sis("import", path, "--profile", "registrar", "--as", "uma", "--no-progress")
    make_staff("USER_ADMINISTRATOR", primary_id="ursula")
    sis("import", path, "--profile", "registrar", "--as", "ursula", "--no-progress")
    assert ImportRun.objects.get().started_by.primary_id == "ursula"
