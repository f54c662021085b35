"""A patron in a real browser: signs in on the sign-in page, lands on their own account at
/my/ (no staff menu), sees their loan, fee and note, and downloads their data."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from patronage.accounts.actions import add_note
from patronage.audit.models import AuditEvent
from patronage.circulation import actions as circulation
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, make_desk, make_library, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
PASSWORD = "correct horse battery"


def test_a_patron_signs_in_and_downloads_their_data(page, shoot):
    patron = make_user(primary_id="pia01", first_name="Pia", last_name="Patron", password=PASSWORD)
    library = make_library()
    make_item(library, barcode="MINE1", title="My Own Book")
    circulation.check_out(actor=SYSTEM, user=patron, barcode="MINE1", desk=make_desk(library))
    circulation.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount="3.00")
    add_note(
        actor=SYSTEM, user=patron, note_type="OTHER", text="Your card is ready", user_viewable=True
    )
    make_user(primary_id="ned01", first_name="Ned", last_name="Neighbour")

    page.goto("/login/")
    page.get_by_label("Primary ID").fill("pia01")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/my/$"))
    expect(page.locator("h1")).to_contain_text("Pia Patron")
    expect(page.locator("#my-loans")).to_contain_text("My Own Book")
    expect(page.locator("#my-fees")).to_contain_text("3.00")
    expect(page.locator("#my-notes")).to_contain_text("Your card is ready")
    expect(page.get_by_role("link", name="Find and manage users")).to_have_count(0)
    shoot(page, "my-account")

    with page.expect_download() as download:
        page.get_by_role("link", name="JSON").click()
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["record"]["primary_id"] == "pia01"
    assert [loan["title"] for loan in data["loans"]] == ["My Own Book"]
    assert "ned01" not in json.dumps(data)
    (event,) = AuditEvent.objects.filter(verb="user.exported")
    assert (event.actor_id, event.subject_id, event.details["format"]) == (
        patron.pk,
        patron.pk,
        "json",
    )

    page.goto("/users/")
    expect(page.locator("body")).to_contain_text("permission")


def test_desk_staff_send_the_personal_information_letter(page, shoot):
    from django.core import mail

    from tests.factories import make_staff

    make_staff("FULFILLMENT_OPERATOR", primary_id="desk1", password=PASSWORD, first_name="Dee")
    patron = make_user(
        primary_id="pia02",
        first_name="Pia",
        last_name="Patron",
        emails=[{"address": "pia@example.org", "types": ["personal"], "preferred": True}],
    )
    page.goto("/login/")
    page.get_by_label("Primary ID").fill("desk1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/users/{patron.pk}/")
    page.get_by_role("link", name="Personal data").click()
    expect(page).to_have_url(re.compile(rf"/users/{patron.pk}/personal-data/$"))
    # Desk staff see the card only: not the address, and no download.
    expect(page.locator("#tab-personal_data")).not_to_contain_text("pia@example.org")
    expect(page.locator("#personal-data-downloads")).to_have_count(0)
    page.get_by_role("button", name="Send the Personal Information Letter").click()
    expect(page.locator("#tab-personal_data")).to_contain_text("on its way")
    shoot(page, "personal-information-letter")
    assert [m.to for m in mail.outbox] == [["pia@example.org"]]
    assert mail.outbox[0].attachments[0][0].endswith(".xml")
