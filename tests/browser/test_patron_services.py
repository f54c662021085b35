"""Patron services in a real browser: block a patron, try a check-out (refused, the reason
shown), dispute a fee and see the debt block lift, restore it and see it back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patronage.circulation import actions
from patronage.circulation.models import Loan, UserGroupPolicy
from tests.browser.test_flow import PASSWORD, sign_in_setting_up_the_app
from tests.factories import SYSTEM, make_desk, make_library, make_staff, make_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_block_refused_check_out_dispute_lifts_the_debt_block_restore(page, shoot):
    library = make_library()
    desk = make_desk(library)
    make_staff(
        "FULFILLMENT_ADMINISTRATOR",
        scope=library,
        primary_id="fadmin",
        password=PASSWORD,
        first_name="Fay",
        last_name="Admin",
    )
    UserGroupPolicy.objects.create(user_group="UNDERGRAD", debt_limit="10.00")
    patron = make_user(first_name="Pat", last_name="Borrower")
    fee = actions.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount="12.00")
    item = actions.create_item(actor=SYSTEM, barcode="B-42", title="Middlemarch", library=library)
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks before each change
    sign_in_setting_up_the_app(page, "fadmin")
    expect(page).to_have_url(re.compile(r"/users/$"))

    # Block the patron on the Blocks tab.
    page.goto(f"/users/{patron.pk}/?tab=blocks")
    page.get_by_text("Add a block").click()
    page.locator("#block-new-f-block_type").select_option("CONDUCT")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#block-list")).to_contain_text("Conduct")

    # Try a check-out: refused, and the reasons are shown.
    page.get_by_role("link", name="Loans").click()
    blocks = page.locator("#blocks-in-force")
    expect(blocks.locator("[data-code=DEBT_LIMIT]")).to_have_count(1)
    page.get_by_label("Item barcode").fill(item.barcode)
    page.get_by_label("Circulation desk").select_option(str(desk.pk))
    page.get_by_role("button", name="Check out").click()
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("may not borrow")
    expect(refusal).to_contain_text("Conduct")
    expect(refusal).to_contain_text("debt limit")
    shoot(page, "check-out-refused")
    assert not Loan.objects.exists()

    # Dispute the fee: the debt block lifts (the manual block stays).
    page.get_by_role("link", name="Fines/Fees").click()
    row = page.locator(f"#fee-{fee.pk}")
    row.locator("summary", has_text="Dispute").click()
    page.locator(f"#dispute-{fee.pk}-f-comment").fill("Returned it on time")
    row.get_by_role("button", name="Dispute").click()
    expect(page.locator(f"#fee-{fee.pk}")).to_have_attribute("data-status", "INDISPUTE")
    expect(page.locator("#balance-disputed")).to_contain_text("12.00")
    expect(page.locator("#balance-active")).to_contain_text("0.00")
    page.get_by_role("link", name="Loans").click()
    expect(page.locator("#blocks-in-force [data-code=DEBT_LIMIT]")).to_have_count(0)
    expect(page.locator("#blocks-in-force [data-code=CONDUCT]")).to_have_count(1)

    # Restore it: the debt block is back.
    page.get_by_role("link", name="Fines/Fees").click()
    row = page.locator(f"#fee-{fee.pk}")
    row.locator("summary", has_text="Restore").click()
    row.get_by_role("button", name="Restore").click()
    expect(page.locator(f"#fee-{fee.pk}")).to_have_attribute("data-status", "ACTIVE")
    page.get_by_role("link", name="Loans").click()
    expect(page.locator("#blocks-in-force [data-code=DEBT_LIMIT]")).to_have_count(1)
    shoot(page, "debt-block-restored")
