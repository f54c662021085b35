"""What a user GET costs and what the server keeps between requests.

A user GET costs a fixed number of queries whatever the record holds (pinned here, so a query
per entry or per kind cannot creep back), reads exactly the entries the selectors give one
kind at a time, answers XML valid against Alma's XSDs for a record with every part filled,
and the configuration kept per process (code-table descriptions, the confidentiality policy,
the access-reason setting) is forgotten at once by the action that changes it.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patronage import process_cache
from patronage.access.actions import grant_role, set_login_model
from patronage.access.models import Role
from patronage.accounts import actions, selectors
from patronage.accounts.models import CodeTableEntry
from patronage.approvals.acknowledgement_actions import acknowledge, publish_policy
from patronage.audit.models import AuditEvent
from patronage.circulation.actions import add_proxy
from patronage.privacy.actions import update_settings
from tests.almaws.conftest import AlmaClient, error_code, key_for
from tests.almaws.xsd import schema
from tests.factories import SYSTEM, actor_for, make_desk, make_library, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(admin):
    """A staff member's record with every part the Alma user object has."""
    library = make_library("MAIN", "Main Library")
    library.is_resource_sharing = True
    library.save()
    desk = make_desk(library, "FRONT", "Front desk")
    by_admin = actor_for(admin)
    user = make_user(
        primary_id="full",
        record_type="STAFF",
        user_group="STAFF",
        first_name="Fiona",
        middle_name="Fay",
        last_name="Full",
        pref_first_name="Fi",
        user_title="Dr",
        gender="FEMALE",
        job_category="CIRC_OPERATOR",
        job_description="Front desk",
        campus_code="MAIN",
        preferred_language="en",
        birth_date="1980-03-04",
        expiry_date="2031-12-31",
        purge_date="2035-01-01",
        library_notices=["COURTESY", "OVERDUE"],
        rs_libraries=["MAIN"],
        emails=[
            {"address": "fiona@example.org", "types": ["work"], "preferred": True},
            {"address": "fi@example.net", "types": ["personal"], "description": "Home"},
        ],
        phones=[
            {"number": "+44 1865 000001", "types": ["office"], "preferred": True},
            {"number": "+44 7700 900001", "types": ["mobile"], "preferred_sms": True},
        ],
        addresses=[
            {
                "line1": "1 Broad St",
                "line2": "Room 2",
                "city": "Oxford",
                "postal_code": "OX1 3BD",
                "country": "GBR",
                "types": ["work"],
                "preferred": True,
                "start_date": "2020-01-01",
                "end_date": "2030-01-01",
            }
        ],
        identifiers=[
            {"id_type": "BARCODE", "value": "F-0001", "note": "Card 1"},
            {"id_type": "UNIV_ID", "value": "U-0001"},
        ],
    )
    actions.add_note(actor=by_admin, user=user, note_type="CIRCULATION", text="Keys", owner=library)
    actions.add_note(actor=SYSTEM, user=user, note_type="OTHER", text="Night shifts", popup=True)
    actions.add_statistic(
        actor=by_admin, user=user, category="LAW", category_type="DEPARTMENT", note="Part-time"
    )
    actions.add_block(
        actor=by_admin, user=user, block_type="GENERAL", note="Card lost", expiry_date="2030-05-06"
    )
    set_login_model(actor=SYSTEM, user=user, login_model="CUSTOM")
    until = timezone.now() + datetime.timedelta(days=90)
    grant_role(
        actor=SYSTEM,
        user=user,
        role=Role.objects.get(code="FULFILLMENT_OPERATOR"),
        scope=desk,
        valid_until=until,
    )
    grant_role(actor=SYSTEM, user=user, role=Role.objects.get(code="USER_MANAGER"), scope=library)
    add_proxy(actor=SYSTEM, proxy=user, sponsor=make_user(primary_id="sponsor1"))
    add_proxy(actor=SYSTEM, proxy=user, sponsor=make_user(primary_id="sponsor2"))
    return user


