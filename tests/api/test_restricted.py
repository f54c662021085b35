"""Seed 002 "Restricting Users for Editing" in the API: a restricted user, and the flags
restricted_for_editing / disable_login_restrictions, need the permission to edit restricted
users; others get 403 ``restricted_for_editing`` and nothing is written."""

from __future__ import annotations

import pytest

from patronage.accounts import actions
from patronage.accounts.models import User
from tests.api.client import ApiClient, written
from tests.factories import SYSTEM, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_administrator(main_library):
    return make_staff("USER_ADMINISTRATOR", scope=main_library, first_name="Ursula")


@pytest.fixture
def protected(patron):
    actions.update_user(actor=SYSTEM, user=patron, fields={"restricted_for_editing": True})
    return User.objects.get(pk=patron.pk)


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response.json_body["code"] == code
    return response.json_body


def test_staff_who_may_not_edit_restricted_users_are_refused(user_manager, protected):
    client = ApiClient(user_manager)
    note = protected.notes.get(owner__code="MAIN")
    email = protected.emails.get()
    before = written()
    for method, path, body in (
        ("PATCH", "", {"middle_name": "Q"}),
        ("POST", "/password", {"password": "correct-horse-battery"}),
        ("POST", "/pin", {"pin": "1234"}),
        ("POST", "/identifiers", {"id_type": "BARCODE", "value": "X9"}),
        ("POST", "/emails", {"address": "x@example.org", "types": ["personal"]}),
        ("PATCH", f"/emails/{email.pk}", {"address": "y@example.org"}),
        ("DELETE", f"/emails/{email.pk}", None),
        ("POST", "/notes", {"note_type": "OTHER", "text": "x"}),
        ("DELETE", f"/notes/{note.pk}", None),
        ("POST", "/statistics", {"category": "HIST"}),
    ):
        response = client.call(method, f"/users/{protected.pk}{path}", body)
        body_out = refused(response, 403, "restricted_for_editing")
        assert "restricted for editing" in body_out["message"], path
    assert written() == before


def test_staff_allowed_to_edit_restricted_users_change_them(user_administrator, protected):
    response = ApiClient(user_administrator).patch(f"/users/{protected.pk}", {"middle_name": "Q"})
    assert response.status_code == 200
    assert response.json_body["middle_name"] == "Q"
    assert response.json_body["restricted_for_editing"] is True


@pytest.mark.parametrize("flag", ["restricted_for_editing", "disable_login_restrictions"])
def test_setting_a_flag_needs_the_permission(flag, user_manager, user_administrator, patron):
    before = written()
    refused(
        ApiClient(user_manager).patch(f"/users/{patron.pk}", {flag: True}),
        403,
        "restricted_for_editing",
    )
    assert written() == before
    response = ApiClient(user_administrator).patch(f"/users/{patron.pk}", {flag: True})
    assert response.status_code == 200 and response.json_body[flag] is True
    response = ApiClient(user_administrator).patch(f"/users/{patron.pk}", {flag: False})
    assert response.status_code == 200 and response.json_body[flag] is False


def test_adding_a_restricted_user_needs_the_permission(user_manager, user_administrator):
    new = {
        "primary_id": "vip2",
        "record_type": "PUBLIC",
        "first_name": "Vi",
        "last_name": "P",
        "user_group": "GRAD",
        "restricted_for_editing": True,
    }
    before = written()
    refused(ApiClient(user_manager).post("/users", new), 403, "restricted_for_editing")
    assert written() == before
    response = ApiClient(user_administrator).post("/users", new)
    assert response.status_code == 201 and response.json_body["restricted_for_editing"] is True


def test_without_the_edit_permission_the_refusal_is_the_permissions(desk_operator, protected):
    response = ApiClient(desk_operator).patch(f"/users/{protected.pk}", {"middle_name": "Q"})
    refused(response, 403, "permission_denied")


def test_bad_input_is_422_and_nothing_is_written(user_administrator, patron):
    client = ApiClient(user_administrator)
    before = written()
    body = refused(
        client.patch(f"/users/{patron.pk}", {"restricted_for_editing": True, "last_name": ""}),
        422,
        "validation_failed",
    )
    assert "last_name" in body["errors"]
    refused(
        client.patch(f"/users/{patron.pk}", {"restricted_for_editing": "sometimes"}),
        422,
        "invalid_request",
    )
    assert written() == before
    assert User.objects.get(pk=patron.pk).restricted_for_editing is False


def test_out_of_scope_entries_and_unknown_users_are_404(user_administrator, protected):
    law_note = protected.notes.get(owner__code="LAW")
    client = ApiClient(user_administrator)  # scoped to the main library
    before = written()
    refused(client.delete(f"/users/{protected.pk}/notes/{law_note.pk}"), 404, "note_not_found")
    refused(client.patch("/users/999999999", {"middle_name": "Q"}), 404, "user_not_found")
    assert written() == before


def test_a_restricted_user_is_still_found_and_shown(user_manager, protected):
    record = ApiClient(user_manager).get(f"/users/{protected.pk}").json_body
    assert record["restricted_for_editing"] is True and record["card_only"] is False
