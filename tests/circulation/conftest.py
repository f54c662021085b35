from __future__ import annotations

import pytest

from patronage.circulation import actions
from patronage.circulation.models import Item, UserGroupPolicy
from tests.factories import SYSTEM, make_desk, make_library, make_staff, make_user


@pytest.fixture
def library(db):
    return make_library()


@pytest.fixture
def desk(library):
    return make_desk(library)


@pytest.fixture
def patron(db):
    return make_user(first_name="Pat", last_name="Patron")


@pytest.fixture
def policy(db):
    return UserGroupPolicy.objects.create(
        user_group="UNDERGRAD", loan_period_days=14, debt_limit="10.00", overdue_items_limit=2
    )


@pytest.fixture
def operator(desk):
    """A circulation desk operator extended (pays, disputes) at the front desk."""
    return make_staff("FULFILLMENT_OPERATOR_EXTENDED", scope=desk)


@pytest.fixture
def manager(library):
    """Fulfillment administration for the main library: waives, credits, exports."""
    return make_staff("FULFILLMENT_ADMINISTRATOR", scope=library)


_items = iter(range(1, 1_000_000))


def make_item(library, barcode: str | None = None, title: str = "A Book") -> Item:
    return actions.create_item(
        actor=SYSTEM, barcode=barcode or f"B{next(_items):06d}", title=title, library=library
    )