def test_a_full_record_in_xml_is_valid_against_rest_user_xsd(admin, full):
    client = AlmaClient(key_for(admin), as_json=False)
    response = client.get("/users/full")
    assert response.status_code == 200
    schema("rest_user.xsd").assertValid(response.xml)
    xml = response.xml
    # Every part is there (a valid document could leave them out).
    for path in (
        "contact_info/addresses/address/address_types/address_type",
        "contact_info/emails/email/email_types/email_type",
        "contact_info/phones/phone/phone_types/phone_type",
        "user_identifiers/user_identifier/id_type",
        "user_roles/user_role/parameters/parameter/value",
        "user_blocks/user_block/expiry_date",
        "user_notes/user_note/created_by",
        "user_statistics/user_statistic/category_type",
        "proxy_for_users/proxy_for_user/primary_id",
        "rs_libraries/rs_library/code",
        "library_notices/library_notice/code",
    ):
        assert xml.find(path) is not None, path
    assert [e.text for e in xml.findall("proxy_for_users/proxy_for_user/primary_id")] == [
        "sponsor1",
        "sponsor2",
    ]
    assert xml.find("user_notes/user_note[note_text='Keys']/created_by").text == "admin"


def test_a_list_of_full_records_is_valid_against_rest_users_xsd(admin, full):
    client = AlmaClient(key_for(admin), as_json=False)
    for expand in ("none", "full"):
        response = client.get("/users", q="primary_id~full", expand=expand)
        assert response.status_code == 200
        schema("rest_users.xsd").assertValid(response.xml)
        assert response.xml.get("total_record_count") == "1"


def test_the_roles_show_scope_parameter_and_expiry(admin_alma, full):
    roles = {
        r["role_type"]["value"]: r for r in admin_alma.get("/users/full").json_body["user_role"]
    }
    desk_role = roles["FULFILLMENT_OPERATOR"]
    assert desk_role["scope"] == {"value": "MAIN", "desc": "Main Library"}
    assert desk_role["parameter"] == [
        {
            "type": {"value": "CirculationDesk", "desc": ""},
            "scope": {"value": "MAIN", "desc": "Main Library"},
            "value": {"value": "FRONT", "desc": "Front desk"},
        }
    ]
    expected = (timezone.now() + datetime.timedelta(days=90)).astimezone(datetime.UTC).date()
    assert desk_role["expiry_date"] in (f"{expected}Z", f"{expected - datetime.timedelta(1)}Z")
    assert roles["USER_MANAGER"]["scope"]["value"] == "MAIN"
    assert "expiry_date" not in roles["USER_MANAGER"] and not roles["USER_MANAGER"]["parameter"]


# --- the cost of a GET -------------------------------------------------------------------------

# API key and owner, threshold counter, the user, the record's entries and lists, the read
# event. On PostgreSQL the key with its owner and the entries with the lists are one statement
# each (accounts/prepared.py: fetch_together); SQLite runs them one by one (in-process, where a
# query costs no round trip).
EXPECTED_QUERIES = {"postgresql": 5, "sqlite": 17}


@pytest.mark.parametrize("who", ["plain", "full"])
def test_a_user_get_costs_a_fixed_number_of_queries(admin, patron, full, who):
    client = AlmaClient(key_for(admin))
    user_id = "pat01" if who == "plain" else "full"
    assert client.get(f"/users/{user_id}").status_code == 200  # configuration now kept
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/users/{user_id}")
    assert response.status_code == 200
    # (Django logs no text for statements the server prepared: psycopg keeps none.)
    shown = "\n".join((q["sql"] or "(prepared)")[:120] for q in queries.captured_queries)
    assert len(queries.captured_queries) == EXPECTED_QUERIES[connection.vendor], shown


