"""Deleting users (seed 002 "Deleting Users"): the preconditions, the dialog's choices
(waive the fees then confirm, notify the user), who may delete, and the purge job."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from patronage.accounts.models import User
from patronage.audit.models import AuditEvent, SubjectKey
from patronage.circulation import actions
from patronage.circulation.deletion import delete_user, deletion_check, purge_users
from patronage.circulation.models import Fee
from patronage.errors import Conflict, Forbidden, ValidationFailed
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, actor_for, make_staff, make_user

pytestmark = pytest.mark.django_db


def test_a_user_without_loans_or_fees_is_deleted_and_their_history_kept(user_manager, patron):
    patron_id = patron.pk
    delete_user(actor=actor_for(user_manager), user=patron)
    assert not User.objects.filter(pk=patron_id).exists()
    events = AuditEvent.objects.filter(subject_id=patron_id)
    assert {"user.created", "user.deleted"} <= set(events.values_list("verb", flat=True))
    # ... with the personal values in it made unreadable (crypto-shredding).
    assert SubjectKey.objects.get(subject_id=patron_id).destroyed_at is not None
    assert AuditEvent.objects.filter(verb="audit.subject_forgotten", object_id=str(patron_id))


def test_a_user_with_open_loans_cannot_be_deleted(user_manager, operator, desk, patron):
    actions.check_out(
        actor=actor_for(operator), user=patron, barcode=make_item(desk.library).barcode, desk=desk
    )
    check = deletion_check(patron)
    assert [p.code for p in check.unmet] == ["outstanding_loans"]
    with pytest.raises(Conflict) as refused:
        delete_user(actor=actor_for(user_manager), user=patron)
    assert refused.value.code == "deletion_refused"
    assert "on loan" in refused.value.message
    assert User.objects.filter(pk=patron.pk).exists()


def test_fees_due_stop_a_deletion_until_waived_then_it_goes_ahead(user_manager, patron):
    actions.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount="8.00")
    check = deletion_check(patron)
    assert check.fees_only and check.balance_due == 8
    with pytest.raises(Conflict):
        delete_user(actor=actor_for(user_manager), user=patron)
    assert Fee.objects.filter(user=patron).exists()
    delete_user(actor=actor_for(user_manager), user=patron, waive_fees=True)
    assert not User.objects.filter(pk=patron.pk).exists()
    assert AuditEvent.objects.filter(subject_id=patron.pk, verb="fee.waived").exists()


def test_a_user_locked_by_a_running_job_cannot_be_deleted(user_manager, patron):
    DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": [], "kwargs": {"user_id": patron.pk}},
        task_path="patronage.sis.tasks.update_user",
        backend_name="default",
        queue_name="default",
        run_after=timezone.now(),
    )
    assert [p.code for p in deletion_check(patron).unmet] == ["locked_by_job"]
    with pytest.raises(Conflict):
        delete_user(actor=actor_for(user_manager), user=patron)


def test_only_user_managers_and_administrators_delete(manager, desk_operator, patron):
    for staff in (manager, desk_operator):
        with pytest.raises(Forbidden):
            delete_user(actor=actor_for(staff), user=patron)
    delete_user(actor=actor_for(make_staff("USER_ADMINISTRATOR")), user=patron)


def test_nobody_deletes_their_own_account(user_manager):
    with pytest.raises(Conflict):
        delete_user(actor=actor_for(user_manager), user=user_manager)


def test_notify_emails_the_deletion_letter_with_a_copy_attached(
    user_manager, django_capture_on_commit_callbacks
):
    patron = make_user(emails=[{"address": "pat@example.org", "types": ["personal"]}])
    with django_capture_on_commit_callbacks(execute=True):
        delete_user(actor=actor_for(user_manager), user=patron, notify=True)
    (message,) = mail.outbox
    assert message.to == ["pat@example.org"]
    assert "has been deleted" in message.body
    assert message.attachments[0][0] == "user-deletion-letter.txt"


def test_notify_without_an_email_address_is_refused_and_nothing_deleted(user_manager, patron):
    with pytest.raises(ValidationFailed):
        delete_user(actor=actor_for(user_manager), user=patron, notify=True)
    assert User.objects.filter(pk=patron.pk).exists()
    assert not mail.outbox


def test_the_purge_job_deletes_users_past_their_purge_date_that_meet_the_preconditions(
    operator, desk
):
    past = timezone.localdate() - datetime.timedelta(days=1)
    gone = make_user(expiry_date=past - datetime.timedelta(days=30), purge_date=past)
    owing = make_user(expiry_date=past - datetime.timedelta(days=30), purge_date=past)
    actions.create_fee(actor=SYSTEM, user=owing, fee_type="OTHER", amount="1")
    future = make_user(purge_date=timezone.localdate() + datetime.timedelta(days=5))
    report = purge_users(actor=SYSTEM)
    assert report.deleted == 1 and report.kept == {owing.pk: ["balance_due"]}
    assert not User.objects.filter(pk=gone.pk).exists()
    assert User.objects.filter(pk__in=[owing.pk, future.pk]).count() == 2


def test_the_purge_command_reports_the_users_kept(capsys):
    past = timezone.localdate() - datetime.timedelta(days=1)
    owing = make_user(expiry_date=past, purge_date=past)
    actions.create_fee(actor=SYSTEM, user=owing, fee_type="OTHER", amount="1")
    call_command("purge_users")
    out = capsys.readouterr().out
    assert "Users purged: 0" in out and f"Kept user {owing.pk}: balance_due" in out
