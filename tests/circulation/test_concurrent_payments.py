"""Concurrent payments of one fee from several desks never pay more than its balance: the
fee row is locked (``select_for_update``) while its balance is read and the payment written.
PostgreSQL only (SQLite serialises writers, so there is no race to test)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from patronage.circulation import actions
from patronage.circulation.models import Fee, FeeEntry
from patronage.circulation.selectors import fee_balance
from patronage.errors import DomainError
from tests.factories import SYSTEM, actor_for, make_library, make_staff, make_user

pytestmark = [
    pytest.mark.usefixtures("reference_data"),  # a transactional test may follow another's flush
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL row-lock race"),
]

THREADS = 8


def test_concurrent_payments_never_pay_more_than_the_balance():
    staff = make_staff("FULFILLMENT_ADMINISTRATOR", scope=make_library())
    fee = actions.create_fee(actor=SYSTEM, user=make_user(), fee_type="OTHER", amount="10.00")
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []

    def pay() -> None:
        try:
            start.wait()
            actions.pay_fee(actor=actor_for(staff), fee=fee, method="CASH", amount="3.00")
            outcomes.append("paid")
        except DomainError as refusal:
            outcomes.append(refusal.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("paid") == 3  # 3 x 3.00 fit in 10.00; the fourth would overpay
    assert set(outcomes) == {"paid", "overpayment"}
    stored = Fee.objects.get(pk=fee.pk)
    assert fee_balance(stored) == Decimal("1.00")
    assert FeeEntry.objects.filter(fee=fee, kind="PAYMENT").count() == 3