def test_every_get_writes_its_read_event_and_counts_against_the_threshold(
    admin, patron, settings, monkeypatch
):
    settings.ALMAWS_PER_SECOND_THRESHOLD = 3
    monkeypatch.setattr("patronage.almaws.throttle.time.time", lambda: 1_800_000_000.5)
    client = AlmaClient(key_for(admin))
    answers = [client.get("/users/pat01").status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429
    assert AuditEvent.objects.filter(verb="user.viewed", subject_id=patron.pk).count() == 3


# --- the entries, read together ----------------------------------------------------------------


def _rows(instances):
    return [
        {field.attname: getattr(entry, field.attname) for field in entry._meta.concrete_fields}
        for entry in instances
    ]


@pytest.mark.parametrize("reader", ["institution", "library"])
def test_the_entries_read_together_are_those_the_selectors_give(admin, full, reader):
    other = make_library("LAW", "Law Library")
    actions.add_note(actor=SYSTEM, user=full, note_type="CIRCULATION", text="Law", owner=other)
    viewer = admin if reader == "institution" else make_staff("USER_MANAGER", scope=other)
    entries = selectors.record_entries(viewer, full)
    assert _rows(entries.emails) == _rows(selectors.contact_entries(viewer, full, "email"))
    assert _rows(entries.phones) == _rows(selectors.contact_entries(viewer, full, "phone"))
    assert _rows(entries.addresses) == _rows(selectors.contact_entries(viewer, full, "address"))
    assert _rows(entries.identifiers) == _rows(selectors.identifiers_of(viewer, full))
    assert _rows(entries.notes) == _rows(selectors.notes_of(viewer, full))
    assert _rows(entries.statistics) == _rows(selectors.statistics_of(viewer, full))
    assert _rows(entries.blocks) == _rows(selectors.blocks_of(viewer, full))
    texts = {note.text for note in entries.notes}
    # Library independence: a manager of the Law Library sees its note and unowned ones only.
    assert texts == (
        {"Keys", "Night shifts", "Law"} if reader == "institution" else {"Night shifts", "Law"}
    )
    assert entries.created_by == {full.notes.get(text="Keys").created_by_id: "admin"}


# --- what each process keeps, and forgets ------------------------------------------------------


def test_a_code_description_changed_through_the_action_shows_at_once(admin_alma, patron):
    assert admin_alma.get("/users/pat01").json_body["user_group"]["desc"] == "Undergraduate student"
    actions.save_code_entry(
        actor=SYSTEM, table="USER_GROUP", code="UNDERGRAD", description="Undergraduate"
    )
    assert admin_alma.get("/users/pat01").json_body["user_group"]["desc"] == "Undergraduate"


def test_a_change_by_another_process_shows_within_the_cache_lifetime(
    admin_alma, patron, settings, monkeypatch
):
    settings.CONFIG_CACHE_SECONDS = 60
    clock = [1000.0]
    monkeypatch.setattr(process_cache.time, "monotonic", lambda: clock[0])
    admin_alma.get("/users/pat01")
    # Another process's change: the row changes, this process is not told.
    CodeTableEntry.objects.filter(code="UNDERGRAD").update(description="Changed")
    clock[0] += 59
    assert admin_alma.get("/users/pat01").json_body["user_group"]["desc"] == "Undergraduate student"
    clock[0] += 2
    assert admin_alma.get("/users/pat01").json_body["user_group"]["desc"] == "Changed"


def test_a_published_policy_stops_detail_reads_at_once_until_acknowledged(admin, patron):
    client = AlmaClient(key_for(admin))
    assert "contact_info" in client.get("/users/pat01").json_body
    policy = publish_policy(actor=SYSTEM, title="Confidentiality", text="Keep them confidential.")
    assert "contact_info" not in client.get("/users/pat01").json_body  # the card only
    acknowledge(actor=actor_for(admin), version=policy.version)
    assert "contact_info" in client.get("/users/pat01").json_body


def test_requiring_an_access_reason_takes_effect_at_once(admin, patron):
    client = AlmaClient(key_for(admin))
    assert client.get("/users/pat01").status_code == 200
    update_settings(actor=actor_for(admin), changes={"access_reason": "required"})
    refused = client.get("/users/pat01")
    assert refused.status_code == 400 and error_code(refused) == "402119"
    assert client.get("/users/pat01", headers={"X-Access-Reason": "Desk query"}).status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's unlogged tables")
def test_the_call_counters_stay_out_of_the_write_ahead_log(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'almaws_apicallcount'")
        assert cursor.fetchone() == ("u",)
