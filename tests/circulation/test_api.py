"""/api/v1 for patron services: the allowed role succeeds, bad input is refused clearly with
nothing written, another library's fee is 404 (403 without the permission is covered for
every operation by tests/api/test_api_contract.py)."""

from __future__ import annotations

import pytest

from patronage.accounts.actions import add_block
from patronage.accounts.models import User
from patronage.circulation import actions
from patronage.circulation.models import Fee, FeeEntry, Loan
from tests.api.client import ApiClient
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, make_desk, make_library, make_staff, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def test_the_fee_lifecycle_through_the_api(manager, patron, policy):
    api = ApiClient(manager)
    created = api.post(f"/users/{patron.pk}/fees", {"fee_type": "OTHER", "amount": "12.00"})
    assert created.status_code == 201, created.json_body
    fee_id = created.json_body["id"]
    blocks = api.get(f"/users/{patron.pk}/blocks-in-force").json_body
    assert [b["code"] for b in blocks] == ["DEBT_LIMIT"]
    disputed = api.post(f"/users/{patron.pk}/fees/{fee_id}/dispute", {"comment": "Not mine"})
    assert disputed.json_body["status"] == "INDISPUTE"
    assert api.get(f"/users/{patron.pk}/blocks-in-force").json_body == []
    listing = api.get(f"/users/{patron.pk}/fees").json_body
    assert listing["balances"]["disputed"] == "12.00" and listing["balances"]["active"] == "0.00"
    restored = api.post(f"/users/{patron.pk}/fees/{fee_id}/restore", {})
    assert restored.json_body["status"] == "ACTIVE"
    paid = api.post(f"/users/{patron.pk}/fees/{fee_id}/pay", {"method": "CASH", "amount": "2.00"})
    assert paid.status_code == 201 and paid.json_body["fee_ids"] == [fee_id]
    waived = api.post(f"/users/{patron.pk}/fees/waive", {"fee_ids": [fee_id], "reason": "HARDSHIP"})
    assert waived.json_body[0]["balance"] == "0.00"
    detail = api.get(f"/users/{patron.pk}/fees/{fee_id}").json_body
    assert [e["kind"] for e in detail["entries"]] == [
        "CREATED",
        "DISPUTE",
        "RESTORE",
        "PAYMENT",
        "WAIVE",
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"method": "CASH", "amount": "-1"}, "invalid_amount"),
        ({"method": "CASH", "amount": "99"}, "overpayment"),
        ({"method": "CASH", "amount": "1", "currency": "EUR"}, "wrong_currency"),
        ({"method": "CASH", "amount": "abc"}, "invalid_request"),
        ({"method": "GOLD"}, "invalid_request"),
    ],
)
def test_bad_payments_are_refused_with_nothing_written(operator, patron, body, code):
    fee = actions.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount="5")
    before = FeeEntry.objects.count()
    response = ApiClient(operator).post(f"/users/{patron.pk}/fees/{fee.pk}/pay", body)
    assert response.status_code == 422, response.json_body
    assert response.json_body["code"] == code
    assert FeeEntry.objects.count() == before


def test_restoring_a_fee_not_in_dispute_is_409(operator, patron):
    fee = actions.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount="5")
    response = ApiClient(operator).post(f"/users/{patron.pk}/fees/{fee.pk}/restore", {})
    assert response.status_code == 409
    assert response.json_body["code"] == "fee_not_in_dispute"


def test_a_fee_of_another_library_is_404_and_left_out_of_the_list(patron):
    law = make_library("LAW", "Law Library")
    fee = actions.create_fee(actor=SYSTEM, user=patron, fee_type="OTHER", amount="5", owner=law)
    main_operator = make_staff("FULFILLMENT_OPERATOR_EXTENDED", scope=make_desk(make_library()))
    api = ApiClient(main_operator)
    assert api.get(f"/users/{patron.pk}/fees").json_body["fees"] == []
    assert api.get(f"/users/{patron.pk}/fees/{fee.pk}").status_code == 404
    response = api.post(f"/users/{patron.pk}/fees/{fee.pk}/pay", {"method": "CASH"})
    assert response.status_code == 404
    assert not fee.entries.filter(kind="PAYMENT").exists()


