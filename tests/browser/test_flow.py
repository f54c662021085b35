"""The staff UI in a real browser: log in, add, find, open, edit, see the history."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from patronage.accounts.models import User
from tests.factories import make_staff, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PASSWORD = "correct horse battery"


def log_in(page, primary_id: str = "uma") -> None:
    make_staff(
        "USER_MANAGER",
        primary_id=primary_id,
        password=PASSWORD,
        first_name="Uma",
        last_name="Manager",
    )
    sign_in_setting_up_the_app(page, primary_id)
    expect(page).to_have_url(re.compile(r"/users/$"))


def sign_in_setting_up_the_app(page, primary_id: str) -> None:
    """Administrative roles sign in with a second factor: the first time, the page shows the
    key to enter into an authenticator app; the test computes the app's code from it."""
    page.goto("/login/")
    page.get_by_label("Primary ID").fill(primary_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and sign in").click()


def test_add_find_edit_and_see_the_history(page, shoot):
    page.goto("/login/")
    shoot(page, "login")
    log_in(page)

    # Quick add: first a mistake, shown beside its field, then the correct form.
    page.get_by_role("link", name="Add user").first.click()
    page.get_by_label("Record type").select_option("STAFF")
    # htmx refreshed the user groups for staff records
    expect(page.locator("#f-user_group option[value=STAFF]")).to_have_count(1)
    expect(page.locator("#f-user_group option[value=UNDERGRAD]")).to_have_count(0)
    # ... and, out of band, the email types (school addresses are for public users only)
    expect(page.locator("#f-email_type option[value=school]")).to_have_count(0)
    page.get_by_label("Primary identifier").fill("mhamilton")
    page.get_by_label(re.compile(r"^First name")).fill("Margaret")
    page.get_by_label(re.compile(r"^Last name")).fill("Hamilton")
    page.get_by_label("User group").select_option("STAFF")
    page.get_by_label("Job category").select_option("SYSTEMS")
    page.get_by_label("Email type").select_option("work")
    page.get_by_label("Email address").fill("margaret-at-example")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_label("PIN number")).to_have_value(re.compile(r"^\d{4}$"))
    page.get_by_role("button", name="Save", exact=True).click()
    error = page.locator("#f-email_address-error")
    expect(error).to_contain_text("is not in a valid format")
    expect(page.get_by_label(re.compile(r"^First name"))).to_have_value("Margaret")
    shoot(page, "quick_add_error")
    assert not User.objects.filter(primary_id="mhamilton").exists()

    page.get_by_label("Email address").fill("margaret@example.edu")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("was added")

    # Find her by part of her name; results update as one types (htmx).
    search = page.get_by_label("Search for")
    search.fill("hamil")
    expect(page.locator("#user-list")).to_contain_text("Margaret Hamilton")
    shoot(page, "search_results")
    page.get_by_role("link", name="Margaret Hamilton").click()
    expect(page.locator("h1")).to_contain_text("Margaret Hamilton")
    shoot(page, "details_general")

    # The edit form's user groups follow a change of record type (htmx), until cancelled.
    page.locator("#edit-general").click()
    expect(page.locator("#general-form")).to_be_visible()
    expect(page.locator(".htmx-settling")).to_have_count(0)  # htmx has wired the new form
    page.locator("#f-record_type").select_option("PUBLIC")
    expect(page.locator("#f-user_group option[value=UNDERGRAD]")).to_have_count(1)
    page.locator("#general-form").get_by_role("link", name="Cancel").click()
    expect(page.locator("#edit-general")).to_be_visible()

    # Sign-in: a password typed twice differently is refused; then changed. A PIN generated.
    page.locator("#sign-in summary", has_text="Change password").click()
    page.get_by_label("New password").fill("velvet lantern 1843")
    page.get_by_label("Verify password").fill("velvet lantern 1844")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-f-password_verify-error")).to_contain_text("not the same")
    expect(page.get_by_label("New password")).to_have_value("")
    page.get_by_label("New password").fill("velvet lantern 1843")
    page.get_by_label("Verify password").fill("velvet lantern 1843")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".msg-success")).to_contain_text("The password was changed.")
    page.locator("#sign-in summary", has_text="Set PIN").click()
    page.locator("#pin-form").get_by_role("button", name="Generate").click()
    expect(page.locator("#pin-f-pin")).to_have_value(re.compile(r"^\d{4}$"))
    shoot(page, "details_sign_in")
    page.get_by_role("button", name="Set PIN").click()
    expect(page.locator(".msg-success")).to_contain_text("The PIN was set.")

    # Contact tab (htmx swap, URL pushed): edit the email.
    page.get_by_role("link", name="Contact information").click()
    expect(page).to_have_url(re.compile(r"tab=contact"))
    page.get_by_role("link", name="Edit margaret@example.edu").click()
    address = page.locator("#contact-email tr.editing form input[name=address]")
    address.fill("no-at-sign")
    page.locator("#contact-email tr.editing form").get_by_role("button", name="Save").click()
    expect(page.locator("#contact-email tr.editing form .field .error")).to_contain_text(
        "not in a valid format"
    )
    address.fill("m.hamilton@example.edu")
    page.locator("#contact-email tr.editing form").get_by_role("button", name="Save").click()
    expect(page.locator("#contact-email")).to_contain_text("m.hamilton@example.edu")
    shoot(page, "details_contact")

    # History tab: who changed the email, from what to what.
    page.get_by_role("link", name="History").click()
    history = page.locator("#history-list")
    expect(history).to_contain_text("margaret@example.edu")
    expect(history).to_contain_text("m.hamilton@example.edu")
    expect(history).to_contain_text("uma")
    expect(history).to_contain_text("Password")
    expect(history).to_contain_text("PIN number")
    shoot(page, "details_history")

    # Tabs are real links: a reload shows the same tab.
    page.reload()
    expect(page.locator("#history-list")).to_be_visible()


