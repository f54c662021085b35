"""Sessions end when power shrinks (issue 4, item 9): a role removed or the account made
inactive ends every session at its next request, in the staff UI and in the API, and revokes
the account's API keys."""

from __future__ import annotations

import pytest
from django.test import Client

from patronage.access.actions import grant_role, revoke_grant
from patronage.access.api_key_actions import create_api_key
from patronage.access.middleware import ENDED_MESSAGE, EPOCH_KEY
from patronage.access.models import ApiKey, Role, RoleGrant
from patronage.accounts.actions import end_sessions, update_user
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM, make_desk, make_library, make_staff

from .conftest import PASSWORD, logged_in, sign_in, signed_in_user_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder():
    """A user manager who also works at a desk: removing one role leaves them staff."""
    user = make_staff("USER_MANAGER", scope=make_library(), password=PASSWORD)
    desk_role = Role.objects.get(code="FULFILLMENT_OPERATOR")
    grant_role(actor=SYSTEM, user=user, role=desk_role, scope=make_desk(make_library()))
    return User.objects.get(pk=user.pk)


def remove_user_manager(user: User) -> None:
    grant = RoleGrant.objects.active().get(user=user, role__code="USER_MANAGER")
    revoke_grant(actor=SYSTEM, grant=grant, reason="moved to another job")


def deactivate(user: User) -> None:
    update_user(actor=SYSTEM, user=user, fields={"status": "INACTIVE"})


def assert_web_refused(client) -> None:
    response = client.get("/users/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/users/")
    page = client.get(response["Location"]).content.decode()
    assert ENDED_MESSAGE.replace("'", "&#x27;") in page
    assert signed_in_user_id(client) is None
    assert client.get("/users/").status_code == 302  # and it stays signed out


def assert_api_refused(client) -> None:
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.json() == {"code": "session_ended", "message": ENDED_MESSAGE}
    assert client.get("/api/v1/users").json()["code"] == "not_authenticated"


def test_sessions_work_until_something_changes(holder):
    web, api = logged_in(holder), logged_in(holder)
    assert web.get("/users/").status_code == 200
    assert api.get("/api/v1/users").status_code == 200
    assert web.session[EPOCH_KEY] == holder.auth_epoch


@pytest.mark.parametrize("change", [remove_user_manager, deactivate], ids=["role", "inactive"])
def test_removing_a_role_or_deactivating_ends_web_and_api_sessions(holder, change):
    web, api = logged_in(holder), logged_in(holder)
    assert web.get("/users/").status_code == 200
    change(holder)
    assert_web_refused(web)
    assert_api_refused(api)


def test_a_session_signed_in_after_the_change_works(holder):
    remove_user_manager(holder)
    client = logged_in(holder)  # force_login stores the current epoch, read afresh
    assert client.get("/users/").status_code == 200


def test_other_users_sessions_are_untouched(holder, admin):
    theirs = logged_in(admin)
    remove_user_manager(holder)
    assert theirs.get("/users/").status_code == 200


def test_a_session_without_an_epoch_is_refused(holder):
    client = logged_in(holder)
    session = client.session
    del session[EPOCH_KEY]
    session.save()
    assert_web_refused(client)


def test_htmx_requests_are_told_to_go_to_the_sign_in_page(holder):
    client = logged_in(holder)
    end_sessions(holder)
    response = client.get("/users/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/"


def test_ending_sessions_revokes_every_api_key_and_audits_it(holder):
    key = create_api_key(actor=SYSTEM, owner=holder, name="SIS").key
    assert logged_in(holder).get("/api/v1/users", HTTP_X_API_KEY=key).status_code == 200
    remove_user_manager(holder)
    assert ApiKey.objects.get(owner=holder).revoked_at is not None
    response = logged_in(holder).get("/api/v1/users", HTTP_X_API_KEY=key)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"
    event = AuditEvent.objects.get(subject=holder, verb="apikey.revoked")
    assert event.details["prefixes"] == [key[:8]]


def test_deactivation_revokes_api_keys_too(holder):
    create_api_key(actor=SYSTEM, owner=holder, name="SIS")
    deactivate(holder)
    assert not ApiKey.objects.filter(owner=holder, revoked_at__isnull=True).exists()
    assert User.objects.get(pk=holder.pk).status == "INACTIVE"


def test_a_password_only_session_ends_when_the_account_comes_to_need_a_second_factor():
    desk = make_staff("FULFILLMENT_OPERATOR", primary_id="desk1", password=PASSWORD)
    client = Client()
    assert sign_in(client, "desk1").status_code == 302
    assert client.get("/users/").status_code == 200
    grant_role(actor=SYSTEM, user=desk, role=Role.objects.get(code="USER_MANAGER"))
    assert_web_refused(client)


def test_turning_on_mfa_for_a_user_ends_their_password_only_session():
    make_staff("FULFILLMENT_OPERATOR", primary_id="desk2", password=PASSWORD)
    client = Client()
    sign_in(client, "desk2")
    assert client.get("/users/").status_code == 200
    User.objects.filter(primary_id="desk2").update(mfa_enabled=True)
    assert_web_refused(client)
