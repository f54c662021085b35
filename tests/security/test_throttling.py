"""Failed sign-ins are limited (per primary ID and per address, held in the database), and
staff sign in only from the institution's IP ranges (seed 002 "Restricting Alma Logins by IP
Range") unless their record disables the restriction."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from patronage.access import authentication as auth
from patronage.access.models import LoginFailure
from patronage.audit.models import AuditEvent
from tests.factories import make_staff, make_user

from .conftest import PASSWORD, sign_in, signed_in_user_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    # A role without a second factor: the password step completes the sign-in.
    return make_staff("FULFILLMENT_OPERATOR", primary_id="desk.one", password=PASSWORD)


def fail(times: int, primary_id: str = "desk.one", ip: str = "10.0.0.1") -> None:
    client = Client(REMOTE_ADDR=ip)
    for _ in range(times):
        response = sign_in(client, primary_id, "wrong password")
        assert response.status_code == 200


# --- throttling -------------------------------------------------------------------------------


def test_five_failures_for_one_id_refuse_even_the_right_password(desk):
    fail(5)
    client = Client(REMOTE_ADDR="10.9.9.9")  # another address: the ID's limit still holds
    response = sign_in(client, "DESK.ONE")  # the ID is compared case-insensitively
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-in attempts" in html and "15 minutes" in html
    assert signed_in_user_id(client) is None
    assert AuditEvent.objects.filter(verb="auth.login_throttled", subject=desk).count() == 1


def test_four_failures_still_let_the_right_password_in_and_clear_the_count(desk):
    fail(4)
    client = Client(REMOTE_ADDR="10.0.0.1")
    assert sign_in(client, "desk.one").status_code == 302
    assert signed_in_user_id(client) == str(desk.pk)
    assert not LoginFailure.objects.filter(id_digest=auth.id_digest("desk.one")).exists()


def test_five_failures_from_one_address_refuse_other_ids_from_it(desk):
    for n in range(5):
        fail(1, primary_id=f"someone{n}")
    response = sign_in(Client(REMOTE_ADDR="10.0.0.1"), "desk.one")
    assert response.status_code == 429
    assert sign_in(Client(REMOTE_ADDR="10.0.0.2"), "desk.one").status_code == 302


def test_the_limits_are_settings(desk, settings):
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_MAX_FAILURES_PER_IP = 50
    fail(2)
    assert sign_in(Client(REMOTE_ADDR="10.0.0.1"), "desk.one").status_code == 429


def test_the_refusal_ends_with_the_window(desk):
    fail(5)
    LoginFailure.objects.update(occurred_at=timezone.now() - datetime.timedelta(minutes=16))
    assert sign_in(Client(REMOTE_ADDR="10.0.0.1"), "desk.one").status_code == 302


def test_a_refused_attempt_checks_no_password_and_is_not_counted(desk, monkeypatch):
    fail(5)
    checked = []
    monkeypatch.setattr(
        "patronage.accounts.models.User.check_password", lambda *a: checked.append(a)
    )
    before = LoginFailure.objects.count()
    sign_in(Client(REMOTE_ADDR="10.0.0.1"), "desk.one")
    assert checked == [] and LoginFailure.objects.count() == before


def test_unknown_and_known_ids_are_refused_alike(desk):
    fail(5, primary_id="nobody.here", ip="10.0.0.1")
    fail(5, ip="10.0.0.2")
    unknown = sign_in(Client(REMOTE_ADDR="10.1.1.1"), "nobody.here")
    known = sign_in(Client(REMOTE_ADDR="10.1.1.2"), "desk.one")
    assert unknown.status_code == known.status_code == 429

    def alert(response):
        return re.search(r'id="login-refused">([^<]*)<', response.content.decode()).group(1)

    assert alert(unknown) == alert(known) == auth.throttled_message()


def test_failures_are_audited_without_what_was_typed(desk):
    fail(1)
    event = AuditEvent.objects.get(verb="auth.login_failed")
    assert event.subject_id == desk.pk and event.ip == "10.0.0.1"
    assert event.details == {"reason": "wrong_password"}
    row = LoginFailure.objects.get()
    assert "desk" not in row.id_digest and len(row.id_digest) == 64


# --- IP ranges --------------------------------------------------------------------------------


@pytest.fixture
def ranges(settings):
    settings.STAFF_LOGIN_IP_RANGES = ["192.0.2.0/24", "2001:db8::/32"]


@pytest.mark.parametrize("ip", ["192.0.2.17", "2001:db8::5", "::ffff:192.0.2.9"])
def test_staff_sign_in_from_inside_the_ranges(desk, ranges, ip):
    client = Client(REMOTE_ADDR=ip)
    assert sign_in(client, "desk.one").status_code == 302
    assert signed_in_user_id(client) == str(desk.pk)


def test_staff_are_refused_outside_the_ranges_and_it_is_audited(desk, ranges):
    client = Client(REMOTE_ADDR="198.51.100.4")
    response = sign_in(client, "desk.one")
    assert response.status_code == 403
    assert "cannot sign in from this network" in response.content.decode()
    assert signed_in_user_id(client) is None
    event = AuditEvent.objects.get(verb="auth.login_refused_ip")
    assert event.subject_id == desk.pk and event.details == {"ip": "198.51.100.4"}


def test_disable_all_login_restrictions_lets_a_user_in_from_anywhere(ranges):
    make_staff(
        "FULFILLMENT_OPERATOR",
        primary_id="travelling",
        password=PASSWORD,
        disable_login_restrictions=True,
    )
    assert sign_in(Client(REMOTE_ADDR="198.51.100.4"), "travelling").status_code == 302


def test_users_without_roles_are_not_staff_logins(ranges):
    make_user(primary_id="patron.one", password=PASSWORD)
    assert sign_in(Client(REMOTE_ADDR="198.51.100.4"), "patron.one").status_code == 302


def test_no_ranges_no_restriction(desk):
    assert sign_in(Client(REMOTE_ADDR="198.51.100.4"), "desk.one").status_code == 302


def test_a_wrong_password_from_outside_says_nothing_about_the_ranges(desk, ranges):
    response = sign_in(Client(REMOTE_ADDR="198.51.100.4"), "desk.one", "wrong")
    assert response.status_code == 200
    assert "network" not in response.content.decode()
