"""Editing and messaging users in bulk (seed 002): a saved search or a list of IDs, one
operation, run as a chunked job with a dry run, a report and an audit event per change;
every change obeys the rules of a single edit."""

from __future__ import annotations

import pytest
from django.core import mail as outbox

from patronage.accounts import actions as accounts
from patronage.accounts.models import User, UserBlock, UserNote
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, NotFound, ValidationFailed
from patronage.sis import bulk_update as bulk
from patronage.sis.actions import report_rows, set_open_for_update
from patronage.sis.models import ImportItem, RunStatus
from tests.factories import SYSTEM, actor_for, make_library, make_staff, make_user

from .conftest import run_import, user_xml, users_file

GROUP_TO_GRAD = {"type": "set_field", "field": "user_group", "value": "GRAD"}


@pytest.fixture
def manager(db):
    return make_staff("USER_MANAGER", primary_id="uma")


@pytest.fixture
def patrons(db):
    return [
        make_user(
            primary_id=f"p{n}", emails=[{"address": f"p{n}@uni.example", "types": ["personal"]}]
        )
        for n in range(1, 4)
    ]


def _run(actor, operation=GROUP_TO_GRAD, **selection):
    run = bulk.start_bulk(actor=actor, operation=operation, **selection)
    return bulk.execute_bulk(run_id=run.pk)


def test_a_list_of_ids_sets_a_field_and_reports_unknown_ids(manager, patrons):
    patrons[0].identifiers.create(id_type="BARCODE", value="BC-9", key="bc-9")
    run = _run(actor_for(manager), ids=["BC-9", "p2", "nobody"], match_by="any_identifier")
    assert run.status == RunStatus.FINISHED
    assert (run.records_done, run.updated, run.rejected) == (3, 2, 1)
    assert list(
        User.objects.filter(primary_id__in=["p1", "p2", "p3"])
        .order_by("primary_id")
        .values_list("user_group", flat=True)
    ) == ["GRAD", "GRAD", "UNDERGRAD"]
    rejected = run.items.get(outcome="rejected")
    assert (rejected.primary_id, rejected.line) == ("nobody", 3)
    assert rejected.reason == "No user has this ID (or you may not see them)."
    # One audit event per change, through the job channel, under the run's job id.
    events = AuditEvent.objects.filter(verb="user.updated", job=run.job)
    assert events.count() == 2
    assert {e.channel for e in events} == {"job"}
    assert {e.actor_label for e in events} == {"uma"}
    report = list(report_rows(run))
    assert any(row[3] == "p2" and "user_group: UNDERGRAD → GRAD" in row[6] for row in report)


def test_matching_by_primary_id_does_not_take_other_identifiers(manager, patrons):
    patrons[0].identifiers.create(id_type="BARCODE", value="BC-9", key="bc-9")
    run = _run(actor_for(manager), ids=["BC-9"], match_by="primary_id")
    assert (run.updated, run.rejected) == (0, 1)


def test_unchanged_users_are_counted_not_written(manager, patrons):
    accounts.update_user(actor=SYSTEM, user=patrons[0], fields={"user_group": "GRAD"})
    run = _run(actor_for(manager), ids=["p1", "p2"])
    assert (run.updated, run.unchanged) == (1, 1)
    assert not AuditEvent.objects.filter(job=run.job, subject_id=patrons[0].pk).exists()


def test_a_dry_run_reports_everything_and_writes_nothing(
    manager, patrons, django_capture_on_commit_callbacks
):
    before = AuditEvent.objects.filter(verb="user.updated").count()
    run = _run(actor_for(manager), ids="p1\np2\nnobody", dry_run=True)
    assert (run.updated, run.rejected) == (2, 1)
    assert set(
        User.objects.filter(primary_id__startswith="p").values_list("user_group", flat=True)
    ) == {"UNDERGRAD"}
    assert AuditEvent.objects.filter(verb="user.updated").count() == before
    changed = run.items.get(primary_id="p1")
    assert changed.changes == [{"field": "user_group", "old": "UNDERGRAD", "new": "GRAD"}]

    note = {"type": "add_note", "note_type": "CIRCULATION", "text": "Bring your card"}
    _run(actor_for(manager), note, ids=["p1"], dry_run=True)
    email = {"type": "send_email", "subject": "Hello", "body": "Dear {{ first_name }}"}
    with django_capture_on_commit_callbacks(execute=True):
        run = _run(actor_for(manager), email, ids=["p1"], dry_run=True)
    assert run.updated == 1
    assert not UserNote.objects.exists()
    assert outbox.outbox == []


def test_a_saved_search_is_evaluated_when_the_run_starts(manager, patrons):
    search = bulk.save_search(
        actor=actor_for(manager),
        name="Undergraduates",
        filters={"user_group": "UNDERGRAD", "record_type": "PUBLIC"},
    )
    late = make_user(primary_id="late")  # added after the search was saved
    run = _run(actor_for(manager), saved_search=search.pk)
    assert run.updated == 4
    late.refresh_from_db()
    assert late.user_group == "GRAD"
    assert run.parameters["selection"]["name"] == "Undergraduates"


