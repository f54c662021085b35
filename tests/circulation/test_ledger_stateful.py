"""A stateful test of the fines and fees ledger: any sequence of operations keeps every
fee's balance = original - paid - waived >= 0, credits count as negative, disputed fees never
count toward the debt limit, only disputed fees are restored, and a waive above the
operator's limit is refused (with no change)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from patronage.access.models import Role
from patronage.circulation import actions
from patronage.circulation.choices import FeeStatus
from patronage.circulation.models import Fee, UserGroupPolicy, WaiveLimit
from patronage.circulation.selectors import balances, effective_blocks, fee_balance
from patronage.errors import DomainError
from tests.factories import actor_for, make_library, make_staff, make_user

pytestmark = pytest.mark.django_db

WAIVE_LIMIT = Decimal("15.00")
DEBT_LIMIT = Decimal("25.00")
cents = st.integers(min_value=-500, max_value=4000).map(lambda n: Decimal(n) / 100)


@dataclass
class Expected:
    original: Decimal
    credit: bool = False
    paid: Decimal = Decimal(0)
    waived: Decimal = Decimal(0)
    status: str = FeeStatus.ACTIVE

    @property
    def balance(self) -> Decimal:
        return self.original - self.paid - self.waived


class Ledger(RuleBasedStateMachine):
    staff = None  # set by the test

    @initialize()
    def a_new_patron(self) -> None:
        self.patron = make_user()
        self.actor = actor_for(self.staff)
        self.fees: list[tuple[Fee, Expected]] = []

    def _attempt(self, allowed: bool, operation) -> bool:
        """Run ``operation``; it must succeed exactly when the model says it is allowed."""
        try:
            operation()
        except DomainError:
            assert not allowed, "a permitted operation was refused"
            return False
        assert allowed, "a forbidden operation was carried out"
        return True

    @rule(amount=cents, credit=st.booleans())
    def add_fee(self, amount: Decimal, credit: bool) -> None:
        created: list[Fee] = []

        def create() -> None:
            created.append(
                actions.create_fee(
                    actor=self.actor,
                    user=self.patron,
                    fee_type="CREDIT" if credit else "OTHER",
                    amount=amount,
                    comment="stateful",
                )
            )

        if self._attempt(amount > 0, create):
            self.fees.append((created[0], Expected(amount, credit=credit)))

    @rule(data=st.data(), amount=cents)
    def pay(self, data: st.DataObject, amount: Decimal) -> None:
        if not self.fees:
            return
        fee, expected = data.draw(st.sampled_from(self.fees))
        allowed = (
            expected.status == FeeStatus.ACTIVE
            and not expected.credit
            and 0 < amount <= expected.balance
        )
        if self._attempt(
            allowed,
            lambda: actions.pay_fee(actor=self.actor, fee=fee, method="CASH", amount=amount),
        ):
            expected.paid += amount
            if expected.balance == 0:
                expected.status = FeeStatus.CLOSED

    @rule(data=st.data(), amount=cents)
    def waive(self, data: st.DataObject, amount: Decimal) -> None:
        if not self.fees:
            return
        fee, expected = data.draw(st.sampled_from(self.fees))
        allowed = (
            expected.status in (FeeStatus.ACTIVE, FeeStatus.IN_DISPUTE)
            and 0 < amount <= expected.balance
            and amount <= WAIVE_LIMIT
        )
        if self._attempt(
            allowed,
            lambda: actions.waive_fees(
                actor=self.actor, fees=[fee], reason="HARDSHIP", amount=amount
            ),
        ):
            expected.waived += amount
            if expected.balance == 0:
                expected.status = FeeStatus.CLOSED

    @rule(data=st.data())
    def dispute(self, data: st.DataObject) -> None:
        if not self.fees:
            return
        fee, expected = data.draw(st.sampled_from(self.fees))
        if self._attempt(
            expected.status == FeeStatus.ACTIVE,
            lambda: actions.dispute_fee(actor=self.actor, fee=fee, comment="Not mine"),
        ):
            expected.status = FeeStatus.IN_DISPUTE

    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        if not self.fees:
            return
        fee, expected = data.draw(st.sampled_from(self.fees))
        if self._attempt(
            expected.status == FeeStatus.IN_DISPUTE,
            lambda: actions.restore_fee(actor=self.actor, fee=fee),
        ):
            expected.status = FeeStatus.ACTIVE

    @invariant()
    def every_balance_is_original_minus_paid_minus_waived(self) -> None:
        for fee, expected in getattr(self, "fees", []):
            stored = Fee.objects.get(pk=fee.pk)
            assert fee_balance(stored) == expected.balance >= 0
            assert stored.status == expected.status

    @invariant()
    def disputed_fees_never_count_toward_the_debt_limit(self) -> None:
        if not hasattr(self, "patron"):
            return

        def total(status: str) -> Decimal:
            return sum(
                (-e.balance if e.credit else e.balance for _, e in self.fees if e.status == status),
                Decimal(0),
            )

        summary = balances(self.patron)
        assert summary.active == total(FeeStatus.ACTIVE)
        assert summary.disputed == total(FeeStatus.IN_DISPUTE)
        debt_blocked = any(b.code == "DEBT_LIMIT" for b in effective_blocks(self.patron))
        assert debt_blocked == (total(FeeStatus.ACTIVE) >= DEBT_LIMIT)


def test_the_ledger_keeps_its_invariants_under_any_sequence_of_operations():
    library = make_library()
    UserGroupPolicy.objects.create(user_group="UNDERGRAD", debt_limit=DEBT_LIMIT)
    WaiveLimit.objects.create(
        role=Role.objects.get(code="FULFILLMENT_ADMINISTRATOR"), max_amount=WAIVE_LIMIT
    )
    Ledger.staff = make_staff("FULFILLMENT_ADMINISTRATOR", scope=library)
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
