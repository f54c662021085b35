"""Sign-in details on the General tab (seed 002 "Editing Users"): change the password, set a
PIN (with a Generate button). Internal accounts only; secrets are never sent back."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import check_password

from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from tests.factories import make_user

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "user-tabs"}
NEW = "velvet lantern 1843"


@pytest.fixture
def person():
    return make_user(first_name="Ada", last_name="Lovelace", password="first pass phrase 77")


def change(client, user, password=NEW, verify=None, htmx=False, **fields):
    data = {"password": password, "password_verify": password if verify is None else verify}
    return client.post(f"/users/{user.pk}/password/", {**data, **fields}, **(HX if htmx else {}))


def stored(user):
    return User.objects.values_list("password", "pin_number").get(pk=user.pk)


def history(client, user):
    return client.get(f"/users/{user.pk}/", {"tab": "history"}).content.decode()


# --- what the General tab offers ----------------------------------------------------------


@pytest.mark.parametrize("account_type", ["INTERNAL", "INTERNAL_EXTERNAL_AUTH"])
def test_internal_accounts_offer_change_password_and_set_pin(as_manager, account_type):
    user = make_user(account_type=account_type)
    html = as_manager.get(f"/users/{user.pk}/").content.decode()
    assert 'id="password-form"' in html and 'id="pin-form"' in html
    assert "Force password change on next login" in html
    assert f'hx-get="/users/{user.pk}/pin/generate/"' in html


def test_external_accounts_offer_neither(as_manager):
    user = make_user(account_type="EXTERNAL")
    html = as_manager.get(f"/users/{user.pk}/").content.decode()
    assert 'id="password-form"' not in html and 'id="pin-form"' not in html
    assert 'id="sign-in-external"' in html


def test_staff_who_may_only_view_see_no_sign_in_forms(as_desk, person):
    html = as_desk.get(f"/users/{person.pk}/").content.decode()
    assert 'id="password-form"' not in html and 'id="pin-form"' not in html


# --- changing the password ----------------------------------------------------------------


def test_a_user_manager_changes_the_password_and_the_history_shows_it(as_manager, person):
    response = change(as_manager, person, force_change="1")
    assert response.status_code == 302
    assert response["Location"] == f"/users/{person.pk}/?tab=general"
    person.refresh_from_db()
    assert person.check_password(NEW) and person.force_password_change
    page = as_manager.get(response["Location"]).content.decode()
    assert "The password was changed." in page and NEW not in page
    event = AuditEvent.objects.get(subject=person, verb="user.password_set")
    assert event.channel == "ui"
    html = history(as_manager, person)
    assert "<td>Password</td>" in html and "••••" in html
    assert NEW not in html and "first pass phrase" not in html


def test_changing_the_password_through_htmx_returns_the_tabs(as_manager, person):
    response = change(as_manager, person, htmx=True)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "The password was changed." in html and NEW not in html
    person.refresh_from_db()
    assert person.check_password(NEW) and not person.force_password_change


def test_two_different_passwords_are_a_field_error_and_nothing_changes(as_manager, person):
    before = stored(person)
    response = change(as_manager, person, verify="velvet lantern 1844", force_change="1")
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'id="password-f-password_verify-error"[^>]*>The two passwords', html)
    assert NEW not in html and "velvet lantern 1844" not in html  # never echoed
    assert re.search(r'<details class="add" open>\s*<summary>Change password', html)
    assert re.search(r'id="password-f-force_change"[^>]*checked', html)  # the choice is kept
    assert stored(person) == before
    assert not AuditEvent.objects.filter(subject=person, verb="user.password_set").exists()


@pytest.mark.parametrize(
    "weak,message",
    [("short1", "too short"), ("1234567890123", "entirely numeric"), ("", "Enter the new")],
)
def test_a_weak_password_is_refused_beside_the_field(as_manager, person, weak, message):
    before = stored(person)
    response = change(as_manager, person, password=weak, htmx=True)
    assert response.status_code == 422
    html = response.content.decode()
    error = re.search(r'id="password-f-password-error"[^>]*>([^<]*)<', html)
    assert error and message in error.group(1)
    assert 'name="password" value=""' in html
    assert stored(person) == before


def test_an_external_users_password_is_not_set_here(as_manager):
    user = make_user(account_type="EXTERNAL")
    before = stored(user)
    response = change(as_manager, user)
    assert response.status_code == 422
    assert "identity provider" in response.content.decode()
    assert stored(user) == before


def test_changing_a_password_needs_the_edit_permission(as_desk, as_nobody, person):
    before = stored(person)
    assert change(as_desk, person).status_code == 403
    assert change(as_nobody, person).status_code == 403
    assert stored(person) == before


def test_the_password_of_a_nonexistent_user_is_not_found(as_manager):
    assert change(as_manager, User(pk=999999)).status_code == 404


def test_the_password_url_only_accepts_posts(as_manager, person):
    assert as_manager.get(f"/users/{person.pk}/password/").status_code == 405


# --- setting the PIN ----------------------------------------------------------------------


def test_a_user_manager_sets_a_pin_stored_hashed_and_shown_in_history(as_manager, person):
    response = as_manager.post(f"/users/{person.pk}/pin/", {"pin": "4321"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.pin_number != "4321" and check_password("4321", person.pin_number)
    assert "The PIN was set." in as_manager.get(response["Location"]).content.decode()
    html = history(as_manager, person)
    assert "<td>PIN number</td>" in html and "4321" not in html


@pytest.mark.parametrize("pin", ["12a", "12345", ""])
def test_a_wrong_pin_is_a_field_error_and_nothing_changes(as_manager, person, pin):
    before = stored(person)
    response = as_manager.post(f"/users/{person.pk}/pin/", {"pin": pin}, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'id="pin-f-pin-error"[^>]*>The PIN must be exactly four digits', html)
    assert 'name="pin" value=""' in html
    assert stored(person) == before


def test_generate_fills_the_pin_field_without_saving(as_manager, person):
    before = stored(person)
    html = as_manager.get(f"/users/{person.pk}/pin/generate/").content.decode()
    assert re.search(r'id="pin-f-pin" name="pin" value="\d{4}"', html)
    assert f'hx-get="/users/{person.pk}/pin/generate/"' in html  # can generate again
    # without JavaScript the Generate button posts the form and gets it back filled
    response = as_manager.post(f"/users/{person.pk}/pin/", {"action": "generate_pin"})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<details class="add" open>\s*<summary>Set PIN', html)
    assert re.search(r'name="pin" value="\d{4}"', html)
    assert stored(person) == before


def test_an_external_users_pin_is_not_set_here(as_manager):
    user = make_user(account_type="EXTERNAL")
    response = as_manager.post(f"/users/{user.pk}/pin/", {"pin": "4321"})
    assert response.status_code == 422
    assert "identity provider" in response.content.decode()
    assert stored(user)[1] == ""


def test_pins_need_the_edit_permission(as_desk, person):
    before = stored(person)
    assert as_desk.post(f"/users/{person.pk}/pin/", {"pin": "4321"}).status_code == 403
    assert as_desk.get(f"/users/{person.pk}/pin/generate/").status_code == 403
    assert stored(person) == before


def test_the_pin_of_a_nonexistent_user_is_not_found(as_manager):
    assert as_manager.post("/users/999999/pin/", {"pin": "4321"}).status_code == 404
    assert as_manager.get("/users/999999/pin/generate/").status_code == 404
