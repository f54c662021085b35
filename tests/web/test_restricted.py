"""Seed 002 "Restricting Users for Editing" in the staff UI: no Edit buttons on a restricted
user for staff who may not edit restricted users, and the server refuses them anyway; the
flags show on the General tab and only holders of the permission get them in the form."""

from __future__ import annotations

import pytest

from patronage.accounts import actions
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM, make_library, make_staff, make_user
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user_admin(db):
    return login(make_staff("USER_ADMINISTRATOR", scope=make_library(), first_name="Ursula"))


@pytest.fixture
def protected():
    user = make_user(
        first_name="Vera",
        last_name="Vip",
        emails=[{"address": "vip@example.org", "types": ["personal"]}],
    )
    actions.update_user(actor=SYSTEM, user=user, fields={"restricted_for_editing": True})
    return User.objects.get(pk=user.pk)


def general_form(user, **changes):
    from patronage.web.views.details import general_values

    values = {k: v for k, v in general_values(user).items() if v not in ("", [])}
    values.update(changes)
    return values


def test_the_general_tab_shows_the_flags(as_manager, protected):
    html = as_manager.get(f"/users/{protected.pk}/").content.decode()
    assert 'id="restricted-for-editing">Yes' in html
    assert 'id="disable-login-restrictions">No' in html
    assert 'id="restricted-badge"' in html


def test_no_edit_buttons_on_a_restricted_user_without_the_permission(as_manager, protected):
    url = f"/users/{protected.pk}/"
    general = as_manager.get(url).content.decode()
    assert 'id="edit-general"' not in general and 'id="password-form"' not in general
    assert 'id="restricted-hint"' in general
    assert "Add an email address" not in as_manager.get(url, {"tab": "contact"}).content.decode()
    assert "Add a note" not in as_manager.get(url, {"tab": "notes"}).content.decode()
    form = as_manager.get(url, {"tab": "general", "edit": "general"}).content.decode()
    assert 'id="general-form"' not in form


def test_the_server_refuses_anyway(as_manager, protected):
    before = AuditEvent.objects.count()
    email = protected.emails.get()
    base = f"/users/{protected.pk}"
    password = "correct-horse-9"
    for path, data in (
        (f"{base}/edit/", general_form(protected, last_name="Changed")),
        (f"{base}/password/", {"password": password, "password_verify": password}),
        (f"{base}/pin/", {"pin": "1234"}),
        (f"{base}/contact/email/{email.pk}/remove/", {}),
        (f"{base}/notes/add/", {"note_type": "OTHER", "text": "x"}),
        (f"{base}/identifiers/add/", {"id_type": "BARCODE", "value": "VB1"}),
    ):
        response = as_manager.post(path, data)
        assert response.status_code == 403, path
        assert "restricted for editing" in response.content.decode(), path
    assert AuditEvent.objects.count() == before
    fresh = User.objects.get(pk=protected.pk)
    assert fresh.last_name == "Vip" and fresh.emails.exists() and not fresh.notes.exists()


def test_staff_allowed_to_edit_restricted_users_edit_them(as_user_admin, protected):
    html = as_user_admin.get(f"/users/{protected.pk}/").content.decode()
    assert 'id="edit-general"' in html and 'id="restricted-hint"' not in html
    response = as_user_admin.post(
        f"/users/{protected.pk}/edit/", general_form(protected, last_name="Changed")
    )
    assert response.status_code == 302
    assert User.objects.get(pk=protected.pk).last_name == "Changed"


def test_only_holders_get_the_flags_in_the_form(as_manager, as_user_admin):
    person = make_user()
    url = f"/users/{person.pk}/"
    form = as_manager.get(url, {"tab": "general", "edit": "general"}).content.decode()
    assert 'id="general-form"' in form and 'id="restriction-fields"' not in form
    form = as_user_admin.get(url, {"tab": "general", "edit": "general"}).content.decode()
    assert 'id="restriction-fields"' in form and 'name="restricted_for_editing"' in form


def test_holders_set_and_clear_the_flag_through_the_form(as_user_admin):
    person = make_user()
    url = f"/users/{person.pk}/edit/"
    response = as_user_admin.post(
        url, general_form(person, restricted_for_editing="1", disable_login_restrictions="1")
    )
    assert response.status_code == 302
    fresh = User.objects.get(pk=person.pk)
    assert fresh.restricted_for_editing and fresh.disable_login_restrictions
    form = general_form(fresh)
    form.pop("restricted_for_editing")
    assert as_user_admin.post(url, form).status_code == 302
    fresh = User.objects.get(pk=person.pk)
    assert not fresh.restricted_for_editing and fresh.disable_login_restrictions


def test_a_form_without_the_flags_leaves_them_alone(as_manager):
    person = make_user()
    actions.update_user(actor=SYSTEM, user=person, fields={"disable_login_restrictions": True})
    form = general_form(User.objects.get(pk=person.pk), middle_name="Q")
    form.pop("disable_login_restrictions")
    assert as_manager.post(f"/users/{person.pk}/edit/", form).status_code == 302
    fresh = User.objects.get(pk=person.pk)
    assert fresh.middle_name == "Q" and fresh.disable_login_restrictions is True
    # and a flag smuggled into the form by someone who may not set it is ignored
    form = general_form(fresh, restricted_for_editing="1", middle_name="R")
    assert as_manager.post(f"/users/{person.pk}/edit/", form).status_code == 302
    fresh = User.objects.get(pk=person.pk)
    assert fresh.middle_name == "R" and fresh.restricted_for_editing is False


def test_bad_input_with_the_flag_changes_nothing(as_user_admin):
    person = make_user(last_name="Kept")
    before = AuditEvent.objects.count()
    response = as_user_admin.post(
        f"/users/{person.pk}/edit/",
        general_form(person, restricted_for_editing="1", last_name=""),
    )
    assert response.status_code == 422
    fresh = User.objects.get(pk=person.pk)
    assert fresh.restricted_for_editing is False and fresh.last_name == "Kept"
    assert AuditEvent.objects.count() == before


def test_an_unknown_user_is_not_found(as_user_admin):
    assert as_user_admin.post("/users/999999/edit/", {"last_name": "X"}).status_code == 404
