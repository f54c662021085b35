"""Roles in a real browser: an administrator grants a scoped role on the Roles tab and the
holder's menu changes at their next request; revoked, it is gone at the next request again.

Both people are signed in by a session cookie made with ``Client.force_login`` (which fires
``user_logged_in`` like a real sign-in), so the test does not depend on how sign-in asks for
passwords or second factors.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patronage.access.actions import set_login_model
from patronage.access.models import RoleGrant
from tests.factories import SYSTEM, make_desk, make_library, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_granted_role_changes_the_holders_access_at_once_and_a_revoked_one_ends_it(
    signed_in, shoot
):
    library = make_library("MAIN", "Main Library")
    make_desk(library, "FRONT", "Front desk")
    make_desk(make_library("LAW", "Law Library"), "LAWD", "Law desk")
    admin = make_staff(
        "GENERAL_SYSTEM_ADMINISTRATOR", primary_id="admin", first_name="Ada", last_name="Admin"
    )
    clerk = make_staff(primary_id="cclerk", first_name="Cleo", last_name="Clerk")
    set_login_model(actor=SYSTEM, user=clerk, login_model="CUSTOM")

    admin_context = signed_in(admin)
    clerk_context = signed_in(clerk)
    admin_page, clerk_page = admin_context.new_page(), clerk_context.new_page()

    # Before: the clerk's custom login has no role; no user search in the menu.
    clerk_page.goto("/")
    expect(clerk_page.locator("body")).to_contain_text("None of your roles")
    expect(clerk_page.get_by_role("link", name="Find and manage users")).to_have_count(0)

    # The administrator opens the clerk's Roles tab from the details page (htmx swap).
    admin_page.goto(f"/users/{clerk.pk}/")
    admin_page.get_by_role("link", name="Roles", exact=True).click()
    expect(admin_page).to_have_url(re.compile(rf"/users/{clerk.pk}/roles/$"))
    expect(admin_page.locator("#login-model")).to_have_text("Custom")

    # Grant Fulfillment Operator: the scope list follows the role (desks only).
    admin_page.locator("#grant-role summary").click()
    scope = admin_page.locator("#grant-f-scope")
    expect(scope.locator("option", has_text="Choose a role first")).to_have_count(1)
    admin_page.locator("#grant-f-role").select_option("FULFILLMENT_OPERATOR")
    expect(scope.locator("optgroup[label='Circulation desk'] option")).to_have_count(2)
    expect(scope.locator("optgroup[label='Library']")).to_have_count(0)
    # First a mistake: no scope chosen, shown beside its field, nothing granted.
    admin_page.locator("#grant-form").get_by_role("button", name="Grant").click()
    expect(admin_page.locator("#grant-f-scope-error")).to_have_text(
        "Choose where the role applies."
    )
    assert not RoleGrant.objects.filter(user=clerk, role__code="FULFILLMENT_OPERATOR").exists()
    admin_page.locator("#grant-f-scope").select_option(label="Front desk (MAIN)")
    admin_page.locator("#grant-f-reason").fill("Ticket 4711")
    admin_page.locator("#grant-form").get_by_role("button", name="Grant").click()
    expect(admin_page.locator(".msg-success")).to_contain_text(
        "Fulfillment Operator was granted (Front desk (MAIN))."
    )
    expect(admin_page.locator("#grant-list")).to_contain_text("Front desk (MAIN)")
    shoot(admin_page, "roles_tab_granted")

    # After: at the clerk's next request the menu offers the user search, and it opens.
    clerk_page.reload()
    clerk_page.goto("/users/")
    expect(clerk_page.get_by_role("link", name="Find and manage users")).to_have_count(1)
    expect(clerk_page.locator("h1")).to_contain_text("Find and manage users")

    # Revoke, with a reason: gone at the clerk's next request.
    admin_page.get_by_label("Revoke Fulfillment Operator (Front desk (MAIN))").click()
    grant = RoleGrant.objects.get(user=clerk, role__code="FULFILLMENT_OPERATOR")
    admin_page.locator(f"#revoke-{grant.pk}-reason").fill("Moved to the reading room")
    admin_page.locator(f"#grant-{grant.pk}").get_by_role("button", name="Revoke").click()
    expect(admin_page.locator(".msg-success")).to_contain_text(
        "Fulfillment Operator (Front desk (MAIN)) was removed."
    )
    expect(admin_page.locator("#grant-list")).not_to_contain_text("Front desk (MAIN)")

    clerk_page.goto("/users/")
    expect(clerk_page.get_by_role("link", name="Find and manage users")).to_have_count(0)
    # (signed out by the session check, or refused: either way no user search)
    expect(clerk_page.get_by_role("heading", name="Find and manage users")).to_have_count(0)
    shoot(clerk_page, "roles_revoked_holder")
