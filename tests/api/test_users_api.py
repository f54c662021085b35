"""The user-record operations of /api/v1: what each does for a caller allowed to, and how
each refuses bad input — with a clear message and nothing written."""

from __future__ import annotations

import pytest

from patronage.accounts import actions
from patronage.accounts.models import User, UserNote
from patronage.audit.models import AuditEvent
from patronage.organization.models import Library
from tests.api.client import ApiClient, written
from tests.factories import SYSTEM, make_user

pytestmark = pytest.mark.django_db

NEW_USER = {
    "primary_id": "jdoe",
    "record_type": "PUBLIC",
    "first_name": "Jane",
    "last_name": "Doe",
    "user_group": "GRAD",
    "birth_date": "1999-12-31",
    "expiry_date": "2030-06-30",
}


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json_body
    assert body["code"] == code
    assert body["message"]
    return body


# --- GET /users ------------------------------------------------------------------------------


def test_user_managers_find_users_by_name_with_the_list_columns(user_manager, patron):
    response = ApiClient(user_manager).get("/users", q="pat ron")
    assert response.status_code == 200
    body = response.json_body
    assert body["count"] == 1
    assert body["name_search_refused"] is False
    assert body["items"] == [
        {
            "id": patron.pk,
            "primary_id": "patron1",
            "display_name": "Pat Ron",
            "record_type": "PUBLIC",
            "account_type": "INTERNAL",
            "job_category": "",
            "user_group": "UNDERGRAD",
            "status": "ACTIVE",
            "expiry_date": None,
            "has_blocks": True,
            "has_notes": True,
        }
    ]


def test_desk_operators_find_by_identifier_but_not_by_name(desk_operator, patron):
    client = ApiClient(desk_operator)
    by_name = client.get("/users", q="Pat Ron").json_body
    assert by_name["items"] == [] and by_name["name_search_refused"] is True
    by_barcode = client.get("/users", q="b0001").json_body
    assert [item["primary_id"] for item in by_barcode["items"]] == ["patron1"]
    by_email = client.get("/users", q="PAT@example.org", field="email").json_body
    assert [item["id"] for item in by_email["items"]] == [patron.pk]


def test_the_list_is_paged_filtered_and_sorted(admin):
    for n in range(5):
        make_user(primary_id=f"grad{n}", last_name=f"Zed{n}", user_group="GRAD")
    client = ApiClient(admin)
    body = client.get("/users", user_group="GRAD", sort="-name", page=2, page_size=2).json_body
    assert (body["count"], body["pages"], body["page"], body["page_size"]) == (5, 3, 2, 2)
    assert [item["primary_id"] for item in body["items"]] == ["grad2", "grad1"]
    assert client.get("/users", user_group="GRAD", page=4, page_size=2).json_body["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page": 0}, "page"),
        ({"field": "shoe_size"}, "field"),
        ({"status": "asleep"}, "status"),
        ({"sort": "password"}, "sort"),
        ({"record_type": "ROBOT"}, "record_type"),
    ],
)
def test_bad_search_parameters_are_422(admin, query, field):
    body = refused(ApiClient(admin).get("/users", **query), 422, "invalid_request")
    assert field in body["errors"]


# --- GET /users/{id} -------------------------------------------------------------------------


def test_the_full_record_never_shows_secrets(admin, patron):
    actions.set_password(actor=SYSTEM, user=patron, password="correct-horse-battery")
    response = ApiClient(admin).get(f"/users/{patron.pk}")
    assert response.status_code == 200
    record = response.json_body
    assert record["primary_id"] == "patron1"
    assert record["birth_date"] == "1990-04-01"
    assert record["has_password"] is True and record["has_pin"] is False
    assert "password" not in record and "pin_number" not in record
    assert b"argon2" not in response.content and b"md5$" not in response.content
    assert [i["value"] for i in record["identifiers"]] == ["patron1", "B0001"]
    assert record["emails"][0]["address"] == "pat@example.org"
    assert record["phones"][0]["number"] == "+1 555 0100"
    assert record["addresses"][0]["city"] == "Springfield"
    assert len(record["notes"]) == len(record["statistics"]) == len(record["blocks"]) == 2
    assert record["created_by"] == "System"


