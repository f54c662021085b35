"""SIS imports (seed 002 "external users"): what the nightly load does to user records."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.hashers import check_password
from prometheus_client.parser import text_string_to_metric_families

from patronage.accounts import actions as accounts
from patronage.accounts.actions import MASKED
from patronage.accounts.models import User, UserIdentifier
from patronage.audit.models import AuditEvent
from patronage.audit.shredding import Opener
from patronage.errors import NotFound, ValidationFailed
from patronage.sis import actions as sis_actions
from patronage.sis import sync
from patronage.sis.actions import report_rows, save_profile, start_import
from patronage.sis.models import ImportItem, Outcome, RunStatus
from tests.factories import SYSTEM, make_user

from .conftest import run_import, user_xml, users_file, zipped


def _user(primary_id: str) -> User:
    return User.objects.get(primary_id=primary_id)


def test_first_load_creates_external_users_owned_by_the_profile(profile, tmp_path):
    path = users_file(
        tmp_path / "a.xml",
        user_xml("s1001", identifiers=[("BARCODE", "39001"), ("UNIV_ID", "U1")]),
        user_xml("s1002", middle_name="Q", user_title="Dr"),
    )
    run = run_import([path])
    assert (run.status, run.created, run.updated, run.rejected) == ("finished", 2, 0, 0)
    user = _user("s1001")
    assert user.account_type == "EXTERNAL"
    assert user.external_id == "registrar"
    ids = {(i.id_type, i.value, i.segment_type) for i in user.identifiers.all()}
    assert ids == {
        ("PRIMARY", "s1001", "External"),
        ("BARCODE", "39001", "External"),
        ("UNIV_ID", "U1", "External"),
    }
    assert user.emails.get().preferred and user.emails.get().is_external
    assert user.addresses.get().city == "Springfield"
    # Found by name like any other user, and stamped with the job.
    assert set(user.name_tokens_set.values_list("token", flat=True)) >= {"pat", "ron", "s1001"}
    assert user.last_updated_by_job == run.job
    assert user.sis_values["user_group"] == "UNDERGRAD"


def test_the_same_file_twice_changes_nothing_the_second_time(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", *(user_xml(f"s{n}") for n in range(5)))
    run_import([path])
    events = AuditEvent.objects.count()
    second = run_import([path])
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert AuditEvent.objects.count() == events + 2  # the run's started and finished only
    assert not second.items.exists()


def test_changes_are_applied_reported_with_field_diffs_and_audited_with_the_job(profile, tmp_path):
    run_import([users_file(tmp_path / "a.xml", user_xml("s1", user_group="UNDERGRAD"))])
    second = run_import(
        [
            users_file(
                tmp_path / "b.xml",
                user_xml("s1", user_group="GRAD", emails=["new@uni.example"]),
            )
        ]
    )
    assert (second.updated, second.unchanged) == (1, 0)
    user = _user("s1")
    assert user.user_group == "GRAD"
    assert list(user.emails.values_list("address", flat=True)) == ["new@uni.example"]
    item = second.items.get()
    assert item.outcome == Outcome.UPDATED
    assert {"field": "user_group", "old": "UNDERGRAD", "new": "GRAD"} in item.changes
    event = AuditEvent.objects.get(subject_id=user.pk, verb="user.synced")
    assert (event.channel, event.job) == ("import", second.job)
    opened = Opener([event]).changes(event)
    assert {"field": "user_group", "old": "UNDERGRAD", "new": "GRAD", "erased": False} in opened


def test_internal_data_survives_two_syncs(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1"))
    run_import([path])
    user = _user("s1")
    accounts.add_note(actor=SYSTEM, user=user, note_type="CIRCULATION", text="Lost card twice")
    accounts.add_identifier(actor=SYSTEM, user=user, id_type="OTHER_ID", value="LIB-77")
    accounts.add_contact(
        actor=SYSTEM,
        user=user,
        kind="address",
        data={"line1": "Term address", "types": ["alternative"]},
    )
    accounts.add_statistic(actor=SYSTEM, user=user, category="ON_CAMPUS")
    changed = users_file(tmp_path / "b.xml", user_xml("s1", addresses=[("2 New St", "Shelby")]))
    run_import([changed])
    run_import([changed])
    user = _user("s1")
    assert user.notes.get().text == "Lost card twice"
    assert user.identifiers.get(id_type="OTHER_ID").segment_type == "Internal"
    addresses = {(a.line1, a.segment_type) for a in user.addresses.all()}
    assert addresses == {("Term address", "Internal"), ("2 New St", "External")}
    assert user.statistics.get().category == "ON_CAMPUS"


def test_an_internal_identifier_or_statistic_the_sis_sends_becomes_external(profile, tmp_path):
    run_import([users_file(tmp_path / "a.xml", user_xml("s1"))])
    user = _user("s1")
    accounts.add_identifier(actor=SYSTEM, user=user, id_type="UNIV_ID", value="U-9")
    accounts.add_statistic(actor=SYSTEM, user=user, category="LAW", category_type="DEPARTMENT")
    run_import(
        [
            users_file(
                tmp_path / "b.xml",
                user_xml(
                    "s1",
                    identifiers=[("BARCODE", "B-s1"), ("UNIV_ID", "u-9")],
                    statistics=[("DEPARTMENT", "LAW")],
                ),
            )
        ]
    )
    univ = user.identifiers.get(id_type="UNIV_ID")
    assert (univ.value, univ.segment_type) == ("u-9", "External")
    assert user.statistics.get().segment_type == "External"
    assert user.identifiers.count() == 3  # primary, barcode, university ID: nothing doubled


def test_a_bad_record_is_rejected_with_its_line_and_the_rest_applied(profile, tmp_path):
    path = users_file(
        tmp_path / "a.xml",
        user_xml("good1"),
        user_xml("bad1", user_group="NO_SUCH_GROUP"),
        user_xml("bad2", birth_date="31/12/2001"),
        user_xml("good2"),
    )
    run = run_import([path])
    assert (run.created, run.rejected) == (2, 2)
    rejected = {i.primary_id: i for i in run.items.filter(outcome=Outcome.REJECTED)}
    assert "'NO_SUCH_GROUP' is not a known value" in rejected["bad1"].reason
    assert rejected["bad1"].line == 4 and rejected["bad1"].source == "a.xml"
    assert "not a valid date" in rejected["bad2"].reason
    assert not User.objects.filter(primary_id__in=["bad1", "bad2"]).exists()


def test_an_identifier_of_another_user_rejects_the_record(profile, tmp_path):
    make_user(primary_id="someone", identifiers=[{"id_type": "BARCODE", "value": "X1"}])
    run = run_import(
        [users_file(tmp_path / "a.xml", user_xml("s1", identifiers=[("BARCODE", "x1")]))]
    )
    assert run.rejected == 1
    assert "'x1' already belongs to another user" in run.items.get().reason


def test_an_internal_user_with_the_same_primary_id_is_not_taken_over(profile, tmp_path):
    make_user(primary_id="s1", first_name="Staff", last_name="Entered")
    run = run_import([users_file(tmp_path / "a.xml", user_xml("s1"))])
    assert run.rejected == 1
    assert "internal user" in run.items.get().reason
    assert _user("s1").first_name == "Staff"


def test_match_by_any_identifier_follows_a_changed_primary_id(profile, tmp_path):
    save_profile(actor=SYSTEM, code="registrar", values={"match_by": "any_identifier"})
    run_import([users_file(tmp_path / "a.xml", user_xml("old1", identifiers=[("UNIV_ID", "U5")]))])
    run = run_import(
        [users_file(tmp_path / "b.xml", user_xml("new1", identifiers=[("UNIV_ID", "U5")]))]
    )
    assert (run.created, run.updated) == (0, 1)
    user = UserIdentifier.objects.get(key="u5").user
    assert user.primary_id == "new1"
    assert user.identifiers.get(is_primary=True).value == "new1"


def test_a_field_staff_changed_by_hand_is_kept_until_they_pick_the_original_value(
    profile, tmp_path
):
    path = users_file(tmp_path / "a.xml", user_xml("s1", pref_first_name="Patty"))
    run_import([path])
    user = _user("s1")
    accounts.update_user(actor=SYSTEM, user=user, fields={"pref_first_name": "Trish"})
    run_import([path])
    assert _user("s1").pref_first_name == "Trish"
    # The override list wins all the same.
    save_profile(actor=SYSTEM, code="registrar", values={"override_fields": ["pref_first_name"]})
    run_import([path])
    assert _user("s1").pref_first_name == "Patty"


def test_the_override_list_overwrites_a_kept_field(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1"))
    run_import([path])
    User.objects.filter(primary_id="s1").update(user_group="GRAD", sis_kept_fields=["user_group"])
    run_import([path])
    assert _user("s1").user_group == "GRAD"
    save_profile(actor=SYSTEM, code="registrar", values={"override_fields": ["user_group"]})
    run_import([path])
    assert _user("s1").user_group == "UNDERGRAD"


@pytest.mark.parametrize(
    ("action", "expected"),
    [("inactive", ("INACTIVE", None)), ("expire", ("ACTIVE", "today"))],
)
def test_users_missing_from_a_full_sync_are_handled_as_configured(
    profile, tmp_path, action, expected
):
    import datetime

    save_profile(
        actor=SYSTEM, code="registrar", values={"full_sync": True, "missing_action": action}
    )
    run_import([users_file(tmp_path / "a.xml", user_xml("s1"), user_xml("s2"), user_xml("s3"))])
    run = run_import(
        [users_file(tmp_path / "b.xml", user_xml("s1"), user_xml("s3", user_group="BOGUS"))]
    )
    # s3's record was rejected, but s3 is still in the SIS: only s2 is missing.
    assert run.deactivated == 1
    item = run.items.get(outcome=Outcome.DEACTIVATED)
    assert item.primary_id == "s2"
    s2 = _user("s2")
    today = datetime.date.today()
    assert s2.status == expected[0]
    assert s2.expiry_date == (today if expected[1] == "today" else datetime.date(2027, 6, 30))
    assert _user("s3").status == "ACTIVE"


def test_a_dry_run_reports_everything_and_writes_nothing(profile, tmp_path):
    run_import([users_file(tmp_path / "a.xml", user_xml("s1"))])
    users = User.objects.count()
    events = AuditEvent.objects.exclude(verb__startswith="sis_run.").count()
    path = users_file(
        tmp_path / "b.xml",
        user_xml("s1", user_group="GRAD"),
        user_xml("s2"),
        user_xml("s3", user_group="X"),
    )
    run = run_import([path], dry_run=True)
    assert (run.created, run.updated, run.rejected, run.dry_run) == (1, 1, 1, True)
    assert User.objects.count() == users
    assert _user("s1").user_group == "UNDERGRAD"
    assert AuditEvent.objects.exclude(verb__startswith="sis_run.").count() == events


@pytest.mark.parametrize("chunk_size", [2, 1000], ids=["across chunks", "in one chunk"])
def test_a_repeated_primary_id_is_counted_alike_by_the_dry_run_and_the_real_run(
    profile, tmp_path, monkeypatch, chunk_size
):
    monkeypatch.setattr(sis_actions, "CHUNK_SIZE", chunk_size)
    path = users_file(
        tmp_path / "a.xml",
        user_xml("s1"),
        user_xml("s2"),
        user_xml("s3"),
        user_xml("S1", user_group="GRAD"),  # primary IDs compare case-insensitively
    )
    dry = run_import([path], dry_run=True)
    real = run_import([path])
    counted = [(r.created, r.updated, r.unchanged, r.rejected) for r in (dry, real)]
    assert counted == [(3, 0, 0, 1), (3, 0, 0, 1)]
    for run in (dry, real):
        rejected = run.items.get(outcome=Outcome.REJECTED)
        assert (rejected.primary_id, rejected.line) == ("S1", 6)
        assert rejected.reason == "The primary ID appears twice (first at line 3 of a.xml)."
    assert _user("s1").user_group == "UNDERGRAD"  # the first record is the one applied


@pytest.mark.parametrize("chunk_size", [2, 1000], ids=["across chunks", "in one chunk"])
def test_an_identifier_two_new_records_share_is_counted_alike_by_the_dry_run_and_the_real_run(
    profile, tmp_path, monkeypatch, chunk_size
):
    # Applied, the second record would clash with the first's new user on the unique index
    # (or, matching by any identifier, update it); planned without writing, both look new.
    monkeypatch.setattr(sis_actions, "CHUNK_SIZE", chunk_size)
    path = users_file(
        tmp_path / "a.xml",
        user_xml("s1"),
        user_xml("s2", identifiers=[("BARCODE", "SHARED-1")]),
        user_xml("s3", identifiers=[("BARCODE", "shared-1")]),  # keys ignore case
        user_xml("b-S1", identifiers=[]),  # s1's barcode as a primary ID
        user_xml("s4"),
    )
    dry = run_import([path], dry_run=True)
    real = run_import([path])
    counted = [(r.created, r.updated, r.unchanged, r.rejected) for r in (dry, real)]
    assert counted == [(3, 0, 0, 2), (3, 0, 0, 2)]
    for run in (dry, real):
        reasons = dict(
            run.items.filter(outcome=Outcome.REJECTED).values_list("primary_id", "reason")
        )
        assert reasons == {
            "s3": "The identifier 'shared-1' is also in the record at line 4 of a.xml.",
            "b-S1": "The identifier 'b-S1' is also in the record at line 3 of a.xml.",
        }
    assert UserIdentifier.objects.get(key="shared-1").user == _user("s2")
    assert not User.objects.filter(primary_id__in=["s3", "b-S1"]).exists()


def test_a_clash_the_chunk_could_not_see_rejects_only_that_record(profile, tmp_path, monkeypatch):
    # A desk created a user with a record's barcode after the chunk looked the keys up: the
    # chunk's writes hit the unique index, the chunk is applied again record by record, and
    # only the record that clashes is rejected, with the reason a planned clash gets.
    make_user(primary_id="walk-in", identifiers=[{"id_type": "BARCODE", "value": "DESK-9"}])
    lookup, calls = sync._identifier_owners, []

    def looked_up_before_the_desk(keys):
        calls.append(keys)
        owners = lookup(keys)
        return {k: v for k, v in owners.items() if k != "desk-9"} if len(calls) == 1 else owners

    monkeypatch.setattr(sync, "_identifier_owners", looked_up_before_the_desk)
    path = users_file(
        tmp_path / "a.xml",
        user_xml("s1"),
        user_xml("s2", identifiers=[("BARCODE", "DESK-9")]),
        user_xml("s3"),
    )
    run = run_import([path])
    assert (run.created, run.rejected) == (2, 1)
    assert len(calls) == 4  # the chunk, then each record on its own
    rejected = run.items.get(outcome=Outcome.REJECTED)
    assert (rejected.primary_id, rejected.reason) == (
        "s2",
        "The identifier 'DESK-9' already belongs to another user.",
    )
    assert UserIdentifier.objects.get(key="desk-9").user.primary_id == "walk-in"
    assert sorted(
        User.objects.filter(account_type="EXTERNAL").values_list("primary_id", flat=True)
    ) == ["s1", "s3"]


def test_reading_resumed_after_a_crash_still_knows_the_primary_ids_read_before(
    profile, tmp_path, monkeypatch
):
    monkeypatch.setattr(sis_actions, "CHUNK_SIZE", 2)
    path = users_file(tmp_path / "a.xml", *(user_xml(f"s{n}") for n in (1, 2, 3, 4, 1, 5, 6)))
    store = sis_actions._store_chunk

    def killed_at_the_third_chunk(run, seq, records):
        if seq == 2:
            raise RuntimeError("killed")
        store(run, seq, records)

    monkeypatch.setattr(sis_actions, "_store_chunk", killed_at_the_third_chunk)
    run = start_import(actor=SYSTEM, profile_code="registrar", paths=[path])
    with pytest.raises(RuntimeError):
        sis_actions.read_run(run_id=run.pk)
    monkeypatch.setattr(sis_actions, "_store_chunk", store)
    run = sis_actions.execute_run(run_id=run.pk)
    assert (run.records_done, run.created, run.rejected) == (7, 6, 1)
    rejected = run.items.get(outcome=Outcome.REJECTED)
    assert (rejected.line, rejected.reason) == (
        7,
        "The primary ID appears twice (first at line 3 of a.xml).",
    )


def test_imported_records_are_counted_for_prometheus_once_their_chunk_commits(
    profile, tmp_path, client, settings, django_capture_on_commit_callbacks
):
    settings.METRICS_TOKEN = "scrape-secret-1234"
    settings.SECURE_SSL_REDIRECT = False

    def counted() -> dict[str, float]:
        page = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-1234"})
        return {
            sample.labels["outcome"]: sample.value
            for family in text_string_to_metric_families(page.content.decode())
            for sample in family.samples
            if sample.name == "patronage_import_records_total"
        }

    path = users_file(
        tmp_path / "a.xml", user_xml("s1"), user_xml("s2"), user_xml("s3", user_group="X")
    )
    before = counted()
    with django_capture_on_commit_callbacks(execute=True):
        run_import([path], dry_run=True)  # imports nothing: not counted
        run_import([path])
        run_import([path])
    after = counted()
    gained = {
        k: after.get(k, 0) - before.get(k, 0)
        for k in ("created", "updated", "unchanged", "rejected")
    }
    assert gained == {"created": 2, "updated": 0, "unchanged": 2, "rejected": 2}


def test_a_resync_checks_again_only_what_changed_since_the_last_sync(
    profile, tmp_path, monkeypatch
):
    path = users_file(tmp_path / "a.xml", user_xml("s1"), user_xml("s2"), user_xml("s3"))
    run_import([path])
    checked: list[str] = []
    check = sync.clean_record

    def counting(position, raw, profile):
        checked.append(raw["general"]["primary_id"])
        return check(position, raw, profile)

    monkeypatch.setattr(sync, "clean_record", counting)
    run = run_import([path])
    assert (run.unchanged, checked) == (3, [])  # the same records, the same users: skipped
    # A user staff changed since (here an internal statistic the SIS also sends: it becomes
    # external) and a record the SIS changed are checked and applied in full.
    accounts.add_statistic(actor=SYSTEM, user=_user("s1"), category="ON_CAMPUS")
    changed = users_file(
        tmp_path / "b.xml",
        user_xml("s1", statistics=[("", "ON_CAMPUS")]),
        user_xml("s2", user_group="GRAD"),
        user_xml("s3"),
    )
    run = run_import([changed])
    assert (run.updated, run.unchanged, sorted(checked)) == (2, 1, ["s1", "s2"])
    assert _user("s1").statistics.get().segment_type == "External"  # adopted, not doubled


def test_a_changed_code_table_has_every_record_checked_again(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1"), user_xml("s2", user_group="GRAD"))
    run_import([path])
    accounts.save_code_entry(
        actor=SYSTEM, table="USER_GROUP", code="GRAD", description="Graduate", enabled=False
    )
    run = run_import([path])
    assert (run.unchanged, run.rejected) == (1, 1)
    assert "'GRAD' is not a known value" in run.items.get(outcome=Outcome.REJECTED).reason


def test_a_pin_the_sis_sends_is_stored_keyed_and_rehashed_only_when_it_changes(
    profile, tmp_path, settings
):
    run_import([users_file(tmp_path / "a.xml", user_xml("s1", pin_number="1234"))])
    stored = _user("s1").pin_number
    assert stored.startswith("sis_pin$") and "1234" not in stored
    assert check_password("1234", stored) and not check_password("4321", stored)
    again = run_import([users_file(tmp_path / "b.xml", user_xml("s1", pin_number="1234"))])
    assert (again.unchanged, _user("s1").pin_number) == (1, stored)
    run = run_import([users_file(tmp_path / "c.xml", user_xml("s1", pin_number="9876"))])
    change = run.items.get(outcome=Outcome.UPDATED).changes
    assert change == [{"field": "pin_number", "old": MASKED, "new": MASKED}]
    assert check_password("9876", _user("s1").pin_number)
    # A rotated SECRET_KEY listed among the fallbacks still verifies the PINs stored under it.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert check_password("9876", _user("s1").pin_number)


def test_the_report_downloads_as_csv(profile, tmp_path):
    run_import([users_file(tmp_path / "a.xml", user_xml("s1"))])
    run = run_import(
        [
            users_file(
                tmp_path / "b.xml",
                user_xml("s1", user_group="GRAD"),
                user_xml("s2", user_group="X"),
            )
        ]
    )
    rows = list(
        csv.reader(io.StringIO("\n".join(",".join(f'"{c}"' for c in r) for r in report_rows(run))))
    )
    heading = rows.index(
        ["record", "file", "line", "primary_id", "outcome", "user_id", "changes", "reason"]
    )
    body = {r[3]: r for r in rows[heading + 1 :]}
    assert body["s1"][4] == "updated" and "user_group: UNDERGRAD → GRAD" in body["s1"][6]
    assert body["s2"][4] == "rejected" and body["s2"][2] == "4"


def test_several_files_and_zipped_files_in_one_run(profile, tmp_path):
    first = users_file(tmp_path / "a.xml", user_xml("s1"))
    archive = zipped(
        tmp_path / "b.zip",
        {
            "part1.xml": f"<users>{user_xml('s2')}</users>",
            "part2.xml": f"<users>{user_xml('s3')}</users>",
            "readme.txt": "not read",
        },
    )
    run = run_import([first, archive])
    assert run.created == 3


def test_a_malformed_file_fails_the_run_with_line_and_position_and_writes_nothing(
    profile, tmp_path
):
    good = users_file(tmp_path / "a.xml", *(user_xml(f"s{n}") for n in range(1500)))
    bad = tmp_path / "b.xml"
    bad.write_text(
        "<users>\n<user><primary_id>x</primary_id>\n<first_name>A</last_name></user></users>"
    )
    run = start_import(actor=SYSTEM, profile_code="registrar", paths=[good, str(bad)])
    from patronage.sis.actions import execute_run

    with pytest.raises(ValidationFailed) as caught:
        execute_run(run_id=run.pk)
    message = caught.value.errors["files"]
    assert message.startswith("b.xml (line 3, position ")
    assert "not well-formed" in message
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error == message
    assert not User.objects.filter(account_type="EXTERNAL").exists()
    assert not run.chunks.exists()


def test_unknown_profile_and_bad_mapping_are_refused_clearly(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1"))
    with pytest.raises(NotFound, match="no SIS import profile 'nope'"):
        start_import(actor=SYSTEM, profile_code="nope", paths=[path])
    with pytest.raises(ValidationFailed) as caught:
        save_profile(
            actor=SYSTEM,
            code="csv1",
            create=True,
            values={
                "name": "CSV",
                "file_format": "csv",
                "csv_mapping": {"ID": "primary_id", "Given": "first_nam"},
                "match_by": "primary_id",
                "default_record_type": "PUBLIC",
                "missing_action": "nothing",
                "missing_expiry_days": 0,
            },
        )
    assert caught.value.errors["Given"] == "'first_nam' is not a target a column can be mapped to."
    assert caught.value.errors["csv_mapping"] == "No column is mapped to 'first_name'."
    with pytest.raises(ValidationFailed, match="No such file"):
        start_import(actor=SYSTEM, profile_code="registrar", paths=[str(tmp_path / "none.xml")])
    assert not ImportItem.objects.exists()


def test_csv_with_a_column_mapping(db, tmp_path):
    save_profile(
        actor=SYSTEM,
        code="hr",
        create=True,
        values={
            "name": "HR export",
            "file_format": "csv",
            "csv_delimiter": ";",
            "csv_mapping": {
                "Emplid": "primary_id",
                "Given": "first_name",
                "Family": "last_name",
                "Group": "user_group",
                "Mail": "email:work",
                "Badge": "identifier:BARCODE",
                "Street": "address:work:line1",
                "Town": "address:work:city",
                "Dept": "statistic:DEPARTMENT",
            },
            "match_by": "primary_id",
            "default_record_type": "STAFF",
            "missing_action": "nothing",
            "missing_expiry_days": 0,
        },
    )
    path = tmp_path / "hr.csv"
    path.write_text(
        "Emplid;Given;Family;Group;Mail;Badge;Street;Town;Dept;Ignored\n"
        "e1;Eva;Smith;FACULTY;eva@uni.example;B77;1 Main St;Town;HIST;x\n"
        "e2;Bob;Jones;NOPE;bob@uni.example;B78;;;;x\n"
        "e3;Short\n"
    )
    run = run_import([str(path)], code="hr")
    assert (run.created, run.rejected) == (1, 2)
    eva = _user("e1")
    assert (eva.record_type, eva.user_group) == ("STAFF", "FACULTY")
    assert eva.emails.get().address == "eva@uni.example"
    assert eva.addresses.get().line1 == "1 Main St"
    assert eva.identifiers.get(id_type="BARCODE").value == "B77"
    assert eva.statistics.get().category == "HIST"
    lines = dict(run.items.filter(outcome="rejected").values_list("line", "reason"))
    assert "'NOPE' is not a known value" in lines[3]
    assert "2 cells" in lines[4]


def test_the_import_s_batched_audit_events_join_the_hash_chain(profile, tmp_path):
    from patronage.audit import chain

    run_import([users_file(tmp_path / "a.xml", user_xml("s1"), user_xml("s2"))])
    run_import([users_file(tmp_path / "b.xml", user_xml("s1", user_group="GRAD"))])
    linked = chain.chain_pending()
    assert linked == AuditEvent.objects.count()
    assert chain.verify().ok