def test_saved_searches_belong_to_their_owner(manager, patrons):
    search = bulk.save_search(actor=actor_for(manager), name="Mine", filters={"user_group": "GRAD"})
    other = make_staff("USER_MANAGER", primary_id="otto")
    with pytest.raises(NotFound):
        bulk.start_bulk(actor=actor_for(other), operation=GROUP_TO_GRAD, saved_search=search.pk)
    with pytest.raises(ValidationFailed) as caught:
        bulk.save_search(actor=actor_for(manager), name="Mine", filters={})
    assert caught.value.errors["name"] == "You already have a saved search named 'Mine'."
    with pytest.raises(ValidationFailed) as caught:
        bulk.save_search(
            actor=actor_for(manager), name="Odd", filters={"status": "gone", "colour": "red"}
        )
    assert caught.value.errors == {
        "status": "'gone' is not one of active, inactive.",
        "colour": "'colour' is not a filter of the user search.",
    }


def test_external_fields_of_external_users_only_when_open_for_update(manager, profile, tmp_path):
    run_import([users_file(tmp_path / "a.xml", user_xml("s1"), user_xml("s2"))])
    set_open_for_update(actor=SYSTEM, user=User.objects.get(primary_id="s2"), open_for_update=True)
    run = _run(actor_for(manager), ids=["s1", "s2"])
    assert (run.updated, run.rejected) == (1, 1)
    refused = run.items.get(outcome="rejected")
    assert refused.primary_id == "s1"
    assert "comes from the student information system" in refused.reason
    # Fields the SIS does not own are still the library's: a note is fine on both.
    note = {"type": "add_note", "note_type": "CIRCULATION", "text": "Welcome"}
    assert _run(actor_for(manager), note, ids=["s1", "s2"]).updated == 2


def test_restricted_users_need_the_permission_to_edit_them(manager, patrons):
    accounts.update_user(actor=SYSTEM, user=patrons[1], fields={"restricted_for_editing": True})
    run = _run(actor_for(manager), ids=["p1", "p2"])
    assert (run.updated, run.rejected) == (1, 1)
    assert "restricted for editing" in run.items.get(primary_id="p2").reason
    admin = make_staff("USER_ADMINISTRATOR")
    assert _run(actor_for(admin), ids=["p2"]).updated == 1


def test_values_are_checked_per_user_like_a_single_edit(manager, patrons):
    staff_member = make_staff(primary_id="stf")  # GRAD is not a user group for staff users
    run = _run(actor_for(manager), ids=["p1", "stf"])
    assert (run.updated, run.rejected) == (1, 1)
    assert "not available for Staff users" in run.items.get(primary_id="stf").reason
    staff_member.refresh_from_db()
    assert staff_member.user_group == "STAFF"


def test_bad_operations_are_refused_before_anything_starts(manager, patrons):
    actor = actor_for(manager)
    cases = [
        ({"type": "delete_everything"}, "type"),
        ({"type": "set_field", "field": "last_name", "value": "X"}, "field"),
        ({"type": "set_field", "field": "user_group", "value": "NOPE"}, "value"),
        ({"type": "set_field", "field": "expiry_date", "value": "31/12/2027"}, "value"),
        ({"type": "add_note", "note_type": "CIRCULATION", "text": " "}, "text"),
        ({"type": "add_block", "block_type": "NOPE"}, "block_type"),
        ({"type": "send_email", "subject": "Hi", "body": "{{ password }}"}, "body"),
    ]
    for operation, field in cases:
        with pytest.raises(ValidationFailed) as caught:
            bulk.start_bulk(actor=actor, operation=operation, ids=["p1"])
        assert field in caught.value.errors, operation
    with pytest.raises(ValidationFailed) as caught:
        bulk.start_bulk(actor=actor, operation=GROUP_TO_GRAD, ids=["p1"], saved_search=1)
    assert caught.value.code == "bad_selection"
    with pytest.raises(ValidationFailed) as caught:
        bulk.start_bulk(actor=actor, operation=GROUP_TO_GRAD, ids=" \n ")
    assert caught.value.errors == {"ids": "Give at least one ID."}
    assert not bulk.visible_runs(manager).exists()


def test_without_the_bulk_permission_nothing_starts(patrons, desk_operator):
    with pytest.raises(Forbidden):
        bulk.start_bulk(actor=actor_for(desk_operator), operation=GROUP_TO_GRAD, ids=["p1"])


