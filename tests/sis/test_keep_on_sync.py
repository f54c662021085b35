"""Open for Update (seed 002): staff are asked per field whether the next sync overrides
their change: ``keep_on_sync`` through the API's PATCH and the User Details edit form, then a
real sync shows the answer held."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from patronage.accounts.models import User
from patronage.sis.actions import set_open_for_update
from patronage.web.views.details import general_values
from tests.api.client import ApiClient
from tests.factories import SYSTEM, make_staff

from .conftest import run_import, user_xml, users_file


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def synced(profile, tmp_path):
    path = users_file(tmp_path / "a.xml", user_xml("s1", user_title="Ms", campus_code="MAIN"))
    run_import([path])
    return path


def _s1() -> User:
    return User.objects.get(primary_id="s1")


def test_api_patch_keeps_the_fields_staff_keep_and_the_sync_overrides_the_others(synced):
    set_open_for_update(actor=SYSTEM, user=_s1(), open_for_update=True)
    client = ApiClient(make_staff("USER_MANAGER"))
    answer = client.call(
        "PATCH",
        f"/users/{_s1().pk}",
        {"user_group": "GRAD", "campus_code": "MED", "keep_on_sync": ["user_group"]},
    )
    assert answer.status_code == 200, answer.json_body
    assert _s1().sis_kept_fields == ["user_group"]

    run_import([synced])
    user = _s1()
    assert (user.user_group, user.campus_code) == ("GRAD", "MAIN")
    assert not user.open_for_update


def test_api_refuses_keep_on_sync_for_other_fields_or_users_not_open_for_update(synced):
    client = ApiClient(make_staff("USER_MANAGER"))
    user_id = _s1().pk
    closed = client.call("PATCH", f"/users/{user_id}", {"keep_on_sync": ["user_group"]})
    # Nothing else in the body: nothing to change, the keep is not even looked at.
    assert closed.status_code == 200
    closed = client.call(
        "PATCH", f"/users/{user_id}", {"mfa_enabled": True, "keep_on_sync": ["user_group"]}
    )
    assert closed.status_code == 422
    assert closed.json_body["code"] == "keep_on_sync"
    assert "open for update" in closed.json_body["errors"]["keep_on_sync"]
    assert not _s1().mfa_enabled  # nothing half-written

    set_open_for_update(actor=SYSTEM, user=_s1(), open_for_update=True)
    wrong = client.call(
        "PATCH", f"/users/{user_id}", {"last_name": "Typo", "keep_on_sync": ["last_name"]}
    )
    assert wrong.status_code == 422
    assert wrong.json_body["errors"]["keep_on_sync"].startswith(
        "last_name: only these fields can be kept from the next sync: Title, Job category"
    )
    assert _s1().last_name == "Ron s1"


def test_api_keep_on_sync_needs_the_edit_permission(synced):
    set_open_for_update(actor=SYSTEM, user=_s1(), open_for_update=True)
    client = ApiClient(make_staff("FULFILLMENT_OPERATOR"))
    refused = client.call(
        "PATCH", f"/users/{_s1().pk}", {"user_group": "GRAD", "keep_on_sync": ["user_group"]}
    )
    assert refused.status_code == 403
    manager = ApiClient(make_staff("USER_MANAGER"))
    assert manager.call("PATCH", "/users/999999", {"user_group": "GRAD"}).status_code == 404
    assert _s1().user_group == "UNDERGRAD"


def test_the_edit_form_asks_per_field_and_the_sync_follows_the_answer(synced):
    user = _s1()
    client = Client()
    client.force_login(make_staff("USER_MANAGER"))
    page = client.get(f"/users/{user.pk}/?tab=general&edit=general").content.decode()
    assert 'id="keep-on-sync"' not in page  # not open for update: nothing to ask

    set_open_for_update(actor=SYSTEM, user=user, open_for_update=True)
    page = client.get(f"/users/{user.pk}/?tab=general&edit=general").content.decode()
    assert 'id="keep-on-sync"' in page
    assert "Keep my change of user group" in page
    assert "Keep my change of title" in page

    values = {**general_values(_s1()), "user_group": "GRAD", "user_title": "Dr"}
    response = client.post(
        f"/users/{user.pk}/edit/", {**values, "keep_on_sync": ["user_title"]}, follow=True
    )
    assert response.status_code == 200
    assert _s1().sis_kept_fields == ["user_title"]
    run_import([synced])
    user = _s1()
    assert (user.user_title, user.user_group) == ("Dr", "UNDERGRAD")


def test_the_edit_form_shows_a_bad_keep_on_sync_beside_the_prompt(synced):
    user = _s1()
    set_open_for_update(actor=SYSTEM, user=user, open_for_update=True)
    client = Client()
    client.force_login(make_staff("USER_MANAGER"))
    values = {**general_values(user), "user_group": "GRAD"}
    response = client.post(f"/users/{user.pk}/edit/", {**values, "keep_on_sync": ["gender"]})
    assert response.status_code == 422
    assert "only these fields can be kept from the next sync" in response.content.decode()
    assert _s1().user_group == "UNDERGRAD"


@pytest.fixture
def with_pin(profile, tmp_path):
    path = users_file(tmp_path / "p.xml", user_xml("s1", pin_number="1111"))
    run_import([path])
    return path


def _pin_is(pin: str) -> bool:
    return check_password(pin, _s1().pin_number)


def test_a_pin_set_while_open_for_update_is_kept_only_if_staff_say_so(with_pin):
    assert _pin_is("1111")
    client = ApiClient(make_staff("USER_MANAGER"))
    refused = client.post(f"/users/{_s1().pk}/pin", {"pin": "4321", "keep_on_sync": True})
    assert refused.status_code == 422
    assert refused.json_body["code"] == "keep_on_sync"
    assert _pin_is("1111")

    set_open_for_update(actor=SYSTEM, user=_s1(), open_for_update=True)
    kept = client.post(f"/users/{_s1().pk}/pin", {"pin": "4321", "keep_on_sync": True})
    assert kept.status_code == 200, kept.json_body
    run_import([with_pin])
    assert _pin_is("4321")

    set_open_for_update(actor=SYSTEM, user=_s1(), open_for_update=True)
    assert client.post(f"/users/{_s1().pk}/pin", {"pin": "5555"}).status_code == 200
    run_import([with_pin])
    assert _pin_is("1111")  # not kept: the SIS's PIN is back


def test_the_pin_form_of_an_open_external_user_asks_whether_to_keep_it(with_pin):
    user = _s1()
    client = Client()
    client.force_login(make_staff("USER_MANAGER"))
    page = client.get(f"/users/{user.pk}/?tab=general").content.decode()
    assert 'id="pin-form"' not in page  # external and not open: not set here
    set_open_for_update(actor=SYSTEM, user=user, open_for_update=True)
    page = client.get(f"/users/{user.pk}/?tab=general").content.decode()
    assert 'id="pin-keep-on-sync"' in page
    client.post(f"/users/{user.pk}/pin/", {"pin": "4321", "keep_on_sync": "1"})
    assert _pin_is("4321")
    run_import([with_pin])
    assert _pin_is("4321")