def test_entries_of_libraries_outside_the_callers_scope_are_left_out(user_manager, patron):
    record = ApiClient(user_manager).get(f"/users/{patron.pk}").json_body
    assert [note["text"] for note in record["notes"]] == ["note main"]
    assert len(record["statistics"]) == 1
    assert len(record["blocks"]) == 1
    assert [b["derived"] for b in record["blocks_in_force"]] == [False]


# --- POST /users -----------------------------------------------------------------------------


def test_user_managers_add_a_user_with_contact_entries(user_manager):
    before = written()
    body = {
        **NEW_USER,
        "identifiers": [{"id_type": "BARCODE", "value": "B777"}],
        "emails": [{"address": "jane@example.org", "types": ["personal"]}],
        "phones": [{"number": "+44 20 7946 0000", "types": ["mobile"]}],
        "addresses": [{"line1": "1 Way", "city": "Leeds", "types": ["home"]}],
        "password": "correct-horse-battery",
        "pin": "1234",
    }
    response = ApiClient(user_manager).post("/users", body)
    assert response.status_code == 201, response.content
    record = response.json_body
    assert record["primary_id"] == "jdoe" and record["expiry_date"] == "2030-06-30"
    assert record["has_password"] is True and record["has_pin"] is True
    assert [i["value"] for i in record["identifiers"]] == ["jdoe", "B777"]
    assert record["emails"][0]["preferred"] is True
    user = User.objects.get(pk=record["id"])
    assert user.created_by == user_manager
    event = AuditEvent.objects.get(verb="user.created", subject=user)
    assert event.channel == "api"
    assert written()["User"] == before["User"] + 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"last_name": None}, "last_name"),
        ({"record_type": "ROBOT"}, "record_type"),
        ({"birth_date": "31/12/1999"}, "birth_date"),
        ({"shoe_size": 44}, "shoe_size"),
        ({"first_name": "x" * 256}, "first_name"),
        ({"first_name": "Ja\x00ne"}, "first_name"),
        ({"emails": [{"address": "a@b.org"}]}, "emails.0.types"),
    ],
)
def test_malformed_users_are_refused_by_the_schema(user_manager, change, field):
    before = written()
    body = {k: v for k, v in {**NEW_USER, **change}.items() if v is not None}
    found = refused(ApiClient(user_manager).post("/users", body), 422, "invalid_request")
    assert field in found["errors"]
    assert written() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user_group": "ASTRONAUT"}, "user_group"),
        ({"user_group": "STAFF"}, "user_group"),  # a staff group, not for public users
        ({"primary_id": "has space"}, "primary_id"),
        ({"purge_date": "2030-01-01"}, "purge_date"),  # before the expiry date
        ({"password": "short"}, "password"),
        ({"pin": "12a4"}, "pin_number"),
        ({"emails": [{"address": "not-an-email", "types": ["personal"]}]}, "address"),
        ({"identifiers": [{"id_type": "BARCODE", "value": "patron1"}]}, "value"),
    ],
)
def test_invalid_users_are_refused_with_the_fields_message_and_nothing_written(
    user_manager, patron, change, field
):
    before = written()
    response = ApiClient(user_manager).post("/users", {**NEW_USER, **change})
    assert response.status_code == 422, response.content
    body = response.json_body
    assert field in body["errors"]
    assert body["errors"][field] in body["message"]
    assert written() == before


def test_a_primary_id_in_use_is_refused(user_manager, patron):
    before = written()
    body = refused(
        ApiClient(user_manager).post("/users", {**NEW_USER, "primary_id": "PATRON1"}),
        422,
        "identifier_in_use",
    )
    assert body["errors"] == {"primary_id": "This identifier is already in use."}
    assert written() == before


