"""The staff UI of patron services: Fines/Fees, Loans, Proxy For tabs, the deletion dialog
and the Returns page. The allowed role succeeds, a role without the permission gets 403,
another library's fee 404, bad input 422 with the message and no change."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

from patronage.accounts.actions import add_block
from patronage.accounts.models import User
from patronage.circulation import actions
from patronage.circulation.models import Fee, FeeEntry, Loan, ProxyRelation
from patronage.circulation.selectors import fee_balance
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, make_desk, make_library, make_staff, make_user
from tests.web.conftest import _no_static_dir_warning, _plain_http, login  # noqa: F401

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "user-tabs"}


def fee_for(patron, amount="10.00", **kwargs):
    return actions.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount=amount, **kwargs)


def test_the_fees_tab_shows_the_balances_and_the_fees(manager, patron):
    fee_for(patron, "10.00")
    html = login(manager).get(f"/users/{patron.pk}/fees/").content.decode()
    assert 'id="balance-active">10.00 USD' in html
    assert "Other" in html and "Waive" in html


def test_the_fees_tab_needs_the_permission(no_roles, patron):
    assert login(no_roles).get(f"/users/{patron.pk}/fees/").status_code == 403


def test_paying_from_the_tab_gives_a_receipt(operator, patron):
    fee = fee_for(patron)
    response = login(operator).post(
        f"/users/{patron.pk}/fees/{fee.pk}/pay/", {"amount": "4", "method": "CASH"}, **HX
    )
    assert response.status_code == 200
    assert "receipt R" in response.content.decode()
    assert fee_balance(fee) == Decimal("6.00")


@pytest.mark.parametrize("amount", ["-1", "abc", "11"])
def test_a_bad_payment_is_refused_with_the_message_and_no_change(operator, patron, amount):
    fee = fee_for(patron)
    response = login(operator).post(
        f"/users/{patron.pk}/fees/{fee.pk}/pay/", {"amount": amount, "method": "CASH"}, **HX
    )
    assert response.status_code == 422
    assert f'id="refusal-fee-{fee.pk}"' in response.content.decode()
    assert fee.entries.count() == 1


def row_hx(fee):
    """An htmx request from a form of the fee's row, which aims at that row."""
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": f"fee-{fee.pk}"}


def test_a_refused_row_action_answers_with_that_row_and_its_message(operator, patron):
    other = fee_for(patron, "3.00")
    fee = fee_for(patron)
    response = login(operator).post(
        f"/users/{patron.pk}/fees/{fee.pk}/pay/", {"amount": "11", "method": "CASH"}, **row_hx(fee)
    )
    html = response.content.decode()
    assert response.status_code == 422
    # The row acted on, alone, with the refusal, the form open and what was typed kept.
    assert html.lstrip().startswith(f'<tr id="fee-{fee.pk}"')
    assert f'id="fee-{other.pk}"' not in html and 'id="user-tabs"' not in html
    assert "11.00 is more than the balance of 10.00 USD." in html
    assert "<details open><summary>Pay</summary>" in html
    assert 'value="11"' in html
    assert fee.entries.count() == 1


