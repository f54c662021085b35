"""Retention of patron data (ALA/NISO practice, seed 002): returned loans anonymised unless
the patron opted in to a loan history, users past their purge date purged, last patron
activity dates deleted when the library stops recording them -- never touching a user with
a loan out, an unsettled fee or a legal hold; counts in the audit; settings validated."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from patronage.accounts.actions import update_user
from patronage.accounts.models import User, UserManagementSettings
from patronage.audit import chain
from patronage.audit.models import AuditEvent
from patronage.circulation import actions as circulation
from patronage.circulation.models import Fee, Loan
from patronage.circulation.selectors import fee_balance
from patronage.errors import Forbidden, ValidationFailed
from patronage.privacy import retention
from patronage.privacy.models import LegalRequest, LegalState, RetentionSettings
from tests.api.client import ApiClient
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, actor_for, make_user

pytestmark = pytest.mark.django_db


def lend(operator, desk, user, *, returned_days_ago: int | None = None) -> Loan:
    item = make_item(desk.library)
    loan = circulation.check_out(
        actor=actor_for(operator), user=user, barcode=item.barcode, desk=desk
    )
    if returned_days_ago is not None:
        circulation.return_item(actor=actor_for(operator), barcode=item.barcode, desk=desk)
        # The return happened that long ago (the clock of the test, not of the product).
        back = timezone.now() - datetime.timedelta(days=returned_days_ago)
        Loan.objects.filter(pk=loan.pk).update(
            loaned_at=back - datetime.timedelta(days=7), due_at=back, returned_at=back
        )
    loan.refresh_from_db()
    return loan


def set_days(days: int) -> None:
    retention.update_retention_settings(actor=SYSTEM, changes={"anonymise_loans_after_days": days})


def test_old_returned_loans_are_anonymised_keeping_what_statistics_need(operator, desk, officer):
    patron = make_user(user_group="GRAD")
    old = lend(operator, desk, patron, returned_days_ago=40)
    recent = lend(operator, desk, patron, returned_days_ago=5)
    set_days(30)
    report = retention.run_retention(actor=actor_for(officer))
    assert report.loans_anonymised == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.user_id is None and old.anonymised_at is not None
    # The item, library, desk, dates and the borrower's group stay for statistics.
    assert (old.item_id, old.library_id, old.borrower_group) == (
        old.item_id,
        desk.library_id,
        "GRAD",
    )
    assert old.returned_at is not None
    assert recent.user_id == patron.pk  # returned 5 days ago: kept for now
    assert not Loan.objects.filter(user=patron, pk=old.pk).exists()
    event = AuditEvent.objects.get(verb="privacy.retention_run")
    assert event.actor_id == officer.pk
    assert event.details["loans_anonymised"] == 1
    batch = AuditEvent.objects.get(verb="loans.anonymised")
    assert batch.details == {"loans": 1, "first": old.pk, "last": old.pk}


def test_a_patron_who_opted_in_keeps_their_loan_history(operator, desk, officer):
    patron = make_user()
    update_user(actor=SYSTEM, user=patron, fields={"keep_loan_history": True})
    loan = lend(operator, desk, patron, returned_days_ago=400)
    assert retention.run_retention(actor=actor_for(officer)).loans_anonymised == 0
    loan.refresh_from_db()
    assert loan.user_id == patron.pk
    update_user(actor=SYSTEM, user=patron, fields={"keep_loan_history": False})
    assert retention.run_retention(actor=actor_for(officer)).loans_anonymised == 1


def test_a_user_with_a_loan_out_or_an_unpaid_fee_is_never_touched(operator, desk, officer):
    borrowing = make_user()
    owing = make_user()
    owing.purge_date = timezone.localdate() - datetime.timedelta(days=1)
    owing.save(update_fields=["purge_date"])
    borrowing_old = lend(operator, desk, borrowing, returned_days_ago=100)
    lend(operator, desk, borrowing)  # still out
    owing_old = lend(operator, desk, owing, returned_days_ago=100)
    fee = circulation.create_fee(actor=SYSTEM, user=owing, fee_type="OTHER", amount="4.00")
    set_days(0)
    report = retention.run_retention(actor=actor_for(officer))
    assert report.loans_anonymised == 0
    assert report.borrowers_left_alone["open_loans"] == 1
    assert report.borrowers_left_alone["unsettled_fees"] == 1
    assert report.users_purged == 0 and report.users_kept == {"balance_due": 1}
    for loan, user in ((borrowing_old, borrowing), (owing_old, owing)):
        loan.refresh_from_db()
        assert loan.user_id == user.pk
    assert User.objects.filter(pk=owing.pk).exists()
    assert fee_balance(Fee.objects.get(pk=fee.pk)) == 4


def test_a_fine_keeps_its_amounts_but_loses_its_link_to_the_anonymised_loan(
    operator, desk, officer
):
    patron = make_user()
    loan = lend(operator, desk, patron, returned_days_ago=60)
    fee = circulation.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount="3.00")
    Fee.objects.filter(pk=fee.pk).update(loan=loan)
    circulation.pay_fee(actor=SYSTEM, fee=fee, amount="3.00", method="CASH")
    retention.run_retention(actor=actor_for(officer))
    fee.refresh_from_db()
    assert fee.loan_id is None and fee.user_id == patron.pk
    assert fee.original_amount == 3 and fee_balance(fee) == 0


def test_a_legal_hold_keeps_loans_and_stops_the_purge(operator, desk, officer):
    patron = make_user()
    patron.purge_date = timezone.localdate()
    patron.save(update_fields=["purge_date"])
    loan = lend(operator, desk, patron, returned_days_ago=90)
    legal = LegalRequest.objects.create(
        reference="LP-1",
        agency="Sheriff",
        kind="subpoena",
        description="records",
        received_on=timezone.localdate(),
        supervisor_email="s@example.org",
        director_email="d@example.org",
        state=LegalState.ORDER_VALIDATED,
        state_changed_at=timezone.now(),
    )
    legal.order_users.add(patron)
    report = retention.run_retention(actor=actor_for(officer))
    assert report.loans_anonymised == 0 and report.users_kept == {"legal_hold": 1}
    loan.refresh_from_db()
    assert loan.user_id == patron.pk and User.objects.filter(pk=patron.pk).exists()


def test_users_past_their_purge_date_are_purged_by_the_purge_job(officer):
    gone = make_user()
    stays = make_user()
    gone.purge_date = timezone.localdate() - datetime.timedelta(days=1)
    gone.save(update_fields=["purge_date"])
    stays.purge_date = timezone.localdate() + datetime.timedelta(days=10)
    stays.save(update_fields=["purge_date"])
    dry = retention.run_retention(actor=actor_for(officer), dry_run=True)
    assert dry.users_purged == 1 and User.objects.filter(pk=gone.pk).exists()
    assert not AuditEvent.objects.filter(verb="privacy.retention_run").exists()
    report = retention.run_retention(actor=actor_for(officer))
    assert report.users_purged == 1
    assert not User.objects.filter(pk=gone.pk).exists()
    assert User.objects.filter(pk=stays.pk).exists()
    deleted = AuditEvent.objects.get(verb="user.deleted", object_id=str(gone.pk))
    assert deleted.job == retention.RETENTION_JOB


def test_the_activity_date_is_recorded_only_while_on_and_deleted_when_turned_off(
    operator, desk, officer
):
    patron = make_user()
    lend(operator, desk, patron)
    patron.refresh_from_db()
    assert patron.last_patron_activity_date is None  # off by default: nothing collected
    retention.update_retention_settings(
        actor=actor_for(officer), changes={"record_last_patron_activity": True}
    )
    lend(operator, desk, patron)
    patron.refresh_from_db()
    assert patron.last_patron_activity_date == timezone.localdate()
    retention.update_retention_settings(
        actor=actor_for(officer), changes={"record_last_patron_activity": False}
    )
    patron.refresh_from_db()
    assert patron.last_patron_activity_date is None
    changed = (
        AuditEvent.objects.filter(verb="privacy.retention_settings_changed").order_by("pk").last()
    )
    assert changed.details == {"activity_dates_deleted": 1}


def test_a_setting_out_of_range_is_refused_and_nothing_is_deleted(officer):
    patron = make_user()
    UserManagementSettings.objects.filter(pk=UserManagementSettings.current().pk).update(
        record_last_patron_activity=True
    )
    User.objects.filter(pk=patron.pk).update(last_patron_activity_date=timezone.localdate())
    for bad in (-1, 3651, "soon", True):
        with pytest.raises(ValidationFailed) as refused:
            retention.update_retention_settings(
                actor=actor_for(officer),
                changes={"anonymise_loans_after_days": bad, "record_last_patron_activity": False},
            )
        assert "anonymise_loans_after_days" in refused.value.errors
    assert RetentionSettings.current().anonymise_loans_after_days == 30
    assert UserManagementSettings.current().record_last_patron_activity
    patron.refresh_from_db()
    assert patron.last_patron_activity_date == timezone.localdate()


def test_retention_needs_its_permission(no_roles):
    with pytest.raises(Forbidden):
        retention.run_retention(actor=actor_for(no_roles))
    with pytest.raises(Forbidden):
        retention.update_retention_settings(actor=actor_for(no_roles), changes={})


def test_the_background_task_runs_as_the_officer_who_started_it(operator, desk, officer):
    patron = make_user()
    lend(operator, desk, patron, returned_days_ago=45)
    task_id = retention.enqueue_retention(actor=actor_for(officer))
    queued = DBTaskResult.objects.get(pk=task_id)
    assert queued.args_kwargs["args"] == [officer.pk]
    result = retention.run_retention_task.call(officer.pk)
    assert result["loans_anonymised"] == 1
    assert AuditEvent.objects.get(verb="privacy.retention_run").channel == "job"


def test_the_chain_still_verifies_after_a_run(operator, desk, officer):
    lend(operator, desk, make_user(), returned_days_ago=45)
    retention.run_retention(actor=actor_for(officer))
    chain.chain_pending()
    assert chain.verify().ok


# --- the CLI ------------------------------------------------------------------------------------


def cli(*args: str) -> str:
    out = StringIO()
    call_command("retention", *args, stdout=out)
    return out.getvalue()


def test_the_cli_dry_run_counts_and_the_run_anonymises(operator, desk, officer):
    patron = make_user()
    loan = lend(operator, desk, patron, returned_days_ago=45)
    out = cli("run", "--dry-run", "--as", "officer")
    assert "Dry run" in out and "anonymised: 1" in out
    loan.refresh_from_db()
    assert loan.user_id == patron.pk
    assert "anonymised: 1" in cli("run", "--as", "officer")
    loan.refresh_from_db()
    assert loan.user_id is None


def test_the_cli_refuses_a_bad_setting_and_one_without_permission(officer, no_roles):
    with pytest.raises(CommandError, match="out of range"):
        cli("settings", "--anonymise-after", "99999", "--as", "officer")
    assert RetentionSettings.current().anonymise_loans_after_days == 30
    assert "after: 7 day(s)" in cli("settings", "--anonymise-after", "7", "--as", "officer")
    with pytest.raises(CommandError):
        cli("run", "--as", no_roles.primary_id)


# --- the API and the UI -------------------------------------------------------------------------


def test_the_api_reads_and_changes_the_settings_and_runs(operator, desk, officer, no_roles):
    api = ApiClient(officer)
    assert api.get("/privacy/retention").json() == {
        "anonymise_loans_after_days": 30,
        "record_last_patron_activity": False,
    }
    bad = api.patch("/privacy/retention", {"anonymise_loans_after_days": 5000})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_retention_setting"
    assert "3650" in bad.json()["errors"]["anonymise_loans_after_days"]
    good = api.patch("/privacy/retention", {"anonymise_loans_after_days": 10})
    assert good.status_code == 200 and good.json()["anonymise_loans_after_days"] == 10
    lend(operator, desk, make_user(), returned_days_ago=20)
    dry = api.post("/privacy/retention/run", {"dry_run": True})
    assert dry.status_code == 200 and dry.json()["loans_anonymised"] == 1
    started = api.post("/privacy/retention/run", {})
    assert started.status_code == 202 and DBTaskResult.objects.filter(pk=started.json()["task_id"])
    assert ApiClient(no_roles).get("/privacy/retention").status_code == 403
    assert ApiClient(no_roles).post("/privacy/retention/run", {}).status_code == 403


def test_the_retention_page(operator, desk, officer, no_roles):
    client = Client()
    client.force_login(officer)
    page = client.get("/privacy/retention/")
    assert page.status_code == 200 and b"Anonymise returned loans after" in page.content
    lend(operator, desk, make_user(), returned_days_ago=45)
    dry = client.post("/privacy/retention/", {"action": "dry_run"})
    assert dry.status_code == 200 and b'id="dry-loans">1<' in dry.content
    bad = client.post("/privacy/retention/", {"action": "save", "anonymise_loans_after_days": "-3"})
    assert bad.status_code == 422 and b"out of range" in bad.content
    saved = client.post(
        "/privacy/retention/",
        {"action": "save", "anonymise_loans_after_days": "14", "record_last_patron_activity": "on"},
    )
    assert saved.status_code == 302
    assert retention.retention_settings() == {
        "anonymise_loans_after_days": 14,
        "record_last_patron_activity": True,
    }
    other = Client()
    other.force_login(no_roles)
    assert other.get("/privacy/retention/").status_code == 403