def test_a_possible_duplicate_needs_confirmation(user_manager, patron):
    client = ApiClient(user_manager)
    twin = {
        **NEW_USER,
        "primary_id": "pat2",
        "first_name": "pat",
        "last_name": "RON",
        "birth_date": "1990-04-01",
    }
    before = written()
    refused(client.post("/users", twin), 409, "possible_duplicate")
    assert written() == before
    assert client.post("/users", {**twin, "confirm_duplicate": True}).status_code == 201


def test_a_body_that_is_not_json_is_400(user_manager):
    before = written()
    refused(ApiClient(user_manager).post("/users", "{not json"), 400, "invalid_request")
    assert written() == before


# --- PATCH /users/{id} -----------------------------------------------------------------------


def test_only_the_fields_given_change_and_the_reason_is_kept(user_manager, patron):
    response = ApiClient(user_manager).patch(
        f"/users/{patron.pk}",
        {"pref_first_name": "Patty", "expiry_date": "2031-01-31", "reason": "Renewed"},
    )
    assert response.status_code == 200
    record = response.json_body
    assert record["display_name"] == "Patty Ron"
    assert record["expiry_date"] == "2031-01-31"
    assert record["last_name"] == "Ron"
    event = AuditEvent.objects.get(verb="user.updated", subject=patron)
    assert event.reason == "Renewed" and event.channel == "api"
    assert {c["field"] for c in event.changes} == {"pref_first_name", "expiry_date"}


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"user_group": "STAFF"}, 422, "user_group"),
        ({"first_name": ""}, 422, "first_name"),
        ({"expiry_date": "2030-01-01", "purge_date": "2029-01-01"}, 422, "purge_date"),
        ({"status": "ASLEEP"}, 422, "status"),
        ({"password": "sneaky-new-password"}, 422, "password"),
    ],
)
def test_bad_changes_are_refused_and_nothing_written(user_manager, patron, change, status, field):
    before = written()
    response = ApiClient(user_manager).patch(f"/users/{patron.pk}", change)
    assert response.status_code == status
    assert field in response.json_body["errors"]
    assert written() == before


# --- GET /users/{id}/history -----------------------------------------------------------------


def test_the_history_lists_changes_newest_first(user_manager, patron):
    ApiClient(user_manager).patch(f"/users/{patron.pk}", {"middle_name": "Q"})
    body = ApiClient(user_manager).get(f"/users/{patron.pk}/history", page_size=2).json_body
    assert body["count"] > 2 and body["pages"] >= 2
    latest = body["items"][0]
    assert latest["verb"] == "user.updated"
    assert latest["actor"] == user_manager.primary_id and latest["channel"] == "api"
    assert latest["changes"] == [{"field": "middle_name", "old": "", "new": "Q", "erased": False}]


# --- password and PIN ------------------------------------------------------------------------


def test_setting_a_password(user_manager, patron):
    response = ApiClient(user_manager).post(
        f"/users/{patron.pk}/password",
        {"password": "correct-horse-battery", "force_change": True},
    )
    assert response.status_code == 204
    patron.refresh_from_db()
    assert patron.check_password("correct-horse-battery") and patron.force_password_change


def test_a_weak_password_is_refused(user_manager, patron):
    before = written()
    body = refused(
        ApiClient(user_manager).post(f"/users/{patron.pk}/password", {"password": "12345678"}),
        422,
        "weak_password",
    )
    assert "password" in body["errors"]
    assert written() == before
    patron.refresh_from_db()
    assert not patron.has_usable_password()


def test_a_pin_is_set_or_generated(user_manager, patron):
    client = ApiClient(user_manager)
    response = client.post(f"/users/{patron.pk}/pin", {"pin": "4321"})
    assert response.status_code == 200 and response.json_body == {"generated_pin": None}
    generated = client.post(f"/users/{patron.pk}/pin", {"generate": True}).json_body
    pin = generated["generated_pin"]
    assert len(pin) == 4 and pin.isdigit()
    patron.refresh_from_db()
    assert patron.pin_number and pin not in patron.pin_number