def test_notes_and_blocks_only_for_libraries_in_the_runners_scope(patrons):
    main, other = make_library(), make_library("LAW", "Law Library")
    scoped = make_staff("USER_MANAGER", scope=main)
    note = {"type": "add_note", "note_type": "CIRCULATION", "text": "Hi", "owner": other.pk}
    with pytest.raises(ValidationFailed) as caught:
        bulk.start_bulk(actor=actor_for(scoped), operation=note, ids=["p1"])
    assert "within the scope of your roles" in caught.value.errors["owner"]
    block = {"type": "add_block", "block_type": "GENERAL", "owner": main.code, "note": "Lost card"}
    run = _run(actor_for(scoped), block, ids=["p1", "p2"])
    assert run.updated == 2
    assert set(UserBlock.objects.values_list("owner__code", flat=True)) == {"MAIN"}
    assert AuditEvent.objects.filter(verb="block.added", job=run.job).count() == 2


def test_bulk_email_goes_to_the_preferred_address_and_reports_users_without_one(
    manager, patrons, django_capture_on_commit_callbacks
):
    make_user(primary_id="nomail")
    email = {
        "type": "send_email",
        "subject": "Your card, {{ first_name }}",
        "body": "Dear {{ display_name }}, your account {{ primary_id }} expires.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        run = _run(actor_for(manager), email, ids=["p1", "nomail"])
    assert (run.updated, run.rejected) == (1, 1)
    assert run.items.get(primary_id="nomail").reason == "This user has no e-mail address."
    assert run.items.get(primary_id="p1").outcome == "sent"
    [message] = outbox.outbox
    assert message.to == ["p1@uni.example"]
    assert message.subject == "Your card, Test"
    assert "your account p1 expires" in message.body
    assert AuditEvent.objects.filter(verb="user.emailed", job=run.job).count() == 1


def test_a_run_killed_mid_chunk_resumes_with_nothing_lost_or_doubled(manager, monkeypatch):
    for n in range(7):
        make_user(primary_id=f"k{n}")
    monkeypatch.setattr(bulk, "CHUNK_SIZE", 3)
    run = bulk.start_bulk(
        actor=actor_for(manager), operation=GROUP_TO_GRAD, ids=[f"k{n}" for n in range(7)]
    )
    bulk.read_bulk(run_id=run.pk)
    calls = {"n": 0}
    real = accounts.update_user

    def dies_on_the_fifth(**kwargs):
        calls["n"] += 1
        if calls["n"] == 5:  # in the second chunk, after one of its users was changed
            raise SystemExit("killed")
        return real(**kwargs)

    monkeypatch.setattr(accounts, "update_user", dies_on_the_fifth)
    with pytest.raises(SystemExit):
        bulk.apply_bulk(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.records_done, run.updated) == (RunStatus.RUNNING, 3, 3)
    assert User.objects.filter(user_group="GRAD").count() == 3  # the second chunk left no trace

    monkeypatch.setattr(accounts, "update_user", real)
    run = bulk.apply_bulk(run_id=run.pk)
    assert (run.status, run.records_done, run.updated) == (RunStatus.FINISHED, 7, 7)
    assert User.objects.filter(primary_id__startswith="k", user_group="GRAD").count() == 7
    assert AuditEvent.objects.filter(verb="user.updated", job=run.job).count() == 7
    assert ImportItem.objects.filter(run=run).count() == 7


def test_a_killed_read_resumes_after_the_last_stored_chunk(manager, monkeypatch):
    for n in range(5):
        make_user(primary_id=f"r{n}", user_group="GRAD")
    search = bulk.save_search(
        actor=actor_for(manager), name="Grads", filters={"user_group": "GRAD"}
    )
    monkeypatch.setattr(bulk, "CHUNK_SIZE", 2)
    operation = {"type": "set_field", "field": "expiry_date", "value": "2030-01-31"}
    run = bulk.start_bulk(actor=actor_for(manager), operation=operation, saved_search=search.pk)
    real = bulk._store_chunk
    stored = {"n": 0}

    def dies_on_the_second(run, seq, batch):
        stored["n"] += 1
        if stored["n"] == 2:
            raise SystemExit("killed")
        real(run, seq, batch)

    monkeypatch.setattr(bulk, "_store_chunk", dies_on_the_second)
    with pytest.raises(SystemExit):
        bulk.read_bulk(run_id=run.pk)
    monkeypatch.setattr(bulk, "_store_chunk", real)
    run = bulk.execute_bulk(run_id=run.pk)
    assert (run.records_done, run.updated) == (5, 5)
    assert AuditEvent.objects.filter(verb="user.updated", job=run.job).count() == 5


def test_runs_and_searches_of_others_are_not_found(manager, patrons):
    run = _run(actor_for(manager), ids=["p1"])
    other = make_staff("USER_MANAGER", primary_id="otto")
    with pytest.raises(NotFound):
        bulk.get_bulk_run(other, run.pk)
    with pytest.raises(NotFound):
        bulk.resume_bulk(actor=actor_for(other), run_id=run.pk)
    assert bulk.get_bulk_run(manager, run.pk) == run