def test_a_possible_duplicate_needs_confirmation(page, shoot):
    make_user(first_name="Alan", last_name="Turing", birth_date="1912-06-23", primary_id="aturing0")
    log_in(page)
    page.goto("/users/new/")
    page.get_by_label("Record type").select_option("PUBLIC")
    # the lists for the record type are refreshed (htmx): let that land before choosing
    expect(page.locator(".htmx-request, .htmx-settling")).to_have_count(0)
    page.get_by_label("Primary identifier").fill("aturing1")
    page.get_by_label(re.compile(r"^First name")).fill("Alan")
    page.get_by_label(re.compile(r"^Last name")).fill("Turing")
    page.get_by_label("User group").select_option("FACULTY")
    page.get_by_label("Birth date").fill("1912-06-23")
    page.get_by_role("button", name="Save and continue").click()
    dialog = page.locator("#duplicate-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("same first name, last name and birth date")
    shoot(page, "quick_add_duplicate")
    assert not User.objects.filter(primary_id="aturing1").exists()

    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Save and continue").click()
    page.locator("#duplicate-dialog").get_by_role("button", name="Save anyway").click()
    expect(page.locator("h1")).to_contain_text("Alan Turing")
    assert User.objects.filter(primary_id="aturing1").exists()


def test_a_viewer_sees_the_name_lookup_hint(page):
    make_user(first_name="Robert", last_name="Smithson", primary_id="rs-42")
    make_staff("FULFILLMENT_OPERATOR", primary_id="desk", password=PASSWORD)
    page.goto("/login/")
    page.get_by_label("Primary ID").fill("desk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Add user")).to_have_count(0)
    page.get_by_label("Search for").fill("Smithson")
    expect(page.locator("#name-search-hint")).to_contain_text("Look up users by name")
    page.get_by_label("Search for").fill("RS-42")
    expect(page.locator("#user-list")).to_contain_text("Robert Smithson")


def test_an_administrator_edits_a_code_table_and_the_settings(page, shoot):
    make_staff("USER_ADMINISTRATOR", primary_id="uadmin", password=PASSWORD)
    sign_in_setting_up_the_app(page, "uadmin")
    page.get_by_role("link", name="Code tables").click()
    page.get_by_text("Add a value").click()
    page.get_by_role("textbox", name="Code").fill("EMERITUS")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#new-f-description-error")).to_contain_text("Enter the description")
    page.get_by_role("textbox", name="Description").fill("Emeritus professor")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#entry-list")).to_contain_text("Emeritus professor")
    shoot(page, "code_tables")
    page.get_by_role("link", name="User settings").click()
    page.get_by_label("Picture server URL").fill("http://not-https.example/")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-photo_server_url-error")).to_contain_text("HTTPS")
    shoot(page, "user_settings_error")
