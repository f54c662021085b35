"""API keys: made by an administrator for a user (shown once, only a digest kept), acting as
that user with at most the key's permissions, read-only keys on GET only; expired, revoked or
unknown keys are refused with 401 and a code saying which. The API, the staff UI and the
command line manage them, audited."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from patronage.access.actions import grants_changed
from patronage.access.api_key_actions import create_api_key, revoke_api_key
from patronage.access.checks import permissions_of
from patronage.access.management.commands.apikey import Command as ApiKeyCommand
from patronage.access.models import ApiKey, RoleGrant
from patronage.access.permissions import Permission
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, ValidationFailed
from tests.factories import SYSTEM, actor_for, make_staff, make_user

from .conftest import logged_in

pytestmark = pytest.mark.django_db
P = Permission
NEW_USER = {
    "primary_id": "via.key",
    "record_type": "PUBLIC",
    "first_name": "Via",
    "last_name": "Key",
    "user_group": "GRAD",
}


def new_key(owner, **options) -> str:
    return create_api_key(actor=SYSTEM, owner=owner, name=options.pop("name", "SIS"), **options).key


def api(method: str, path: str, key: str | None = None, body=None, how: str = "header", **extra):
    client = extra.pop("client", None) or Client()
    headers = {}
    if key is not None and how == "header":
        headers["HTTP_AUTHORIZATION"] = f"apikey {key}"
    elif key is not None and how == "x-api-key":
        headers["HTTP_X_API_KEY"] = key
    elif key is not None:
        path += ("&" if "?" in path else "?") + f"apikey={key}"
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
    response = getattr(client, method.lower())(f"/api/v1{path}", **kwargs, **headers, **extra)
    response.body = json.loads(response.content) if response.content else None
    return response


# --- the key itself ---------------------------------------------------------------------------


def test_the_key_is_returned_once_and_only_its_digest_is_stored(admin):
    created = create_api_key(actor=SYSTEM, owner=admin, name="SIS import")
    row = ApiKey.objects.get()
    assert len(created.key) >= 43  # 32 random bytes
    assert row.digest == hashlib.sha256(created.key.encode()).hexdigest()
    assert row.prefix == created.key[:8]
    assert created.key not in json.dumps(list(ApiKey.objects.values()), default=str)
    event = AuditEvent.objects.get(verb="apikey.created")
    assert event.subject_id == admin.pk and created.key not in json.dumps(event.details)


@pytest.mark.parametrize("how", ["header", "x-api-key", "query"])
def test_a_key_is_accepted_in_the_three_alma_style_places(admin, how):
    key = new_key(admin)
    response = api("GET", "/users", key, how=how)
    assert response.status_code == 200


def test_a_key_acts_as_its_owner_and_the_audit_says_so(admin):
    key = new_key(admin)
    response = api("POST", "/users", key, NEW_USER)
    assert response.status_code == 201
    event = AuditEvent.objects.get(verb="user.created", object_id=str(response.body["id"]))
    assert event.actor_id == admin.pk and event.channel == "api"


def test_unknown_keys_are_401_api_key_invalid(admin):
    response = api("GET", "/users", "not-a-key")
    assert response.status_code == 401
    assert response.body["code"] == "api_key_invalid"


def test_revoked_keys_are_401_api_key_revoked(admin):
    created = create_api_key(actor=SYSTEM, owner=admin, name="old")
    revoke_api_key(actor=SYSTEM, api_key=created.api_key)
    response = api("GET", "/users", created.key)
    assert response.status_code == 401 and response.body["code"] == "api_key_revoked"


def test_expired_keys_are_401_api_key_expired(admin):
    key = new_key(admin, expires_at=timezone.now() + datetime.timedelta(days=1))
    ApiKey.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = api("GET", "/users", key)
    assert response.status_code == 401 and response.body["code"] == "api_key_expired"


def test_a_key_of_an_inactive_account_is_refused(admin):
    key = new_key(admin)
    type(admin).objects.filter(pk=admin.pk).update(status="INACTIVE")
    assert api("GET", "/users", key).status_code == 401


def test_a_bad_key_is_refused_even_beside_a_good_session(admin):
    response = api("GET", "/users", "not-a-key", client=logged_in(admin))
    assert response.status_code == 401 and response.body["code"] == "api_key_invalid"


def test_read_only_keys_may_read_but_not_write(admin):
    key = new_key(admin, read_only=True)
    assert api("GET", "/users", key).status_code == 200
    response = api("POST", "/users", key, NEW_USER)
    assert response.status_code == 403 and response.body["code"] == "api_key_read_only"
    assert not type(admin).objects.filter(primary_id="via.key").exists()


def test_a_key_has_only_the_permissions_it_lists(admin):
    key = new_key(admin, permissions=[P.USERS_VIEW])
    assert api("GET", "/users", key).status_code == 200
    response = api("POST", "/users", key, NEW_USER)
    assert response.status_code == 403 and response.body["code"] == "permission_denied"


def test_a_key_loses_what_its_owner_loses(user_manager):
    key = new_key(user_manager, permissions=[P.USERS_VIEW])
    # Revoked by a writer that leaves the keys alone (not revoke_grant, which revokes them).
    RoleGrant.objects.filter(user=user_manager).update(revoked_at=timezone.now())
    grants_changed(user_manager)
    response = api("GET", "/users", key)
    assert response.status_code == 403  # the key lives on, but the owner holds nothing


def test_last_used_is_kept_to_the_minute(admin):
    key = new_key(admin)
    assert ApiKey.objects.get().last_used_at is None
    api("GET", "/users", key)
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    api("GET", "/users", key)
    assert ApiKey.objects.get().last_used_at == first  # no second write within a minute
    ApiKey.objects.update(last_used_at=timezone.now() - datetime.timedelta(minutes=2))
    api("GET", "/users", key)
    assert ApiKey.objects.get().last_used_at > first - datetime.timedelta(seconds=1)


# --- delegation -------------------------------------------------------------------------------


def test_a_key_cannot_hold_what_its_owner_does_not(user_manager):
    with pytest.raises(ValidationFailed) as refused:
        new_key(user_manager, permissions=[P.CONFIG_SYSTEM])
    assert refused.value.code == "not_held_by_owner"


def test_unknown_permissions_are_refused(admin):
    with pytest.raises(ValidationFailed) as refused:
        new_key(admin, permissions=["users:user:fly"])
    assert "users:user:fly" in refused.value.message


def test_nobody_makes_a_key_that_does_more_than_they_may(admin):
    uadmin = make_staff("USER_ADMINISTRATOR")
    with pytest.raises(Forbidden) as refused:
        create_api_key(actor=actor_for(uadmin), owner=admin, name="x")
    assert refused.value.code == "escalation"
    assert not ApiKey.objects.exists()


def test_a_key_made_for_someone_else_is_fixed_to_what_it_could_do_then(user_manager):
    uadmin = make_staff("USER_ADMINISTRATOR")
    created = create_api_key(actor=actor_for(uadmin), owner=user_manager, name="x")
    assert set(created.api_key.permissions) == permissions_of(user_manager)  # not "all"
    assert P.CONFIG_SYSTEM not in created.api_key.permissions


def test_making_keys_needs_the_permission(user_manager, admin):
    with pytest.raises(Forbidden):
        create_api_key(actor=actor_for(user_manager), owner=user_manager, name="mine")


def test_a_user_without_roles_gets_no_key(no_roles):
    with pytest.raises(ValidationFailed) as refused:
        new_key(no_roles)
    assert refused.value.code == "owner_without_roles"


# --- the API: /api/v1/api-keys ----------------------------------------------------------------


@pytest.fixture
def staff_member(db):
    return make_staff("FULFILLMENT_OPERATOR", primary_id="desk.key")


def test_the_api_lists_creates_shows_and_revokes_keys(admin, staff_member):
    client = logged_in(admin)
    created = api(
        "POST",
        "/api-keys",
        body={"user_id": staff_member.pk, "name": "Desk kiosk", "read_only": True},
        client=client,
    )
    assert created.status_code == 201
    body = created.body
    assert body["key"] and body["prefix"] == body["key"][:8] and body["read_only"] is True
    assert body["owner_primary_id"] == "desk.key" and body["created_by"] == "admin"
    assert api("GET", "/users", body["key"]).status_code == 200  # the key works

    listed = api("GET", f"/api-keys?user_id={staff_member.pk}", client=client)
    assert listed.status_code == 200
    assert [k["id"] for k in listed.body] == [body["id"]] and "key" not in listed.body[0]

    shown = api("GET", f"/api-keys/{body['id']}", client=client)
    assert shown.status_code == 200 and shown.body["state"] == "active"

    assert api("DELETE", f"/api-keys/{body['id']}", client=client).status_code == 204
    assert api("GET", f"/api-keys/{body['id']}", client=client).body["state"] == "revoked"
    assert api("GET", "/users", body["key"]).body["code"] == "api_key_revoked"
    assert AuditEvent.objects.filter(verb="apikey.revoked", subject=staff_member).exists()


def test_the_api_defaults_to_the_callers_own_keys(admin):
    client = logged_in(admin)
    created = api("POST", "/api-keys", body={"name": "mine"}, client=client)
    assert created.status_code == 201 and created.body["owner_id"] == admin.pk
    assert len(api("GET", "/api-keys", client=client).body) == 1


def test_the_api_needs_the_permission(user_manager, admin):
    key = ApiKey.objects.get(pk=create_api_key(actor=SYSTEM, owner=admin, name="x").api_key.pk)
    client = logged_in(user_manager)
    for method, path, body in [
        ("GET", "/api-keys", None),
        ("POST", "/api-keys", {"name": "x"}),
        ("GET", f"/api-keys/{key.pk}", None),
        ("DELETE", f"/api-keys/{key.pk}", None),
    ]:
        response = api(method, path, body=body, client=client)
        assert response.status_code == 403, (method, path)
        assert response.body["code"] == "permission_denied"
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_the_api_answers_404_for_unknown_users_and_keys(admin):
    client = logged_in(admin)
    assert api("GET", "/api-keys?user_id=999999", client=client).body["code"] == "user_not_found"
    response = api("POST", "/api-keys", body={"user_id": 999999, "name": "x"}, client=client)
    assert response.status_code == 404 and response.body["code"] == "user_not_found"
    for method in ("GET", "DELETE"):
        response = api(method, "/api-keys/999999", client=client)
        assert response.status_code == 404 and response.body["code"] == "api_key_not_found"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "x", "permissions": ["users:user:fly"]}, "permissions"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "user_id": 0}, "user_id"),
    ],
)
def test_the_api_refuses_bad_input_with_422(admin, body, field):
    response = api("POST", "/api-keys", body=body, client=logged_in(admin))
    assert response.status_code == 422
    assert field in response.body["errors"]
    assert not ApiKey.objects.exists()


def test_the_api_refuses_an_escalating_key_with_403(admin):
    uadmin = make_staff("USER_ADMINISTRATOR")
    response = api(
        "POST", "/api-keys", body={"user_id": admin.pk, "name": "x"}, client=logged_in(uadmin)
    )
    assert response.status_code == 403 and response.body["code"] == "escalation"


# --- the staff UI -----------------------------------------------------------------------------


def test_the_ui_creates_a_key_shows_it_once_and_revokes_it(admin, staff_member):
    client = logged_in(admin)
    page = client.get(f"/users/{staff_member.pk}/api-keys/")
    assert page.status_code == 200 and "No API keys." in page.content.decode()
    response = client.post(
        f"/users/{staff_member.pk}/api-keys/",
        {"name": "Kiosk", "read_only": "1", "permissions": [P.USERS_VIEW], "expires": "2099-01-31"},
    )
    assert response.status_code == 201
    html = response.content.decode()
    key = ApiKey.objects.get()
    plaintext = re.search(r'id="new-key-value">([^<]+)<', html).group(1)
    assert hashlib.sha256(plaintext.encode()).hexdigest() == key.digest
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    assert key.read_only and key.permissions == [P.USERS_VIEW]
    assert key.expires_at.date() == datetime.date(2099, 1, 31)
    again = client.get(f"/users/{staff_member.pk}/api-keys/").content.decode()
    assert plaintext not in again and f"{key.prefix}…" in again

    revoked = client.post(f"/users/{staff_member.pk}/api-keys/{key.pk}/revoke/")
    assert revoked.status_code == 302
    assert "was revoked" in client.get(revoked["Location"]).content.decode()
    assert ApiKey.objects.get().revoked_at is not None


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": ""}, "Name the key"),
        ({"name": "x", "expires": "31/01/2099"}, "YYYY-MM-DD"),
        ({"name": "x", "expires": "2001-01-01"}, "must be in the future"),
        ({"name": "x", "permissions": [P.CONFIG_SYSTEM]}, "does not hold"),
    ],
)
def test_the_ui_refuses_bad_input_beside_the_fields(admin, staff_member, data, message):
    response = logged_in(admin).post(f"/users/{staff_member.pk}/api-keys/", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_ui_needs_the_permission(user_manager, staff_member):
    key = create_api_key(actor=SYSTEM, owner=staff_member, name="x").api_key
    client = logged_in(user_manager)
    assert client.get(f"/users/{staff_member.pk}/api-keys/").status_code == 403
    assert client.post(f"/users/{staff_member.pk}/api-keys/", {"name": "x"}).status_code == 403
    assert client.post(f"/users/{staff_member.pk}/api-keys/{key.pk}/revoke/").status_code == 403
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_ui_answers_404_for_unknown_users_and_keys(admin, staff_member):
    other = create_api_key(actor=SYSTEM, owner=admin, name="admin's").api_key
    client = logged_in(admin)
    assert client.get("/users/999999/api-keys/").status_code == 404
    assert client.post(f"/users/{staff_member.pk}/api-keys/999999/revoke/").status_code == 404
    # a key of another user, under this user's address
    assert client.post(f"/users/{staff_member.pk}/api-keys/{other.pk}/revoke/").status_code == 404
    assert ApiKey.objects.get(pk=other.pk).revoked_at is None


def test_revoking_is_a_post(admin, staff_member):
    key = create_api_key(actor=SYSTEM, owner=staff_member, name="x").api_key
    assert (
        logged_in(admin).get(f"/users/{staff_member.pk}/api-keys/{key.pk}/revoke/").status_code
        == 405
    )


def test_the_user_details_link_to_sign_in_security(admin, user_manager, staff_member):
    html = logged_in(admin).get(f"/users/{staff_member.pk}/").content.decode()
    assert f'href="/users/{staff_member.pk}/api-keys/"' in html
    assert f'href="/users/{staff_member.pk}/two-factor/"' in html
    html = logged_in(user_manager).get(f"/users/{staff_member.pk}/").content.decode()
    assert 'id="sign-in-security"' not in html


# --- the command line -------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("apikey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_declares_its_permission():
    assert ApiKeyCommand.required_permission == P.APIKEYS_MANAGE


def test_the_command_creates_a_key_and_prints_it_once(staff_member):
    out, err = run(
        "create", "--user", "DESK.KEY", "--name", "kiosk", "--read-only",
        "--expires", "2099-06-30", "--permission", P.USERS_VIEW,
    )  # fmt: skip
    key = out.strip()
    row = ApiKey.objects.get()
    assert row.digest == hashlib.sha256(key.encode()).hexdigest()
    assert row.read_only and row.permissions == [P.USERS_VIEW] and row.name == "kiosk"
    assert "shown once" in err
    assert AuditEvent.objects.get(verb="apikey.created").channel == "cli"
    listed, _ = run("list", "--user", "desk.key")
    assert f"{row.pk}\t{row.prefix}…\tkiosk\tactive\tread-only\texpires 2099-06-30" in listed
    assert key not in listed
    out, _ = run("revoke", str(row.pk))
    assert "revoked" in out and ApiKey.objects.get().revoked_at is not None


@pytest.mark.parametrize(
    "args,message",
    [
        (["create", "--user", "nobody"], "No user with primary ID 'nobody'"),
        (["create", "--user", "desk.key", "--expires", "soon"], "not a date"),
        (["create", "--user", "desk.key", "--permission", "config:system:manage"], "does not hold"),
        (["create", "--user", "desk.key", "--permission", "x:y:z"], "Not a permission: x:y:z"),
        (["list", "--user", "nobody"], "No user"),
        (["revoke", "999999"], "No API key 999999"),
    ],
)
def test_the_command_refuses_clearly(staff_member, args, message):
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert message in str(refused.value)
    assert not ApiKey.objects.exists()


def test_keys_of_users_without_roles_are_refused_on_the_command_line():
    make_user(primary_id="patron.x")
    with pytest.raises(CommandError, match="holds no role"):
        run("create", "--user", "patron.x")