def test_a_credit_is_shown_negative(manager, patron):
    response = ApiClient(manager).post(
        f"/users/{patron.pk}/credits", {"amount": "4.00", "comment": "Goodwill"}
    )
    assert response.status_code == 201
    assert response.json_body["original_amount"] == "-4.00"
    assert response.json_body["credit"] is True


def test_check_out_renew_and_return_through_the_api(operator, desk, patron, policy):
    api = ApiClient(operator)
    item = make_item(desk.library)
    lent = api.post(f"/users/{patron.pk}/loans", {"barcode": item.barcode, "desk": desk.pk})
    assert lent.status_code == 201, lent.json_body
    assert [loan["item_barcode"] for loan in api.get(f"/users/{patron.pk}/loans").json_body] == [
        item.barcode
    ]
    returned = api.post("/returns", {"barcode": item.barcode, "desk": desk.pk})
    assert returned.status_code == 200 and returned.json_body["returned_at"]
    assert api.get(f"/users/{patron.pk}/loans").json_body == []
    assert len(api.get(f"/users/{patron.pk}/loans", history=True).json_body) == 1


def test_checking_out_to_a_blocked_user_is_409_with_the_reason(manager, operator, desk, patron):
    add_block(actor=SYSTEM, user=patron, block_type="CONDUCT")
    item = make_item(desk.library)
    body = {"barcode": item.barcode, "desk": desk.pk}
    response = ApiClient(manager).post(f"/users/{patron.pk}/loans", body)
    assert response.status_code == 409
    assert response.json_body["code"] == "user_blocked"
    assert "Conduct" in response.json_body["message"]
    # Staff who see only the card learn that a block is in force, not why (seed 000).
    response = ApiClient(operator).post(f"/users/{patron.pk}/loans", body)
    assert response.status_code == 409
    assert "Conduct" not in response.json_body["message"]
    assert "See a supervisor" in response.json_body["message"]
    assert not Loan.objects.exists()


def test_an_unknown_desk_is_422(operator, patron, desk):
    response = ApiClient(operator).post(
        f"/users/{patron.pk}/loans", {"barcode": make_item(desk.library).barcode, "desk": 999}
    )
    assert response.status_code == 422 and response.json_body["code"] == "unknown_desk"


def test_proxies_through_the_api(user_manager, patron):
    proxy = make_user()
    api = ApiClient(user_manager)
    added = api.post(f"/users/{proxy.pk}/proxies", {"sponsor": patron.pk})
    assert added.status_code == 201
    assert api.get(f"/users/{patron.pk}/proxies").json_body["proxies"][0]["proxy"] == proxy.pk
    bad = api.post(f"/users/{proxy.pk}/proxies", {"sponsor": proxy.pk})
    assert bad.status_code == 422
    removed = api.delete(f"/users/{patron.pk}/proxies/{added.json_body['id']}")
    assert removed.status_code == 204


def test_deletion_through_the_api(user_manager, operator, desk, patron):
    api = ApiClient(user_manager)
    actions.check_out(actor=SYSTEM, user=patron, barcode=make_item(desk.library).barcode, desk=desk)
    check = api.get(f"/users/{patron.pk}/deletion").json_body
    assert check["can_delete"] is False
    assert [p["code"] for p in check["preconditions"] if not p["met"]] == ["outstanding_loans"]
    refused = api.post(f"/users/{patron.pk}/deletion", {"confirm": True})
    assert refused.status_code == 409 and refused.json_body["code"] == "deletion_refused"
    assert api.post(f"/users/{patron.pk}/deletion", {}).status_code == 422
    other = make_user()
    actions.create_fee(actor=SYSTEM, user=other, fee_type="OTHER", amount="2")
    deleted = api.post(f"/users/{other.pk}/deletion", {"confirm": True, "waive_fees": True})
    assert deleted.status_code == 204
    assert not User.objects.filter(pk=other.pk).exists()
    assert not Fee.objects.filter(user_id=other.pk).exists()
