"""``patronage export users``: every user in the import formats, and back again."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from patronage.accounts import actions as accounts
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from patronage.sis.actions import save_profile
from patronage.sis.export import csv_columns
from tests.factories import SYSTEM, make_staff

from .conftest import run_import, user_xml, users_file


def _snapshot() -> list[tuple]:
    users = []
    for user in User.objects.order_by("primary_id"):
        users.append(
            (
                user.primary_id,
                user.first_name,
                user.last_name,
                user.user_group,
                user.expiry_date,
                sorted((i.id_type, i.value) for i in user.identifiers.filter(is_primary=False)),
                sorted(user.emails.values_list("address", "preferred")),
                sorted(user.addresses.values_list("line1", "city")),
                sorted(user.statistics.values_list("category_type", "category")),
            )
        )
    return users


@pytest.fixture
def loaded(profile, tmp_path):
    path = users_file(
        tmp_path / "a.xml",
        user_xml("s1", statistics=[("DEPARTMENT", "LAW")]),
        user_xml("s2", identifiers=[("BARCODE", "B2"), ("UNIV_ID", "U2")], emails=["a@b.org"]),
    )
    run_import([path])
    return _snapshot()


def test_an_xml_export_imports_again_with_nothing_changed(loaded, tmp_path):
    target = tmp_path / "export.xml"
    call_command("export", "users", "--format", "xml", "-o", str(target), stderr=io.StringIO())
    run = run_import([str(target)])
    assert (run.created, run.updated, run.rejected, run.unchanged) == (0, 0, 0, 2)


def test_an_xml_export_loads_into_an_empty_system(loaded, tmp_path):
    accounts.add_note(
        actor=SYSTEM, user=User.objects.get(primary_id="s1"), note_type="OTHER", text="Hi"
    )
    target = tmp_path / "export.xml"
    call_command("export", "users", "--format", "xml", "-o", str(target), stderr=io.StringIO())
    User.objects.all().delete()
    run = run_import([str(target)])
    assert run.created == 2
    assert _snapshot() == loaded
    assert User.objects.get(primary_id="s1").notes.get().text == "Hi"


def test_a_csv_export_round_trips_through_a_mapping_of_its_own_heading(loaded, tmp_path):
    target = tmp_path / "export.csv"
    call_command("export", "users", "--format", "csv", "-o", str(target), stderr=io.StringIO())
    save_profile(
        actor=SYSTEM,
        code="csv",
        create=True,
        values={
            "name": "CSV export",
            "file_format": "csv",
            "csv_mapping": {column: column for column in csv_columns()},
            "match_by": "primary_id",
            "default_record_type": "PUBLIC",
            "missing_action": "nothing",
            "missing_expiry_days": 0,
        },
    )
    User.objects.all().delete()
    run = run_import([str(target)], code="csv")
    assert (run.created, run.rejected) == (2, 0)
    assert _snapshot() == loaded


def test_exporting_needs_the_permission_and_is_audited(loaded, tmp_path):
    make_staff("USER_MANAGER", primary_id="uma")
    with pytest.raises(CommandError, match="may not run this command"):
        call_command("export", "users", "--as", "uma", stdout=io.StringIO())
    make_staff("USER_ADMINISTRATOR", primary_id="ursula")
    out = io.StringIO()
    call_command(
        "export", "users", "--format", "csv", "--as", "ursula", stdout=out, stderr=io.StringIO()
    )
    assert out.getvalue().splitlines()[0].startswith("primary_id,record_type,first_name")
    event = AuditEvent.objects.get(verb="users.exported")
    assert event.actor.primary_id == "ursula" and event.details["count"] >= 2
