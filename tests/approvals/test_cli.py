"""``patronage hr separations FILE`` and ``patronage governance daily``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from patronage.approvals.models import Separation

pytestmark = pytest.mark.django_db


def test_hr_separations_applies_good_rows_and_fails_on_bad_ones(org, tmp_path, capsys):
    path = tmp_path / "hr.csv"
    path.write_text(f"primary_id,separation_date\ncole,{timezone.localdate()}\nghost,2026-01-01\n")
    with pytest.raises(CommandError) as failed:
        call_command("hr", "separations", str(path))
    assert "1 row(s) refused" in str(failed.value)
    out, err = capsys.readouterr()
    assert "line 2: cole" in out and "line 3: ghost: No user has this primary ID." in err
    assert Separation.objects.get().user == org.colleague


def test_hr_separations_runs_as_a_staff_user_with_the_permission(org, tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text(f"primary_id,separation_date\ncole,{timezone.localdate()}\n")
    with pytest.raises(CommandError):
        call_command("hr", "separations", str(path), "--as", "sue")
    call_command("hr", "separations", str(path), "--as", "admin")
    assert Separation.objects.get().recorded_by == org.it


def test_an_unreadable_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError) as failed:
        call_command("hr", "separations", str(tmp_path / "missing.csv"))
    assert "Cannot read" in str(failed.value)


def test_governance_daily(org, capsys):
    call_command("governance", "daily")
    assert "Grants expired: 0" in capsys.readouterr().out
