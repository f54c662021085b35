"""Two-factor sign-in (TOTP): required for holders of a role that requires it and for users
with multi-factor authentication switched on; set up at the first sign-in, then a code at
every sign-in, each code accepted once. Administrators reset a lost second factor."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.test import Client

from patronage.access import authentication as auth
from patronage.access.actions import set_login_model
from patronage.access.middleware import MFA_KEY
from patronage.accounts.actions import update_user
from patronage.accounts.models import User
from patronage.audit.context import Channel
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM, make_library, make_staff, make_user

from .conftest import PASSWORD, code_for, logged_in, sign_in, signed_in_user_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    """User Manager requires a second factor (catalogue: every administrative role does)."""
    return make_staff("USER_MANAGER", scope=make_library(), primary_id="uma", password=PASSWORD)


def enrolled(user: User) -> str:
    """Set the app up for ``user`` as if they had (with the previous step's code)."""
    secret = pyotp.random_base32()
    auth.confirm_totp(user=user, secret=secret, code=code_for(secret, -1), ip="", channel="ui")
    return secret


def shown_secret(response) -> str:
    match = re.search(r'id="totp-secret"><strong>([A-Z2-7 ]+)<', response.content.decode())
    assert match, "the secret is shown as text"
    return match.group(1).replace(" ", "")


# --- first sign-in: setting the app up --------------------------------------------------------


def test_the_first_sign_in_sets_up_the_app_then_signs_in(manager):
    client = Client()
    response = sign_in(client, "uma")
    assert response.status_code == 302 and response["Location"] == "/login/enroll/"
    assert signed_in_user_id(client) is None
    assert client.get("/users/").status_code == 302  # a pending sign-in opens nothing

    page = client.get("/login/enroll/")
    html = page.content.decode()
    secret = shown_secret(page)
    assert re.search(r'id="totp-secret"><strong>([A-Z2-7]{4} ){7}[A-Z2-7]{4}<', html)  # groups
    assert f"otpauth://totp/Patronage:uma?secret={secret}" in html
    assert shown_secret(client.get("/login/enroll/")) == secret  # the same until confirmed
    assert User.objects.get(pk=manager.pk).totp_secret == ""  # nothing stored before that

    wrong = client.post("/login/enroll/", {"code": "000000"})
    assert wrong.status_code == 422 and "That code is not right" in wrong.content.decode()
    assert signed_in_user_id(client) is None

    right = client.post("/login/enroll/", {"code": code_for(secret)})
    assert right.status_code == 302 and right["Location"] == "/"
    assert signed_in_user_id(client) == str(manager.pk)
    assert client.session[MFA_KEY] is True
    assert client.get("/users/").status_code == 200
    manager.refresh_from_db()
    assert manager.totp_secret == secret and manager.totp_confirmed_at is not None
    assert AuditEvent.objects.filter(verb="auth.mfa_enrolled", subject=manager).exists()
    login = AuditEvent.objects.get(verb="auth.login", subject=manager)
    assert login.details == {"second_factor": True} and login.channel == Channel.UI
    failed = AuditEvent.objects.get(verb="auth.login_failed", subject=manager)
    assert failed.details == {"reason": "wrong_code"}


def test_the_next_page_survives_the_second_step(manager):
    secret = enrolled(manager)
    client = Client()
    client.post("/login/", {"username": "uma", "password": PASSWORD, "next": "/users/new/"})
    response = client.post("/login/verify/", {"code": code_for(secret)})
    assert response["Location"] == "/users/new/"


def test_an_offsite_next_page_is_ignored(manager):
    secret = enrolled(manager)
    client = Client()
    client.post(
        "/login/", {"username": "uma", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert client.post("/login/verify/", {"code": code_for(secret)})["Location"] == "/"


# --- later sign-ins: a code -------------------------------------------------------------------


def test_later_sign_ins_ask_for_a_code(manager):
    secret = enrolled(manager)
    client = Client()
    assert sign_in(client, "uma")["Location"] == "/login/verify/"
    assert client.get("/login/enroll/")["Location"] == "/login/verify/"  # no second app
    assert client.post("/login/verify/", {"code": "12345"}).status_code == 422
    response = client.post("/login/verify/", {"code": code_for(secret)})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(manager.pk)


def test_a_code_from_the_next_step_is_accepted_one_step_of_drift(manager):
    secret = enrolled(manager)
    client = Client()
    sign_in(client, "uma")
    assert client.post("/login/verify/", {"code": code_for(secret, 1)}).status_code == 302


def test_a_code_two_steps_away_is_refused(manager):
    secret = enrolled(manager)
    client = Client()
    sign_in(client, "uma")
    assert client.post("/login/verify/", {"code": code_for(secret, 3)}).status_code == 422


def test_a_code_works_once(manager):
    secret = enrolled(manager)
    code = code_for(secret)
    first = Client()
    sign_in(first, "uma")
    assert first.post("/login/verify/", {"code": code}).status_code == 302
    second = Client()
    sign_in(second, "uma")
    response = second.post("/login/verify/", {"code": code})
    assert response.status_code == 422
    assert "already used" in response.content.decode()
    assert signed_in_user_id(second) is None


def test_codes_may_be_typed_with_spaces(manager):
    secret = enrolled(manager)
    client = Client()
    sign_in(client, "uma")
    code = code_for(secret)
    assert client.post("/login/verify/", {"code": f"{code[:3]} {code[3:]}"}).status_code == 302


def test_wrong_codes_count_towards_the_throttle(manager):
    secret = enrolled(manager)
    client = Client()
    sign_in(client, "uma")
    for _ in range(5):
        assert client.post("/login/verify/", {"code": "000000"}).status_code == 422
    response = client.post("/login/verify/", {"code": code_for(secret)})
    assert response.status_code == 429
    assert signed_in_user_id(client) is None


def test_the_pending_sign_in_expires(manager):
    secret = enrolled(manager)
    client = Client()
    sign_in(client, "uma")
    session = client.session
    pending = session["_patronage_pending_login"]
    pending["at"] = time.time() - 6 * 60
    session["_patronage_pending_login"] = pending
    session.save()
    response = client.post("/login/verify/", {"code": code_for(secret)})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert signed_in_user_id(client) is None


def test_the_code_steps_need_a_password_first(manager):
    enrolled(manager)
    assert Client().get("/login/verify/")["Location"] == "/login/"
    assert Client().post("/login/enroll/", {"code": "123456"})["Location"] == "/login/"


def test_deactivation_between_the_steps_stops_the_sign_in(manager):
    secret = enrolled(manager)
    client = Client()
    sign_in(client, "uma")
    update_user(actor=SYSTEM, user=manager, fields={"status": "INACTIVE"})
    client.post("/login/verify/", {"code": code_for(secret)})
    assert signed_in_user_id(client) is None


def test_users_with_mfa_switched_on_need_it_without_an_admin_role():
    make_user(primary_id="careful", password=PASSWORD, mfa_enabled=True)
    assert sign_in(Client(), "careful")["Location"] == "/login/enroll/"


def test_roles_without_the_requirement_sign_in_with_the_password_alone():
    desk = make_staff("FULFILLMENT_OPERATOR", primary_id="desk", password=PASSWORD)
    client = Client()
    assert sign_in(client, "desk")["Location"] == "/"
    assert client.session[MFA_KEY] is False
    event = AuditEvent.objects.get(verb="auth.login", subject=desk)
    assert event.details == {"second_factor": False}


@pytest.mark.parametrize(
    "role",
    ["USER_ADMINISTRATOR", "GENERAL_SYSTEM_ADMINISTRATOR", "FULFILLMENT_OPERATOR_EXTENDED_PLUS"],
)
def test_admin_and_extended_plus_roles_require_it(role):
    user = make_staff(role, password=PASSWORD)
    assert auth.mfa_required(user)


def test_the_systems_login_requires_it():
    user = make_staff(password=PASSWORD)
    set_login_model(actor=SYSTEM, user=user, login_model="SYSTEMS")
    assert auth.mfa_required(user)


# --- an administrator resets a lost second factor --------------------------------------------


@pytest.fixture
def uadmin():
    return make_staff("USER_ADMINISTRATOR", primary_id="uadmin")


def test_the_two_factor_page_shows_the_state(admin, manager):
    client = logged_in(admin)
    html = client.get(f"/users/{manager.pk}/two-factor/").content.decode()
    assert "Not set up" in html and "Reset two-factor" not in html
    enrolled(manager)
    html = client.get(f"/users/{manager.pk}/two-factor/").content.decode()
    assert "Set up on" in html and "Reset two-factor authentication" in html


def test_an_administrator_resets_it_and_the_users_sessions_end(admin, manager):
    enrolled(manager)
    theirs = logged_in(manager)
    client = logged_in(admin)
    response = client.post(f"/users/{manager.pk}/two-factor/reset/", {"reason": "lost phone"})
    assert response.status_code == 302
    assert "was reset" in client.get(response["Location"]).content.decode()
    manager.refresh_from_db()
    assert manager.totp_secret == "" and manager.totp_confirmed_at is None
    event = AuditEvent.objects.get(verb="auth.mfa_reset", subject=manager)
    assert event.actor_id == admin.pk and event.reason == "lost phone"
    assert theirs.get("/users/").status_code == 302
    assert sign_in(Client(), "uma")["Location"] == "/login/enroll/"  # set up again


def test_the_two_factor_pages_need_the_role_granting_permission(manager, user_manager):
    enrolled(manager)
    client = logged_in(user_manager)  # edits users, does not manage roles
    assert client.get(f"/users/{manager.pk}/two-factor/").status_code == 403
    assert client.post(f"/users/{manager.pk}/two-factor/reset/").status_code == 403
    assert User.objects.get(pk=manager.pk).totp_confirmed_at is not None


def test_unknown_users_are_404(admin):
    client = logged_in(admin)
    assert client.get("/users/999999/two-factor/").status_code == 404
    assert client.post("/users/999999/two-factor/reset/").status_code == 404


def test_resetting_what_is_not_set_up_is_a_clear_refusal(admin, manager):
    response = logged_in(admin).post(f"/users/{manager.pk}/two-factor/reset/")
    assert response.status_code == 422
    assert "not set up" in response.content.decode()


def test_the_reset_is_a_post(admin, manager):
    assert logged_in(admin).get(f"/users/{manager.pk}/two-factor/reset/").status_code == 405


def test_nobody_resets_their_own(admin):
    enrolled(admin)
    response = logged_in(admin).post(f"/users/{admin.pk}/two-factor/reset/")
    assert response.status_code == 403
    assert "ask another administrator" in response.content.decode()


def test_nobody_resets_the_second_factor_of_someone_more_powerful(admin, uadmin):
    enrolled(admin)
    response = logged_in(uadmin).post(f"/users/{admin.pk}/two-factor/reset/")
    assert response.status_code == 403
    assert User.objects.get(pk=admin.pk).totp_confirmed_at is not None
    assert not AuditEvent.objects.filter(verb="auth.mfa_reset").exists()


def test_a_user_administrator_resets_a_user_managers(uadmin, manager):
    enrolled(manager)
    assert logged_in(uadmin).post(f"/users/{manager.pk}/two-factor/reset/").status_code == 302
