from __future__ import annotations

import pytest

from patronage.accounts import actions
from patronage.accounts.models import User
from patronage.circulation import actions as circulation
from tests.factories import SYSTEM, make_library, make_user


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The product redirects HTTP to HTTPS; the in-process clients speak plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def main_library(db):
    return make_library("MAIN", "Main Library")


@pytest.fixture
def law_library(db):
    return make_library("LAW", "Law Library")


@pytest.fixture
def patron(db, main_library, law_library):
    """A patron with one of everything, some of it owned by the law library."""
    user = make_user(
        primary_id="patron1",
        first_name="Pat",
        last_name="Ron",
        birth_date="1990-04-01",
        identifiers=[{"id_type": "BARCODE", "value": "B0001"}],
        emails=[{"address": "pat@example.org", "types": ["personal"]}],
        phones=[{"number": "+1 555 0100", "types": ["home"]}],
        addresses=[{"line1": "1 Main St", "city": "Springfield", "types": ["home"]}],
    )
    for owner, suffix in ((main_library, "main"), (law_library, "law")):
        actions.add_note(
            actor=SYSTEM, user=user, note_type="OTHER", text=f"note {suffix}", owner=owner
        )
        actions.add_statistic(actor=SYSTEM, user=user, category="HIST", owner=owner)
        actions.add_block(actor=SYSTEM, user=user, block_type="GENERAL", owner=owner)
        circulation.create_fee(
            actor=SYSTEM, user=user, fee_type="OTHER", amount="5.00", owner=owner
        )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def other_patron(db, main_library):
    user = make_user(
        primary_id="patron2",
        emails=[{"address": "other@example.org", "types": ["personal"]}],
        phones=[{"number": "+1 555 0199", "types": ["home"]}],
        addresses=[{"line1": "2 Side St", "types": ["home"]}],
        identifiers=[{"id_type": "BARCODE", "value": "B0002"}],
    )
    actions.add_note(actor=SYSTEM, user=user, note_type="OTHER", text="x", owner=main_library)
    actions.add_statistic(actor=SYSTEM, user=user, category="LAW", owner=main_library)
    actions.add_block(actor=SYSTEM, user=user, block_type="GENERAL", owner=main_library)
    circulation.create_fee(
        actor=SYSTEM, user=user, fee_type="OTHER", amount="3.00", owner=main_library
    )
    circulation.add_proxy(actor=SYSTEM, proxy=user, sponsor=make_user(primary_id="sponsor2"))
    return user
