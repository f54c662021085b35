"""Sign-in security in a real browser: setting up the authenticator app at the first sign-in,
a code at the next, the session ending when a role is removed, and an API key made on the
user's page and shown once."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from patronage.access.actions import revoke_grant
from patronage.access.models import ApiKey, RoleGrant
from patronage.accounts.models import User
from tests.factories import SYSTEM, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PASSWORD = "correct horse battery"


def password_step(page, primary_id: str) -> None:
    page.goto("/login/")
    page.get_by_label("Primary ID").fill(primary_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_set_up_the_app_then_sign_in_with_a_code(page, shoot):
    make_staff("USER_MANAGER", primary_id="uma", password=PASSWORD)
    password_step(page, "uma")
    expect(page).to_have_url(re.compile(r"/login/enroll/$"))
    expect(page.locator("#totp-uri")).to_contain_text("otpauth://totp/Patronage:uma")
    shoot(page, "mfa_enroll")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Authentication code").fill("000000")
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.locator("#code-error")).to_contain_text("not right")
    totp = pyotp.TOTP(secret)
    used = totp.now()
    page.get_by_label("Authentication code").fill(used)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page).to_have_url(re.compile(r"/users/$"))
    expect(page.locator(".messages")).to_contain_text("Two-factor authentication is set up")

    page.get_by_role("button", name="Log out").click()
    password_step(page, "uma")
    expect(page).to_have_url(re.compile(r"/login/verify/$"))
    shoot(page, "mfa_verify")
    # The code just used is refused (even if a new 30-second step has begun since);
    # the next step's is accepted (one step of drift).
    page.get_by_label("Authentication code").fill(used)
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#code-error")).to_contain_text("already used")
    page.get_by_label("Authentication code").fill(totp.at(time.time(), counter_offset=1))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/users/$"))


def test_the_session_ends_when_a_role_is_removed(page):
    make_staff("FULFILLMENT_OPERATOR", primary_id="desk", password=PASSWORD)
    password_step(page, "desk")
    expect(page).to_have_url(re.compile(r"/users/$"))
    user = User.objects.get(primary_id="desk")
    revoke_grant(
        actor=SYSTEM, grant=RoleGrant.objects.active().get(user=user, role__level="OPERATOR")
    )
    page.reload()
    expect(page).to_have_url(re.compile(r"/login/\?next=/users/$"))
    expect(page.locator(".messages")).to_contain_text("Your access changed; sign in again")


def test_an_administrator_makes_an_api_key_and_sees_it_once(page, shoot):
    make_staff("GENERAL_SYSTEM_ADMINISTRATOR", primary_id="gsa", password=PASSWORD)
    owner = make_staff("FULFILLMENT_OPERATOR", primary_id="kiosk", first_name="Kiosk")
    password_step(page, "gsa")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and sign in").click()
    page.goto(f"/users/{owner.pk}/")
    page.locator("#sign-in-security").get_by_role("link", name="API keys").click()
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#f-name-error")).to_contain_text("Name the key")
    page.get_by_label(re.compile(r"^Name")).fill("Self-check kiosk")
    page.get_by_label("Read-only (GET requests only)").check()
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key-value").inner_text()
    shoot(page, "api_key_created")
    assert ApiKey.objects.get().prefix == key[:8]
    expect(page.locator("#key-list")).to_contain_text("Read-only")
    page.get_by_role("button", name="Revoke Self-check kiosk").click()
    expect(page.locator(".messages")).to_contain_text("was revoked")
    expect(page.locator("#key-list")).to_contain_text("Revoked")
    assert page.content().count(key) == 0
