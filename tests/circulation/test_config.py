"""Circulation configuration (fulfillment:config:manage): settings, user-group policies, fee
types, waiving reasons and waive limits, through the API (and so the actions)."""

from __future__ import annotations

import pytest

from patronage.circulation.models import (
    CirculationSettings,
    FeeType,
    UserGroupPolicy,
    WaiveLimit,
    WaiveReason,
)
from tests.api.client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def test_a_fulfillment_administrator_configures_circulation(manager):
    api = ApiClient(manager)
    assert api.patch("/circulation/settings", {"currency": "eur"}).json_body["currency"] == "EUR"
    policy = api.call(
        "PUT",
        "/circulation/policies",
        {"user_group": "GRAD", "loan_period_days": 60, "debt_limit": "25.00"},
    )
    assert policy.status_code == 200, policy.json_body
    assert UserGroupPolicy.objects.get(user_group="GRAD").loan_period_days == 60
    api.call(
        "PUT",
        "/circulation/fee-types",
        {"code": "printing", "description": "Printing", "vat_rate": "7.5"},
    )
    assert FeeType.objects.get(code="PRINTING").vat_rate == 7.5
    api.call("PUT", "/circulation/waive-reasons", {"code": "GOODWILL", "description": "Goodwill"})
    assert WaiveReason.objects.filter(code="GOODWILL").exists()
    api.call("PUT", "/circulation/waive-limits", {"role": "USER_MANAGER", "max_amount": "20"})
    assert WaiveLimit.objects.get(role__code="USER_MANAGER").max_amount == 20
    removed = api.call("PUT", "/circulation/waive-limits", {"role": "USER_MANAGER"})
    assert removed.status_code == 204 and not WaiveLimit.objects.exists()
    config = api.get("/circulation/config").json_body
    assert config["settings"]["currency"] == "EUR"
    assert [p["user_group"] for p in config["policies"]] == ["GRAD"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "/circulation/settings", {"currency": "E1"}, "currency"),
        ("PUT", "/circulation/policies", {"user_group": "NOPE"}, "user_group"),
        ("PUT", "/circulation/policies", {"user_group": "GRAD", "debt_limit": "-1"}, "debt_limit"),
        (
            "PUT",
            "/circulation/fee-types",
            {"code": "X", "description": "X", "vat_rate": "120"},
            "vat_rate",
        ),
        ("PUT", "/circulation/waive-limits", {"role": "NOPE", "max_amount": "1"}, "role"),
        (
            "PUT",
            "/circulation/waive-limits",
            {"role": "USER_MANAGER", "max_amount": "-5"},
            "max_amount",
        ),
    ],
)
def test_bad_configuration_is_refused_with_no_change(manager, method, path, body, field):
    before = (
        CirculationSettings.current().currency,
        UserGroupPolicy.objects.count(),
        FeeType.objects.count(),
        WaiveLimit.objects.count(),
    )
    response = ApiClient(manager).call(method, path, body)
    assert response.status_code == 422
    assert field in response.json_body["errors"]
    assert before == (
        CirculationSettings.current().currency,
        UserGroupPolicy.objects.count(),
        FeeType.objects.count(),
        WaiveLimit.objects.count(),
    )


def test_the_currency_cannot_change_under_open_fees(manager, patron):
    from patronage.circulation import actions
    from tests.factories import SYSTEM

    actions.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount="1")
    response = ApiClient(manager).patch("/circulation/settings", {"currency": "EUR"})
    assert response.status_code == 422
    assert CirculationSettings.current().currency == "USD"


def test_configuration_needs_the_permission(operator):
    assert ApiClient(operator).get("/circulation/config").status_code == 403