@pytest.mark.parametrize(
    "body", [{"pin": "12a4"}, {"pin": "12345"}, {}, {"pin": "1234", "generate": True}]
)
def test_a_bad_pin_is_refused(user_manager, patron, body):
    before = written()
    response = ApiClient(user_manager).post(f"/users/{patron.pk}/pin", body)
    assert response.status_code == 422
    assert response.json_body["errors"]
    assert written() == before


# --- identifiers -----------------------------------------------------------------------------


def test_adding_and_removing_an_identifier(user_manager, patron):
    client = ApiClient(user_manager)
    response = client.post(
        f"/users/{patron.pk}/identifiers", {"id_type": "UNIV_ID", "value": "U-42", "note": "x"}
    )
    assert response.status_code == 201
    identifier = response.json_body
    assert identifier["value"] == "U-42" and identifier["is_primary"] is False
    response = client.delete(f"/users/{patron.pk}/identifiers/{identifier['id']}")
    assert response.status_code == 204
    assert not patron.identifiers.filter(value="U-42").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id_type": "SHOE", "value": "X1"}, "id_type"),
        ({"id_type": "BARCODE", "value": "  "}, "value"),
        ({"id_type": "BARCODE", "value": "B0002"}, "value"),  # another user's barcode
        ({"id_type": "BARCODE"}, "value"),
    ],
)
def test_bad_identifiers_are_refused(user_manager, patron, other_patron, body, field):
    before = written()
    response = ApiClient(user_manager).post(f"/users/{patron.pk}/identifiers", body)
    assert response.status_code == 422
    assert field in response.json_body["errors"]
    assert written() == before


def test_the_primary_identifier_cannot_be_removed(user_manager, patron):
    primary = patron.identifiers.get(is_primary=True)
    before = written()
    response = ApiClient(user_manager).delete(f"/users/{patron.pk}/identifiers/{primary.pk}")
    assert response.status_code == 422
    assert written() == before


# --- emails, phones, addresses ---------------------------------------------------------------

CONTACTS = {
    "emails": (
        {"address": "second@example.org", "types": ["work"]},
        {"description": "Office"},
        ({"address": "nope"}, "address"),
    ),
    "phones": (
        {"number": "+1 555 0123", "types": ["mobile"], "preferred_sms": True},
        {"number": "+1 555 0124"},
        ({"number": "call me maybe"}, "number"),
    ),
    "addresses": (
        {"line1": "9 Elm St", "city": "Ogdenville", "types": ["work"]},
        {"postal_code": "12345"},
        ({"types": ["claim"]}, "types"),  # a vendor-contact type, not for patrons
    ),
}


@pytest.mark.parametrize("kind", CONTACTS)
def test_adding_changing_and_removing_contact_entries(user_manager, patron, kind):
    new, change, _ = CONTACTS[kind]
    client = ApiClient(user_manager)
    response = client.post(f"/users/{patron.pk}/{kind}", new)
    assert response.status_code == 201, response.content
    entry = response.json_body
    assert entry["preferred"] is False  # the first entry stays preferred
    response = client.patch(f"/users/{patron.pk}/{kind}/{entry['id']}", change)
    assert response.status_code == 200, response.content
    assert {k: response.json_body[k] for k in change} == change
    assert response.json_body["types"] == new["types"]
    assert client.delete(f"/users/{patron.pk}/{kind}/{entry['id']}").status_code == 204
    assert getattr(patron, kind).count() == 1


@pytest.mark.parametrize("kind", CONTACTS)
def test_bad_contact_entries_are_refused(user_manager, patron, kind):
    new, _, (bad, field) = CONTACTS[kind]
    client = ApiClient(user_manager)
    entry = getattr(patron, kind).first()
    before = written()
    response = client.post(f"/users/{patron.pk}/{kind}", {**new, **bad})
    assert response.status_code == 422 and field in response.json_body["errors"]
    response = client.patch(f"/users/{patron.pk}/{kind}/{entry.pk}", bad)
    assert response.status_code == 422 and field in response.json_body["errors"]
    response = client.patch(f"/users/{patron.pk}/{kind}/{entry.pk}", {"colour": "red"})
    assert response.status_code == 422 and "colour" in response.json_body["errors"]
    response = client.post(f"/users/{patron.pk}/{kind}", {**new, "types": []})
    assert response.status_code == 422 and "types" in response.json_body["errors"]
    assert written() == before


