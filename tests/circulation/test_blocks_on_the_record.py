"""The user record shows the blocks circulation enforces: one function decides what is in
force, and the record's Blocks tab, its API answer and the card all follow it."""

from __future__ import annotations

import pytest
from django.test import Client

from patronage.accounts import selectors as record
from patronage.circulation import actions
from tests.api.client import ApiClient
from tests.factories import SYSTEM, make_library, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    return make_staff("USER_MANAGER", scope=make_library())


def in_debt(patron):
    actions.create_fee(actor=SYSTEM, user=patron, fee_type="DAMAGEDITEMFINE", amount="12.00")


def test_a_debt_block_shows_on_the_blocks_tab_in_the_api_and_on_the_card(
    patron, policy, manager, settings
):
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert not record.user_card(manager, patron).blocked
    in_debt(patron)
    assert record.user_card(manager, patron).blocked
    answer = ApiClient(manager).get(f"/users/{patron.pk}")
    assert [b["type"] for b in answer.json_body["blocks_in_force"]] == ["DEBT_LIMIT"]
    browser = Client()
    browser.force_login(manager)
    html = browser.get(f"/users/{patron.pk}/", {"tab": "blocks"}).content.decode()
    assert "The debt limit is reached" in html
