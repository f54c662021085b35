"""The legal-process register in a real browser (seed 000): the Privacy Officer records a
subpoena and refers it to counsel; a release before counsel's order is refused; counsel
records a valid order naming one patron and one kind of record; the release contains exactly
that, marked as a legal release."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from patronage.accounts.actions import add_contact, add_note
from patronage.audit.models import AuditEvent
from patronage.privacy.models import LegalRelease, LegalRequest
from tests.factories import SYSTEM, make_staff, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_from_receipt_to_a_counsel_approved_limited_release(signed_in, shoot):
    officer = make_staff("PRIVACY_OFFICER", primary_id="officer", first_name="Olive")
    counsel = make_staff("GENERAL_COUNSEL", primary_id="counsel", first_name="Cass")
    named = make_user(primary_id="named01", first_name="Nora", last_name="Named")
    add_note(actor=SYSTEM, user=named, note_type="OTHER", text="Asked about a book")
    add_contact(
        actor=SYSTEM,
        user=named,
        kind="email",
        data={"address": "nora@example.org", "types": ["personal"], "preferred": True},
    )
    make_user(primary_id="other01", first_name="Otto", last_name="Other")

    officer_context = signed_in(officer)
    counsel_context = signed_in(counsel)
    page, counsel_page = officer_context.new_page(), counsel_context.new_page()

    # The Privacy Officer records the subpoena from the register.
    page.goto("/")
    page.get_by_role("link", name="Legal process").click()
    page.locator("#legal-new").click()
    page.locator("#id_agency").fill("County Sheriff")
    page.locator("#id_kind").select_option("subpoena")
    page.locator("#id_received_on").fill("2026-11-30")
    page.locator("#id_description").fill("Borrowing records of Nora Named")
    page.locator("#id_supervisor_email").fill("supervisor@library.example")
    page.locator("#id_director_email").fill("not-an-address")
    page.locator("#legal-record").click()
    expect(page.locator("#director_email-error")).to_have_text("Give a valid e-mail address.")
    page.locator("#id_director_email").fill("director@library.example")
    page.locator("#legal-record").click()
    expect(page.locator("#legal-state")).to_have_text("Received")
    legal = LegalRequest.objects.get()

    # Releasing now is refused: counsel has recorded no order.
    expect(page.locator("#legal-release")).to_contain_text("Nothing can be released")
    page.locator("#step-refer").click()
    expect(page.locator("#legal-state")).to_have_text("With counsel")
    expect(page.locator("#validate-order")).to_have_count(0)  # counsel's decision
    shoot(page, "legal_with_counsel")

    # Counsel records the valid order: one patron, contact information only.
    counsel_page.goto(f"/privacy/legal/{legal.pk}/")
    counsel_page.locator("#id_order_reference").fill("Superior Court No. 26-1234")
    counsel_page.locator("#id_patrons").fill("named01")
    counsel_page.locator("#kind-contact").check()
    counsel_page.locator("#step-validate_order").click()
    expect(counsel_page.locator("#legal-state")).to_have_text("Order validated")
    expect(counsel_page.locator("#legal-order")).to_contain_text("named01")

    # The officer releases: exactly what the order names.
    page.reload()
    page.locator("#legal-release-button").click()
    expect(page.locator("#legal-state")).to_have_text("Disclosed")
    with page.expect_download() as download:
        page.locator("#release-download").click()
    content = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert content["legal_release"] is True
    assert [record["id"] for record in content["records"]] == [named.pk]
    assert set(content["records"][0]) == {"id", "contact"}
    assert "Asked about a book" not in json.dumps(content) and "other01" not in json.dumps(content)
    assert LegalRelease.objects.get().request == legal
    assert AuditEvent.objects.filter(verb="user.exported", subject_id=named.pk).count() == 1
    shoot(page, "legal_disclosed")