# --- notes, statistics, blocks ---------------------------------------------------------------

OWNED = {
    "notes": ({"note_type": "CIRCULATION", "text": "Returned late"}, {"note_type": "GOSSIP"}),
    "statistics": ({"category": "CHEM", "category_type": "DEPARTMENT"}, {"category": "ALCHEMY"}),
    "blocks": ({"block_type": "CONDUCT", "expiry_date": "2031-01-01"}, {"block_type": "MOOD"}),
}


@pytest.mark.parametrize("kind", OWNED)
def test_adding_and_removing_library_owned_entries(user_manager, patron, main_library, kind):
    good, _ = OWNED[kind]
    client = ApiClient(user_manager)
    response = client.post(f"/users/{patron.pk}/{kind}", {**good, "owner": main_library.pk})
    assert response.status_code == 201, response.content
    entry = response.json_body
    assert entry["owner_id"] == main_library.pk
    assert client.delete(f"/users/{patron.pk}/{kind}/{entry['id']}").status_code == 204


@pytest.mark.parametrize("kind", OWNED)
def test_bad_library_owned_entries_are_refused(user_manager, patron, law_library, kind):
    good, bad = OWNED[kind]
    client = ApiClient(user_manager)
    before = written()
    cases = [
        ({**good, **bad}, next(iter(bad))),
        ({**good, "owner": law_library.pk}, "owner"),  # outside the manager's scope
        ({**good, "owner": 10**9}, "owner"),
        ({**good, "segment_type": "External"}, "segment_type"),  # not an external user
    ]
    for body, field in cases:
        response = client.post(f"/users/{patron.pk}/{kind}", body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json_body["errors"]
    assert written() == before


def test_contact_users_cannot_be_blocked(admin):
    vendor = make_user(record_type="CONTACT", user_group="")
    before = written()
    response = ApiClient(admin).post(f"/users/{vendor.pk}/blocks", {"block_type": "GENERAL"})
    assert response.status_code == 422
    assert response.json_body["code"] == "blocks_not_for_contacts"
    assert written() == before


def test_a_note_the_caller_cannot_see_is_not_removed(user_manager, patron, law_library):
    note = patron.notes.get(owner=law_library)
    ApiClient(user_manager).delete(f"/users/{patron.pk}/notes/{note.pk}")
    assert UserNote.objects.filter(pk=note.pk).exists()


def test_resource_sharing_and_purchase_request_libraries_are_library_codes(
    user_manager, patron, main_library
):
    Library.objects.create(code="ILL", name="Interlibrary loan", is_resource_sharing=True)
    client = ApiClient(user_manager)
    response = client.patch(
        f"/users/{patron.pk}",
        {"rs_libraries": ["ILL"], "purchase_request_libraries": ["MAIN"]},
    )
    assert response.status_code == 200, response.content
    assert response.json_body["rs_libraries"] == ["ILL"]
    assert response.json_body["purchase_request_libraries"] == ["MAIN"]
    before = written()
    response = client.patch(f"/users/{patron.pk}", {"rs_libraries": ["MAIN"]})
    assert response.status_code == 422 and "rs_libraries" in response.json_body["errors"]
    assert written() == before


def test_a_common_name_reports_the_match_limit_and_no_user_twice(user_manager, monkeypatch):
    from patronage.accounts import selectors

    monkeypatch.setattr(selectors, "NAME_MATCH_LIMIT", 2)
    for n in range(3):
        make_user(
            first_name="Common",
            last_name=f"Name{n}",
            identifiers=[{"id_type": "BARCODE", "value": f"CN{n}"}],
        )
    body = ApiClient(user_manager).get("/users", q="common").json_body
    assert body["name_match_limit"] == 2
    ids = [item["id"] for item in body["items"]]
    assert len(ids) == len(set(ids)) == 2
