"""Seed 000 in the API: callers without the permission to see patrons' details get a user's
card (``card_only: true``, the other fields absent), list items with the card's columns only,
and 403 on detail sub-resources. Library independence: entries of libraries outside the
caller's scope are left out of the record and do not set the list's Notes column."""

from __future__ import annotations

import pytest

from patronage.accounts import actions
from patronage.accounts.schemas import UserOut
from patronage.api import api
from tests.api.client import ApiClient
from tests.factories import SYSTEM, make_staff, make_user

pytestmark = pytest.mark.django_db

CARD = {
    "card_only",
    "id",
    "primary_id",
    "display_name",
    "record_type",
    "user_group",
    "status",
    "expiry_date",
    "expired",
    "picture_url",
    "blocked",
}
CARD_COLUMNS = {
    "id",
    "primary_id",
    "display_name",
    "record_type",
    "user_group",
    "status",
    "expiry_date",
    "has_blocks",
}


def test_a_desk_operator_gets_the_card_only(desk_operator, patron):
    response = ApiClient(desk_operator).get(f"/users/{patron.pk}")
    assert response.status_code == 200
    card = response.json_body
    assert set(card) == CARD
    assert card["card_only"] is True
    assert (card["primary_id"], card["display_name"], card["user_group"]) == (
        "patron1",
        "Pat Ron",
        "UNDERGRAD",
    )
    assert card["status"] == "ACTIVE" and card["expired"] is False
    assert card["blocked"] is True  # the main library's block is within the desk's scope
    for secret in (b"pat@example.org", b"Springfield", b"note main", b"1990-04-01", b"B0001"):
        assert secret not in response.content


def test_the_card_says_expired(desk_operator):
    person = make_user(expiry_date="2001-02-03")
    card = ApiClient(desk_operator).get(f"/users/{person.pk}").json_body
    assert card["expired"] is True and card["expiry_date"] == "2001-02-03"
    assert card["blocked"] is True  # an expired account blocks lending


def test_staff_allowed_to_see_details_get_the_whole_record(user_manager, patron):
    record = ApiClient(user_manager).get(f"/users/{patron.pk}").json_body
    assert record["card_only"] is False and record["blocked"] is True
    assert set(record) == set(UserOut.model_fields)
    assert record["emails"][0]["address"] == "pat@example.org"
    assert record["restricted_for_editing"] is False


def test_detail_sub_resources_are_refused(desk_operator, patron):
    operator = make_staff("FULFILLMENT_OPERATOR_EXTENDED_PLUS")
    for caller in (desk_operator, operator):  # neither may read the history
        response = ApiClient(caller).get(f"/users/{patron.pk}/history")
        assert response.status_code == 403
        assert response.json_body["code"] == "permission_denied"


def test_card_only_callers_list_only_the_card_columns(desk_operator, patron):
    body = ApiClient(desk_operator).get("/users", q="B0001").json_body
    assert body["card_only"] is True
    assert [set(item) for item in body["items"]] == [CARD_COLUMNS]
    assert body["items"][0]["has_blocks"] is True


def test_the_list_tells_detail_viewers_about_notes(user_manager, patron):
    body = ApiClient(user_manager).get("/users", q="B0001").json_body
    assert body["card_only"] is False and body["items"][0]["has_notes"] is True


def test_a_note_of_another_library_is_left_out_everywhere(user_manager, law_library):
    person = make_user(primary_id="lawonly")
    actions.add_note(actor=SYSTEM, user=person, note_type="OTHER", text="law", owner=law_library)
    client = ApiClient(user_manager)  # scoped to the main library
    (item,) = client.get("/users", q="lawonly").json_body["items"]
    assert item["has_notes"] is False
    record = client.get(f"/users/{person.pk}").json_body
    assert record["notes"] == []
    assert b'"law"' not in client.get(f"/users/{person.pk}").content


def test_the_openapi_document_says_which_fields_a_card_has():
    schemas = api.get_openapi_schema()["components"]["schemas"]
    assert set(schemas["UserOut"]["required"]) == CARD
    assert "card_only" in schemas["UserOut"]["description"]
    assert set(schemas["UserListItem"]["required"]) == CARD_COLUMNS
    assert "Absent when card_only" in schemas["UserOut"]["properties"]["emails"]["description"]
