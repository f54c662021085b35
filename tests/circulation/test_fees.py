"""The fines and fees ledger (seed 002 "Managing User Fines and Fees"): every operation a
ledger row, balances derived, bad input refused with no change, library independence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from patronage.access.models import Role
from patronage.accounts.actions import add_block
from patronage.circulation import actions
from patronage.circulation.choices import EntryKind, FeeStatus
from patronage.circulation.models import CirculationSettings, Fee, FeeEntry, Receipt, WaiveLimit
from patronage.circulation.selectors import balances, effective_blocks, fee_balance, visible_fees
from patronage.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.factories import SYSTEM, actor_for, make_desk, make_library, make_staff

pytestmark = pytest.mark.django_db
D = Decimal


def fee_of(patron, amount="10.00", fee_type="DAMAGEDITEMFINE", **kwargs):
    return actions.create_fee(actor=SYSTEM, user=patron, fee_type=fee_type, amount=amount, **kwargs)


def test_a_fee_adds_to_the_active_balance_and_vat_is_included(patron):
    fee_of(patron, "12.00", fee_type="DOCUMENTDELIVERYSERVICE")
    fee = Fee.objects.get()
    assert fee.original_vat == D("2.00")  # 20 % included in 12.00
    assert balances(patron).active == D("12.00")
    assert [e.kind for e in fee.entries.all()] == [EntryKind.CREATED]


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        ("-5", None, "amount"),
        ("abc", None, "amount"),
        ("0", None, "amount"),
        ("1.001", None, "amount"),
        ("NaN", None, "amount"),
        ("5", "EUR", "currency"),
    ],
)
def test_bad_amounts_are_refused_with_no_fee_created(patron, amount, currency, field):
    with pytest.raises(ValidationFailed) as refused:
        fee_of(patron, amount, currency=currency)
    assert field in refused.value.errors
    assert not Fee.objects.exists()


def test_the_institution_currency_is_configurable(patron):
    CirculationSettings.objects.update_or_create(pk=1, defaults={"currency": "EUR"})
    fee = fee_of(patron, "3", currency="eur")
    assert fee.currency == "EUR"
    with pytest.raises(ValidationFailed):
        actions.pay_fee(actor=SYSTEM, fee=fee, method="CASH", amount="1", currency="USD")


def test_only_types_configured_for_manual_creation_are_added_by_hand(patron):
    with pytest.raises(ValidationFailed) as refused:
        fee_of(patron, fee_type="OVERDUEFINE")
    assert "fee_type" in refused.value.errors
    with pytest.raises(ValidationFailed):
        fee_of(patron, fee_type="NOSUCHTYPE")


def test_a_library_owns_a_fee_only_if_its_type_allows_library_scope(patron, library):
    with pytest.raises(ValidationFailed) as refused:
        fee_of(patron, fee_type="CARDRENEWAL", owner=library)
    assert "owner" in refused.value.errors
    assert fee_of(patron, owner=library).owner == library


def test_partial_and_full_payment_with_a_receipt(operator, patron):
    fee = fee_of(patron, "10.00")
    receipt = actions.pay_fee(actor=actor_for(operator), fee=fee, method="CASH", amount="4.00")
    assert receipt.total == D("4.00") and receipt.entries.get().fee == fee
    assert fee_balance(fee) == D("6.00")
    actions.pay_fee(actor=actor_for(operator), fee=fee, method="CREDIT_CARD")
    fee.refresh_from_db()
    assert fee.status == FeeStatus.CLOSED and fee_balance(fee) == 0
    assert balances(patron).active == 0
    assert Receipt.objects.count() == 2


def test_overpaying_or_paying_a_closed_fee_is_refused_with_no_change(operator, patron):
    fee = fee_of(patron, "10.00")
    with pytest.raises(ValidationFailed) as refused:
        actions.pay_fee(actor=actor_for(operator), fee=fee, method="CASH", amount="10.01")
    assert refused.value.code == "overpayment"
    with pytest.raises(ValidationFailed) as refused:
        actions.pay_fee(actor=actor_for(operator), fee=fee, method="GOLD", amount="1")
    assert refused.value.code == "invalid_method"
    assert not Receipt.objects.exists() and fee_balance(fee) == D("10.00")
    actions.pay_fee(actor=actor_for(operator), fee=fee, method="CASH")
    with pytest.raises(Conflict) as refused:
        actions.pay_fee(actor=actor_for(operator), fee=fee, method="CASH", amount="1")
    assert refused.value.code == "fee_closed"


def test_pay_all_pays_oldest_first_up_to_the_amount(operator, patron):
    first, second = fee_of(patron, "3.00"), fee_of(patron, "5.00")
    receipt = actions.pay_all(actor=actor_for(operator), user=patron, method="CASH", amount="4.00")
    assert receipt.total == D("4.00")
    assert fee_balance(first) == 0 and fee_balance(second) == D("4.00")
    actions.pay_all(actor=actor_for(operator), user=patron, method="ONLINE")
    assert balances(patron).active == 0
    with pytest.raises(Conflict):
        actions.pay_all(actor=actor_for(operator), user=patron, method="CASH")


def test_a_credit_counts_as_negative_and_needs_a_comment(manager, patron):
    fee_of(patron, "10.00")
    with pytest.raises(ValidationFailed) as refused:
        actions.create_fee(actor=actor_for(manager), user=patron, fee_type="CREDIT", amount="4")
    assert "comment" in refused.value.errors
    actions.create_fee(
        actor=actor_for(manager), user=patron, fee_type="CREDIT", amount="4", comment="Goodwill"
    )
    assert balances(patron).active == D("6.00")


def test_an_operator_cannot_register_a_credit(operator, patron):
    with pytest.raises(Forbidden):
        actions.create_fee(
            actor=actor_for(operator), user=patron, fee_type="CREDIT", amount="4", comment="x"
        )


def test_waive_with_a_reason_from_the_list_and_a_comment(manager, patron):
    fee = fee_of(patron, "10.00")
    with pytest.raises(ValidationFailed) as refused:
        actions.waive_fees(actor=actor_for(manager), fees=[fee], reason="BECAUSE")
    assert refused.value.code == "invalid_waive_reason"
    actions.waive_fees(
        actor=actor_for(manager), fees=[fee], reason="LIBRARY_ERROR", amount="2.50", comment="Sorry"
    )
    entry = fee.entries.get(kind=EntryKind.WAIVE)
    assert (entry.amount, entry.reason, entry.comment) == (D("-2.50"), "LIBRARY_ERROR", "Sorry")
    assert fee_balance(fee) == D("7.50")


def test_waive_all_and_the_configurable_limit_of_fees_per_action(manager, patron):
    CirculationSettings.objects.update_or_create(pk=1, defaults={"waiving_fines_fees_limit": 3})
    for _ in range(4):
        fee_of(patron, "1.00")
    with pytest.raises(ValidationFailed) as refused:
        actions.waive_all(actor=actor_for(manager), user=patron, reason="HARDSHIP")
    assert refused.value.code == "too_many_fees"
    assert balances(patron).active == D("4.00")
    fees = list(Fee.objects.values_list("pk", flat=True)[:3])
    assert len(actions.waive_fees(actor=actor_for(manager), fees=fees, reason="HARDSHIP")) == 3
    actions.waive_all(actor=actor_for(manager), user=patron, reason="HARDSHIP")
    assert balances(patron).active == 0
    assert set(Fee.objects.values_list("status", flat=True)) == {FeeStatus.CLOSED}


def test_a_waive_above_the_operators_role_limit_is_refused(manager, patron):
    WaiveLimit.objects.create(
        role=Role.objects.get(code="FULFILLMENT_ADMINISTRATOR"), max_amount="5"
    )
    fee = fee_of(patron, "10.00")
    with pytest.raises(ValidationFailed) as refused:
        actions.waive_fees(actor=actor_for(manager), fees=[fee], reason="HARDSHIP")
    assert refused.value.code == "waive_limit_exceeded"
    assert fee_balance(fee) == D("10.00")
    actions.waive_fees(actor=actor_for(manager), fees=[fee], reason="HARDSHIP", amount="5")
    assert fee_balance(fee) == D("5.00")


def test_dispute_moves_the_fee_out_of_the_debt_limit_and_restore_brings_it_back(
    operator, patron, policy
):
    fee = fee_of(patron, "12.00")
    assert [b.code for b in effective_blocks(patron)] == ["DEBT_LIMIT"]
    with pytest.raises(ValidationFailed):
        actions.dispute_fee(actor=actor_for(operator), fee=fee, comment="  ")
    actions.dispute_fee(actor=actor_for(operator), fee=fee, comment="Returned it on time")
    summary = balances(patron)
    assert (summary.active, summary.disputed) == (0, D("12.00"))
    assert effective_blocks(patron) == []
    with pytest.raises(Conflict):
        actions.pay_fee(actor=actor_for(operator), fee=fee, method="CASH")
    actions.restore_fee(actor=actor_for(operator), fee=fee, comment="Checked: it was late")
    assert balances(patron).active == D("12.00")
    assert [b.code for b in effective_blocks(patron)] == ["DEBT_LIMIT"]


def test_only_a_fee_in_dispute_can_be_restored(operator, patron):
    fee = fee_of(patron)
    with pytest.raises(Conflict) as refused:
        actions.restore_fee(actor=actor_for(operator), fee=fee)
    assert refused.value.code == "fee_not_in_dispute"
    assert fee.entries.count() == 1


def test_the_debt_limit_counts_active_fees_only(policy, patron):
    fee_of(patron, "9.99")
    assert effective_blocks(patron) == []
    fee_of(patron, "0.01")
    assert [b.code for b in effective_blocks(patron)] == ["DEBT_LIMIT"]


def test_export_to_the_bursar_moves_fees_to_the_transferred_balance(manager, patron):
    fee_of(patron, "7.00")
    exported = actions.export_fees(actor=actor_for(manager), user=patron)
    assert exported[0].bursar_transaction_id
    summary = balances(patron)
    assert (summary.active, summary.transferred) == (0, D("7.00"))
    with pytest.raises(Conflict):
        actions.export_fees(actor=actor_for(manager), user=patron)


def test_a_fee_is_linked_to_an_item(operator, patron, desk):
    from tests.circulation.conftest import make_item

    item = make_item(desk.library)
    fee = actions.link_item(actor=actor_for(operator), fee=fee_of(patron), barcode=item.barcode)
    assert fee.item == item


def test_a_fee_owned_by_another_library_is_invisible_and_out_of_reach(patron):
    law, med = make_library("LAW", "Law Library"), make_library("MED", "Medical Library")
    law_operator = make_staff("FULFILLMENT_OPERATOR_EXTENDED", scope=make_desk(law, "LAWDESK"))
    med_fee = fee_of(patron, "4.00", owner=med)
    fee_of(patron, "2.00", owner=law)
    fee_of(patron, "1.00")  # the institution's: everyone sees it
    assert sorted(f.original_amount for f in visible_fees(law_operator, patron)) == [
        D("1.00"),
        D("2.00"),
    ]
    with pytest.raises(NotFound):
        actions.pay_fee(actor=actor_for(law_operator), fee=med_fee, method="CASH")
    with pytest.raises(ValidationFailed) as refused:
        actions.create_fee(
            actor=actor_for(law_operator), user=patron, fee_type="OTHER", amount="1", owner=med
        )
    assert refused.value.code == "owner_out_of_scope"


def test_every_fee_operation_is_audited_on_the_patron(operator, patron):
    from patronage.audit.models import AuditEvent

    fee = fee_of(patron)
    actions.pay_fee(actor=actor_for(operator), fee=fee, method="CASH", amount="1")
    verbs = list(AuditEvent.objects.filter(subject=patron).values_list("verb", flat=True))
    assert "fee.created" in verbs and "fee.paid" in verbs


def test_manual_blocks_and_the_derived_ones_together(policy, patron):
    add_block(actor=SYSTEM, user=patron, block_type="LOST_ITEMS")
    fee_of(patron, "50")
    codes = [b.code for b in effective_blocks(patron)]
    assert codes == ["DEBT_LIMIT", "LOST_ITEMS"]
    assert FeeEntry.objects.count() == 1
