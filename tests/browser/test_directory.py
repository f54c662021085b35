"""The directory's units in a real browser: Library IT adds a unit (a blank name is refused on
its field), renames it, is told on the row why a unit with staff placed in it cannot go, and
deletes the unit nobody works in."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patronage.approvals.models import Placement, Unit
from patronage.audit.models import AuditEvent
from tests.factories import make_library, make_staff, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_units_added_renamed_refused_and_deleted(signed_in, shoot):
    library = make_library("MAIN", "Main Library")
    admin = make_staff("GENERAL_SYSTEM_ADMINISTRATOR", primary_id="admin")
    busy = Unit.objects.create(code="ACCESS", name="Access Services", library=library)
    Placement.objects.create(
        user=make_user(record_type="STAFF", primary_id="nia"),
        unit=busy,
        since=timezone.localdate(),
    )
    page = signed_in(admin).new_page()
    page.goto("/governance/directory/")
    adding = page.locator("form", has=page.get_by_role("heading", name="Add a unit"))

    adding.get_by_label("Code").fill("RARE")
    adding.get_by_role("button", name="Add unit").click()
    expect(adding.get_by_text("Give the unit a name.")).to_be_visible()
    assert not Unit.objects.filter(code="RARE").exists()

    adding.get_by_label("Code").fill("RARE")
    adding.get_by_label("Name").fill("Rare Books")
    adding.get_by_label("Library").select_option(label="Main Library")
    adding.get_by_role("button", name="Add unit").click()
    expect(page.get_by_text("Unit saved.")).to_be_visible()
    rare = Unit.objects.get(code="RARE")
    row = page.locator(f"#unit-{rare.pk}")
    expect(row).to_contain_text("Rare Books")
    expect(row).to_contain_text("Main Library")

    row.get_by_text("Edit").click()
    row.get_by_label("Name").fill("Special Collections")
    row.get_by_role("button", name="Save unit").click()
    expect(page.get_by_text("Unit RARE saved.")).to_be_visible()
    expect(page.locator(f"#unit-{rare.pk}")).to_contain_text("Special Collections")

    page.get_by_role("button", name="Delete Access Services").click()
    refusal = page.locator(f"#unit-{busy.pk}-refusal")
    expect(refusal).to_have_text(re.compile(r"cannot be deleted: 1 staff member placed there"))
    assert Unit.objects.filter(pk=busy.pk).exists()
    shoot(page, "directory-unit-in-use")

    page.get_by_role("button", name="Delete Special Collections").click()
    expect(page.locator(f"#unit-{rare.pk}")).to_have_count(0)
    assert not Unit.objects.filter(pk=rare.pk).exists()
    verbs = AuditEvent.objects.filter(object_type="unit", object_id=str(rare.pk))
    assert sorted(verbs.values_list("verb", flat=True)) == [
        "unit.created",
        "unit.deleted",
        "unit.updated",
    ]
