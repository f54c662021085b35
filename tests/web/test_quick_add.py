"""Quick User Management (seed 002 "Adding Users")."""

from __future__ import annotations

import re

import pytest

from patronage.accounts.models import User
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def form(**overrides):
    data = {
        "record_type": "PUBLIC",
        "first_name": "Grace",
        "last_name": "Hopper",
        "primary_id": "ghopper",
        "user_group": "FACULTY",
        "email_type": "work",
        "email_address": "grace@example.edu",
        "identifier_type": "BARCODE",
        "identifier_value": "B-000123",
        "birth_date": "1906-12-09",
        "then": "search",
    }
    data.update(overrides)
    return data


def test_a_user_manager_adds_a_user_and_returns_to_the_search(as_manager):
    response = as_manager.post("/users/new/", form())
    assert response.status_code == 302
    assert response["Location"].startswith("/users/?q=ghopper")
    user = User.objects.get(primary_id="ghopper")
    assert user.emails.get().address == "grace@example.edu"
    assert user.identifiers.filter(id_type="BARCODE", value="B-000123").exists()
    assert "was added" in as_manager.get(response["Location"]).content.decode()


def test_save_and_continue_opens_the_new_users_details(as_manager):
    response = as_manager.post("/users/new/", form(then="details"))
    user = User.objects.get(primary_id="ghopper")
    assert response["Location"] == f"/users/{user.pk}/"


def test_a_password_and_a_pin_are_stored_hashed(as_manager):
    as_manager.post(
        "/users/new/",
        form(password="a long pass phrase 42", password_verify="a long pass phrase 42", pin="1234"),
    )
    user = User.objects.get(primary_id="ghopper")
    assert user.check_password("a long pass phrase 42")
    assert user.pin_number and user.pin_number != "1234"


def test_an_invalid_email_is_shown_beside_its_field_and_nothing_is_added(as_manager):
    response = as_manager.post("/users/new/", form(email_address="not-an-email"))
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(
        r'id="f-email_address-error"[^>]*>Email address: [^<]*not-an-email[^<]* is not', html
    )
    assert 'value="Grace"' in html  # the input is kept
    assert not User.objects.filter(primary_id="ghopper").exists()


def test_missing_mandatory_fields_are_each_marked(as_manager):
    response = as_manager.post("/users/new/", {"record_type": "PUBLIC"})
    html = response.content.decode()
    assert response.status_code == 422
    for field in ("first_name", "last_name", "primary_id", "user_group"):
        assert f'id="f-{field}-error"' in html


def test_a_taken_primary_id_is_refused(as_manager):
    make_user(primary_id="ghopper")
    response = as_manager.post("/users/new/", form(birth_date=""))
    assert response.status_code == 422
    assert "already in use" in response.content.decode()


def test_the_two_passwords_must_match(as_manager):
    response = as_manager.post("/users/new/", form(password="one long pass", password_verify="x"))
    assert response.status_code == 422
    assert 'id="f-password_verify-error"' in response.content.decode()
    assert 'value="one long pass"' not in response.content.decode()  # not echoed back
    assert not User.objects.filter(primary_id="ghopper").exists()


def test_a_possible_duplicate_asks_for_confirmation(as_manager):
    make_user(first_name="Grace", last_name="Hopper", birth_date="1906-12-09", primary_id="gh0")
    response = as_manager.post("/users/new/", form())
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="duplicate-dialog"' in html and "Save anyway" in html
    assert not User.objects.filter(primary_id="ghopper").exists()
    response = as_manager.post("/users/new/", form(confirm_duplicate="1"))
    assert response.status_code == 302
    assert User.objects.filter(primary_id="ghopper").exists()


def test_user_groups_offered_depend_on_the_record_type(as_manager):
    staff = as_manager.get("/users/new/options/", {"record_type": "STAFF"}).content.decode()
    assert 'value="STAFF"' in staff and 'value="UNDERGRAD"' not in staff
    public = as_manager.get("/users/new/options/", {"record_type": "PUBLIC"}).content.decode()
    assert 'value="UNDERGRAD"' in public and 'value="STAFF"' not in public
    # without JavaScript the same refresh is a form post that keeps the input
    html = as_manager.post(
        "/users/new/", {"record_type": "STAFF", "first_name": "Kept", "action": "refresh"}
    ).content.decode()
    assert 'value="Kept"' in html and 'value="UNDERGRAD"' not in html


def test_generate_pin(as_manager):
    html = as_manager.get("/users/new/pin/").content.decode()
    assert re.search(r'name="pin" value="\d{4}"', html)
    html = as_manager.post(
        "/users/new/", {"record_type": "PUBLIC", "action": "generate_pin"}
    ).content.decode()
    assert re.search(r'name="pin" value="\d{4}"', html)


def test_a_wrong_pin_is_refused(as_manager):
    response = as_manager.post("/users/new/", form(pin="12a"))
    assert response.status_code == 422
    assert 'id="f-pin-error"' in response.content.decode()


def test_staff_who_may_not_add_users_are_refused(as_desk):
    assert as_desk.get("/users/new/").status_code == 403
    assert as_desk.post("/users/new/", form()).status_code == 403
    assert as_desk.get("/users/new/pin/").status_code == 403
    assert not User.objects.filter(primary_id="ghopper").exists()


def test_an_unknown_record_type_falls_back_rather_than_failing(as_manager):
    response = as_manager.post("/users/new/", form(record_type="ROBOT"))
    assert response.status_code in (302, 422)


def _between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def test_email_and_identifier_types_follow_the_record_type(as_manager):
    html = as_manager.get(
        "/users/new/options/",
        {"record_type": "CONTACT", "email_type": "orderMail", "identifier_type": "BARCODE"},
    ).content.decode()
    # swapped out of band, beside the user groups that replace the htmx target itself
    assert 'id="record-type-fields"' in html
    assert '<div id="email-type-field" hx-swap-oob="true">' in html
    assert '<div id="identifier-type-field" hx-swap-oob="true">' in html
    emails = _between(html, 'id="email-type-field"', 'id="identifier-type-field"')
    assert 'value="orderMail" selected' in emails  # a still-allowed choice is kept
    assert 'value="school"' not in emails  # public users only
    identifiers = html.split('id="identifier-type-field"', 1)[1]
    assert 'value="BARCODE"' not in identifiers  # contact users have no identifier types

    html = as_manager.get("/users/new/options/", {"record_type": "PUBLIC"}).content.decode()
    emails = _between(html, 'id="email-type-field"', 'id="identifier-type-field"')
    assert 'value="school"' in emails and 'value="orderMail"' not in emails
    assert 'value="BARCODE"' in html.split('id="identifier-type-field"', 1)[1]


def test_the_record_type_change_sends_the_current_type_choices(as_manager):
    html = as_manager.get("/users/new/").content.decode()
    assert '<div id="email-type-field">' in html and '<div id="identifier-type-field">' in html
    include = re.search(r'hx-get="/users/new/options/"[^>]*hx-include="([^"]*)"', html)
    assert include and "[name=email_type]" in include.group(1)
    assert "[name=identifier_type]" in include.group(1)


def test_the_record_type_lists_need_the_add_permission(as_desk):
    assert as_desk.get("/users/new/options/", {"record_type": "STAFF"}).status_code == 403
