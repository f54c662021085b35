"""Access governance in a real browser, one full path of seed 003: a supervisor requests roles
for a new hire → the functional-area lead approves → the new hire signs the data privacy &
security form → Library IT grants the roles in the sandbox → the lead records the training →
Library IT grants them in production; then a separation from HR removes everything."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from patronage.access.actions import set_login_model
from patronage.access.models import RoleGrant
from patronage.accounts.models import User
from patronage.approvals.choices import Duty
from patronage.approvals.models import Placement, Steward, Unit
from tests.factories import SYSTEM, make_desk, make_library, make_staff, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def with_login(**fields) -> User:
    user = make_staff(**fields)
    set_login_model(actor=SYSTEM, user=user, login_model="CUSTOM")
    return User.objects.get(pk=user.pk)


def test_a_new_hire_from_request_to_production_and_out_again(signed_in, shoot):
    # The privacy form texts are migration data, flushed with the transactional database.
    forms = importlib.import_module("patronage.approvals.migrations.0002_privacy_form_texts")
    forms.publish(apps, None)
    library = make_library("MAIN", "Main Library")
    desk = make_desk(library, "FRONT", "Front desk")
    it = make_staff(
        "GENERAL_SYSTEM_ADMINISTRATOR", primary_id="admin", first_name="Ada", last_name="Admin"
    )
    supervisor = with_login(primary_id="sue", first_name="Sue", last_name="Supervisor")
    lead = with_login(primary_id="flo", first_name="Flo", last_name="Lead")
    hire = make_user(record_type="STAFF", primary_id="nia", first_name="Nia", last_name="Newhire")
    unit = Unit.objects.create(code="ACCESS", name="Access Services", library=library)
    Placement.objects.create(
        user=hire, unit=unit, supervisor=supervisor, since=timezone.localdate()
    )
    Steward.objects.create(user=lead, duty=Duty.AREA_LEAD, role_type="FULFILLMENT")

    def as_(user):
        context = signed_in(user)
        return context.new_page()

    # The supervisor files the login request form.
    page = as_(supervisor)
    page.goto("/governance/requests/")
    page.get_by_role("link", name="New request").click()
    page.locator("#f-subject").select_option(str(hire.pk))
    page.get_by_role("button", name="Choose").click()
    page.locator("#f-kind").select_option("NEW")
    page.locator("#f-rationale").fill("Evening shifts at the front desk")
    page.locator("#f-login_type").select_option("CUSTOM")
    page.locator("#f-role_0").select_option("FULFILLMENT_OPERATOR_EXTENDED")
    page.locator("#f-scope_0").select_option(f"CIRCULATION_DESK:{desk.pk}")
    page.get_by_role("button", name="File the request").click()
    expect(page.locator("#request-status")).to_have_text("Awaiting the area leads' decisions")
    request_url = page.url

    # The functional-area lead finds it in their inbox and approves.
    page = as_(lead)
    page.goto("/governance/requests/")
    page.locator("#inbox").get_by_role("link").first.click()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#request-status")).to_have_text("Awaiting the privacy & security form")

    # The new hire signs the form.
    page = as_(hire)
    page.goto("/governance/privacy-form/")
    expect(page.get_by_role("heading", name=re.compile("Data privacy & security"))).to_have_count(2)
    page.get_by_role("button", name=re.compile("I accept")).click()
    expect(page.locator("#no-form")).to_be_visible()

    # Library IT grants the roles in the sandbox.
    page = as_(it)
    page.goto(request_url)
    page.get_by_role("button", name="Grant the approved roles in the sandbox").click()
    expect(page.locator("#request-status")).to_have_text("In training")
    assert RoleGrant.objects.active(environment="sandbox").filter(user=hire).exists()
    assert not RoleGrant.objects.active().filter(user=hire, role__login_model="").exists()

    # The lead records the training.
    page = as_(lead)
    page.goto(request_url)
    page.get_by_role("button", name="Record training").click()
    expect(page.locator("#request-status")).to_have_text("Awaiting production grants")

    # Library IT grants the roles in production.
    page = as_(it)
    page.goto(request_url)
    page.get_by_role("button", name="Grant in production").click()
    expect(page.locator("#request-status")).to_have_text("Completed")
    shoot(page, "governance-request-completed")
    assert (
        RoleGrant.objects.active()
        .filter(user=hire, role__code="FULFILLMENT_OPERATOR_EXTENDED")
        .exists()
    )

    # The new hire works with their login ...
    hire_page = as_(hire)
    hire_page.goto("/users/")
    expect(hire_page.get_by_role("heading", name="Find and manage users")).to_be_visible()

    # ... until HR reports the separation: everything ends at once.
    page.goto("/governance/separations/")
    page.locator("#sep-f-user").fill("nia")
    page.locator("#sep-f-separation_date").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Record the separation").click()
    expect(page.locator("#separation-list")).to_contain_text("Nia Newhire")
    hire.refresh_from_db()
    assert not hire.is_active
    for environment in ("production", "sandbox"):
        assert not RoleGrant.objects.active(environment=environment).filter(user=hire).exists()
    hire_page.goto("/users/")
    expect(hire_page).to_have_url(re.compile(r"/login/"))