def test_a_refused_dispute_shows_on_its_row_in_the_full_tab_without_htmx(operator, patron):
    fee_for(patron, "3.00")
    fee = fee_for(patron)
    response = login(operator).post(f"/users/{patron.pk}/fees/{fee.pk}/dispute/", {"comment": ""})
    html = response.content.decode()
    assert response.status_code == 422
    row = html[html.index(f'<tr id="fee-{fee.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f'id="refusal-fee-{fee.pk}"' in row and 'aria-invalid="true"' in row
    assert 'id="refusal"' not in html  # not above the tab
    assert html.count('aria-invalid="true"') == 1  # no other form shows the message


def test_a_row_action_that_succeeds_replaces_the_whole_tab(operator, patron):
    fee = fee_for(patron)
    response = login(operator).post(
        f"/users/{patron.pk}/fees/{fee.pk}/pay/", {"amount": "4", "method": "CASH"}, **row_hx(fee)
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#user-tabs"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="user-tabs">')
    assert 'id="balance-active">6.00 USD' in html and "receipt R" in html


def test_another_librarys_fee_is_404(patron):
    law = make_library("LAW", "Law Library")
    fee = fee_for(patron, owner=law)
    main_operator = make_staff("FULFILLMENT_OPERATOR_EXTENDED", scope=make_desk(make_library()))
    client = login(main_operator)
    html = client.get(f"/users/{patron.pk}/fees/").content.decode()
    assert f'id="fee-{fee.pk}"' not in html and "Law Library" not in html
    response = client.post(f"/users/{patron.pk}/fees/{fee.pk}/pay/", {"method": "CASH"})
    assert response.status_code == 404
    assert fee.entries.count() == 1


def test_dispute_and_restore_from_the_tab(operator, patron):
    fee = fee_for(patron)
    client = login(operator)
    refused = client.post(f"/users/{patron.pk}/fees/{fee.pk}/dispute/", {"comment": ""}, **HX)
    assert refused.status_code == 422
    client.post(f"/users/{patron.pk}/fees/{fee.pk}/dispute/", {"comment": "Not mine"}, **HX)
    fee.refresh_from_db()
    assert fee.status == "INDISPUTE"
    client.post(f"/users/{patron.pk}/fees/{fee.pk}/restore/", {"comment": ""}, **HX)
    fee.refresh_from_db()
    assert fee.status == "ACTIVE"
    again = client.post(f"/users/{patron.pk}/fees/{fee.pk}/restore/", {}, **HX)
    assert again.status_code == 422


def test_waive_selected_and_waive_all(manager, patron):
    first, second, third = fee_for(patron, "1"), fee_for(patron, "2"), fee_for(patron, "3")
    client = login(manager)
    client.post(
        f"/users/{patron.pk}/fees/waive/",
        {"fee": [first.pk, second.pk], "reason": "HARDSHIP"},
        **HX,
    )
    assert fee_balance(first) == fee_balance(second) == 0 and fee_balance(third) == 3
    client.post(f"/users/{patron.pk}/fees/waive/", {"all": "1", "reason": "HARDSHIP"}, **HX)
    assert fee_balance(third) == 0
    refused = client.post(f"/users/{patron.pk}/fees/waive/", {"all": "1", "reason": ""}, **HX)
    assert refused.status_code == 422


def test_adding_a_fee_and_a_credit(manager, patron):
    client = login(manager)
    response = client.post(
        f"/users/{patron.pk}/fees/add/", {"fee_type": "OTHER", "amount": "-3"}, **HX
    )
    assert response.status_code == 422 and not Fee.objects.exists()
    client.post(f"/users/{patron.pk}/fees/add/", {"fee_type": "OTHER", "amount": "3"}, **HX)
    client.post(f"/users/{patron.pk}/fees/credit/", {"amount": "1", "comment": "Sorry"}, **HX)
    html = client.get(f"/users/{patron.pk}/fees/").content.decode()
    assert 'id="balance-active">2.00 USD' in html and "-1.00" in html


def test_checking_out_to_a_blocked_patron_shows_the_reason(manager, desk, patron):
    add_block(actor=SYSTEM, user=patron, block_type="CONDUCT")
    item = make_item(desk.library)
    response = login(manager).post(
        f"/users/{patron.pk}/loans/checkout/", {"barcode": item.barcode, "desk": desk.pk}, **HX
    )
    assert response.status_code == 422
    assert "Conduct" in response.content.decode()
    assert not Loan.objects.exists()


def test_check_out_renew_and_return_on_the_loans_tab(operator, desk, patron, policy):
    item = make_item(desk.library, title="Middlemarch")
    client = login(operator)
    client.post(
        f"/users/{patron.pk}/loans/checkout/", {"barcode": item.barcode, "desk": desk.pk}, **HX
    )
    loan = Loan.objects.get()
    assert "Middlemarch" in client.get(f"/users/{patron.pk}/loans/").content.decode()
    Loan.objects.filter(pk=loan.pk).update(renewals=0)
    client.post(f"/users/{patron.pk}/loans/{loan.pk}/return/", {"desk": desk.pk}, **HX)
    loan.refresh_from_db()
    assert loan.returned_at is not None


def test_the_returns_page(operator, desk, patron):
    item = make_item(desk.library)
    actions.check_out(actor=SYSTEM, user=patron, barcode=item.barcode, desk=desk)
    client = login(operator)
    response = client.post("/circulation/returns/", {"barcode": item.barcode, "desk": desk.pk})
    assert response.status_code == 200 and 'id="returned"' in response.content.decode()
    again = client.post("/circulation/returns/", {"barcode": item.barcode, "desk": desk.pk})
    assert again.status_code == 422 and "not on loan" in again.content.decode()
    assert login(make_staff()).get("/circulation/returns/").status_code == 403


def test_proxies_tab(user_manager, patron):
    proxy = make_user()
    client = login(user_manager)
    client.post(f"/users/{proxy.pk}/proxies/add/", {"sponsor": patron.primary_id}, **HX)
    relation = ProxyRelation.objects.get()
    assert relation.sponsor == patron
    assert str(proxy) in client.get(f"/users/{patron.pk}/proxies/").content.decode()
    bad = client.post(f"/users/{proxy.pk}/proxies/add/", {"sponsor": "nobody-here"}, **HX)
    assert bad.status_code == 422
    client.post(f"/users/{proxy.pk}/proxies/{relation.pk}/remove/", **HX)
    assert not ProxyRelation.objects.exists()


def test_the_deletion_dialog(user_manager, operator, desk, patron):
    fee_for(patron, "2")
    client = login(user_manager)
    html = client.get(f"/users/{patron.pk}/delete/").content.decode()
    assert 'data-code="balance_due" data-met="no"' in html and "Waive the fees" in html
    unconfirmed = client.post(f"/users/{patron.pk}/delete/", {"waive_fees": "1"}, **HX)
    assert unconfirmed.status_code == 422
    refused = client.post(f"/users/{patron.pk}/delete/", {"confirm": "1"}, **HX)
    assert refused.status_code == 422 and User.objects.filter(pk=patron.pk).exists()
    done = client.post(f"/users/{patron.pk}/delete/", {"confirm": "1", "waive_fees": "1"}, **HX)
    assert done.status_code == 204 and done["HX-Redirect"]
    assert not User.objects.filter(pk=patron.pk).exists()
    assert FeeEntry.objects.count() == 0


def test_only_user_managers_see_the_deletion_dialog(operator, patron):
    assert login(operator).get(f"/users/{patron.pk}/delete/").status_code == 403


def test_a_fine_links_to_the_loan_behind_it(operator, manager, desk, patron, policy):
    import datetime

    from django.utils import timezone

    from tests.factories import actor_for

    item = make_item(desk.library, title="Middlemarch")
    loan = actions.check_out(
        actor=actor_for(operator), user=patron, barcode=item.barcode, desk=desk
    )
    Loan.objects.filter(pk=loan.pk).update(
        loaned_at=timezone.now() - datetime.timedelta(days=20),
        due_at=timezone.now() - datetime.timedelta(days=3),
    )
    actions.return_item(actor=actor_for(operator), barcode=item.barcode, desk=desk)
    link = f'href="/users/{patron.pk}/loans/#loan-{loan.pk}"'
    client = login(manager)
    assert link in client.get(f"/users/{patron.pk}/fees/").content.decode()
    # The link lands on the loan, in the history of the loans tab.
    assert f'<tr id="loan-{loan.pk}">' in client.get(f"/users/{patron.pk}/loans/").content.decode()
    # A desk operator does not see loan history (patron details): no link to a returned loan.
    fees = login(operator).get(f"/users/{patron.pk}/fees/").content.decode()
    assert link not in fees and f"loan {loan.pk}" in fees


def test_linking_a_fee_to_an_item_from_its_row(operator, desk, patron):
    fee = fee_for(patron)
    item = make_item(desk.library, "B77", "Emma")
    client = login(operator)
    unknown = client.post(
        f"/users/{patron.pk}/fees/{fee.pk}/item/", {"barcode": "nope"}, **row_hx(fee)
    )
    assert unknown.status_code == 422
    assert "No item has the barcode 'nope'." in html.unescape(unknown.content.decode())
    assert unknown.content.decode().lstrip().startswith(f'<tr id="fee-{fee.pk}"')
    linked = client.post(f"/users/{patron.pk}/fees/{fee.pk}/item/", {"barcode": "b77"}, **HX)
    assert linked.status_code == 200
    fee.refresh_from_db()
    assert fee.item == item
    assert 'Emma <small class="mono">B77</small>' in linked.content.decode()


def test_linking_an_item_needs_the_permission_and_a_fee_in_reach(patron, desk, no_roles):
    fee = fee_for(patron)
    assert login(no_roles).post(f"/users/{patron.pk}/fees/{fee.pk}/item/", {}).status_code == 403
    law_fee = fee_for(patron, owner=make_library("LAW", "Law Library"))
    desk_operator = make_staff("FULFILLMENT_OPERATOR_EXTENDED", scope=desk)
    response = login(desk_operator).post(
        f"/users/{patron.pk}/fees/{law_fee.pk}/item/", {"barcode": "x"}
    )
    assert response.status_code == 404


def test_a_refused_renewal_is_shown_on_the_loans_row(operator, desk, patron, policy):
    item = make_item(desk.library, title="Middlemarch")
    client = login(operator)
    client.post(
        f"/users/{patron.pk}/loans/checkout/", {"barcode": item.barcode, "desk": desk.pk}, **HX
    )
    loan = Loan.objects.get()
    add_block(actor=SYSTEM, user=patron, block_type="CONDUCT")
    refused = client.post(f"/users/{patron.pk}/loans/{loan.pk}/renew/", **HX)
    page = refused.content.decode()
    assert refused.status_code == 422
    row = page[page.index(f'<tr id="loan-{loan.pk}"') :]
    assert f'id="refusal-loan-{loan.pk}"' in row[: row.index("</tr>")]
    assert 'id="refusal"' not in page
    loan.refresh_from_db()
    assert loan.renewals == 0
