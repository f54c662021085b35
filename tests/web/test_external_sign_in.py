"""Single sign-on through the web server (/login/external/): the reverse proxy names the
person in a header after the identity provider authenticated them; an External (or
Internal-with-external-authentication) patron lands on their own account, /my/."""

from __future__ import annotations

import pytest
from django.test import Client

from patronage.accounts import actions
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM, make_user

pytestmark = pytest.mark.django_db
HEADER = "X-Remote-User"


@pytest.fixture(autouse=True)
def sso(settings):
    settings.REMOTE_USER_HEADER = HEADER


@pytest.fixture
def external_patron(db):
    return make_user(
        primary_id="ext01",
        first_name="Esme",
        last_name="External",
        account_type="EXTERNAL",
        identifiers=[{"id_type": "UNIV_ID", "value": "u-4711"}],
    )


def sign_in(identity: str | None) -> tuple[Client, object]:
    client = Client()
    headers = {HEADER: identity} if identity is not None else {}
    return client, client.get("/login/external/", headers=headers)


@pytest.mark.parametrize("identity", ["EXT01", "u-4711"])
def test_an_external_patron_signs_in_by_primary_id_or_identifier(external_patron, identity):
    client, answer = sign_in(identity)
    assert answer.status_code == 302 and answer.headers["Location"] == "/my/"
    page = client.get("/my/")
    assert page.status_code == 200 and "Esme" in page.content.decode()
    assert AuditEvent.objects.filter(verb="auth.login", actor=external_patron).exists()


def test_an_internal_account_signs_in_with_its_password_not_the_header(db):
    make_user(primary_id="int01", password="correct horse battery staple")
    client, answer = sign_in("int01")
    assert answer.status_code == 403
    assert "No active account here signs in with this identity" in answer.content.decode()
    assert client.get("/my/").status_code == 302  # still signed out: sent to sign in


def test_unknown_missing_and_inactive_identities_are_refused(external_patron):
    assert sign_in("nobody")[1].status_code == 403
    missing = sign_in(None)[1]
    assert missing.status_code == 403
    assert "named nobody" in missing.content.decode()
    make_user(primary_id="gone01", account_type="EXTERNAL", status="INACTIVE")
    assert sign_in("gone01")[1].status_code == 403
    refusals = AuditEvent.objects.filter(verb="auth.login_failed").count()
    assert refusals == 2  # the unknown and the inactive identity, audited


def test_an_account_that_needs_a_second_factor_is_sent_to_the_login_page(external_patron):
    actions.update_user(actor=SYSTEM, user=external_patron, fields={"mfa_enabled": True})
    client, answer = sign_in("ext01")
    assert answer.status_code == 403
    assert "second factor" in answer.content.decode()
    assert client.get("/my/").status_code == 302


def test_the_login_page_offers_single_sign_on_only_when_it_is_set_up(settings, db):
    assert 'href="/login/external/"' in Client().get("/login/").content.decode()
    settings.REMOTE_USER_HEADER = ""
    assert "/login/external/" not in Client().get("/login/").content.decode()


def test_without_the_setting_there_is_no_external_sign_in(settings, external_patron):
    settings.REMOTE_USER_HEADER = ""
    assert sign_in("ext01")[1].status_code == 404
