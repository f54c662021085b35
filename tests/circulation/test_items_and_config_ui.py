"""The staff UI and API of items (fulfillment:item:manage) and the circulation configuration
page (fulfillment:config:manage): the allowed role succeeds, a role without the permission
gets 403, another library's item 404, bad input 422 with the message on the form that was
sent (and nowhere else), and nothing is changed."""

from __future__ import annotations

import html

import pytest

from patronage.audit.models import AuditEvent
from patronage.circulation.models import (
    CirculationSettings,
    FeeType,
    Item,
    UserGroupPolicy,
    WaiveLimit,
    WaiveReason,
)
from tests.api.client import ApiClient
from tests.circulation.conftest import make_item
from tests.factories import make_library
from tests.web.conftest import _no_static_dir_warning, _plain_http, login  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def law():
    return make_library("LAW", "Law Library")


def row_of(page: str, row_id: str) -> str:
    row = page[page.index(f'<tr id="{row_id}"') :]
    return html.unescape(row[: row.index("</tr>")])


# --- items ----------------------------------------------------------------------------------------


def test_the_items_page_lists_finds_and_adds_the_items_of_ones_libraries(manager, library, law):
    make_item(library, "B1", "Moby Dick")
    make_item(law, "L1", "Law of Torts")
    client = login(manager)
    page = client.get("/circulation/items/").content.decode()
    assert "Moby Dick" in page and "Law of Torts" not in page
    assert "Moby Dick" in client.get("/circulation/items/", {"q": "b1"}).content.decode()
    assert "No item has" in client.get("/circulation/items/", {"q": "torts"}).content.decode()
    added = client.post(
        "/circulation/items/",
        {"barcode": "B2", "title": "Emma", "library": library.pk, "location": "Stacks"},
    )
    assert added.status_code == 302
    assert Item.objects.get(barcode="B2").location == "Stacks"


def test_adding_an_item_refuses_bad_input_on_the_add_form(manager, library, law):
    make_item(library, "B1")
    client = login(manager)
    refused = client.post(
        "/circulation/items/", {"barcode": "b1", "title": "", "library": library.pk}
    )
    page = html.unescape(refused.content.decode())
    assert refused.status_code == 422
    assert "Another item has this barcode." in page and "Enter the title." in page
    assert 'id="item-new-f-barcode"' in page and page.count("Another item has this barcode.") == 1
    other = client.post("/circulation/items/", {"barcode": "X", "title": "X", "library": law.pk})
    assert other.status_code == 422
    assert "You do not keep the items of Law Library" in html.unescape(other.content.decode())
    assert Item.objects.count() == 1


def test_correcting_an_item(manager, library, law):
    item = make_item(library, "B1", "Moby Dik")
    theirs = make_item(law, "L1")
    client = login(manager)
    saved = client.post(
        f"/circulation/items/{item.pk}/",
        {"barcode": "B1", "title": "Moby Dick", "library": library.pk, "location": "Stacks"},
    )
    assert saved.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.location) == ("Moby Dick", "Stacks")
    event = AuditEvent.objects.filter(verb="item.updated").get()
    assert event.object_id == str(item.pk)
    moved = client.post(
        f"/circulation/items/{item.pk}/",
        {"barcode": "B1", "title": "Moby Dick", "library": law.pk},
    )
    assert moved.status_code == 422
    row = row_of(moved.content.decode(), f"item-{item.pk}")
    assert "You do not keep the items of Law Library" in row and "<details open>" in row
    item.refresh_from_db()
    assert item.library == library
    assert (
        client.post(
            f"/circulation/items/{theirs.pk}/", {"barcode": "L1", "title": "X", "library": law.pk}
        ).status_code
        == 404
    )
    assert client.post("/circulation/items/999999/", {}).status_code == 404


def test_items_need_the_permission(operator, no_roles, library):
    item = make_item(library, "B1")
    for caller in (operator, no_roles):
        client = login(caller)
        assert client.get("/circulation/items/").status_code == 403
        refused = client.post(
            f"/circulation/items/{item.pk}/", {"barcode": "Z", "title": "Z", "library": library.pk}
        )
        assert refused.status_code == 403
    assert Item.objects.get().barcode == "B1"


def test_items_through_the_api(manager, operator, library, law):
    mine, theirs = make_item(library, "B1", "Emma"), make_item(law, "L1")
    api = ApiClient(manager)
    assert [i["barcode"] for i in api.get("/items").json_body] == ["B1"]
    assert [i["barcode"] for i in api.get("/items", search="emma").json_body] == ["B1"]
    assert api.get(f"/items/{mine.pk}").json_body["title"] == "Emma"
    assert api.get(f"/items/{theirs.pk}").status_code == 404
    body = {"barcode": "B1", "title": "Emma (2nd ed.)", "library": library.pk, "location": "Ref"}
    changed = api.call("PUT", f"/items/{mine.pk}", body)
    assert changed.status_code == 200 and changed.json_body["location"] == "Ref"
    assert api.call("PUT", f"/items/{theirs.pk}", body).status_code == 404
    taken = api.call("PUT", f"/items/{mine.pk}", {**body, "barcode": "l1"})
    assert taken.status_code == 422
    assert taken.json_body["errors"]["barcode"] == "Another item has this barcode."
    unknown = api.post("/items", {"barcode": "N", "title": "N", "library": 999999})
    assert unknown.status_code == 422 and unknown.json_body["errors"]["library"]
    elsewhere = api.post("/items", {"barcode": "N", "title": "N", "library": law.pk})
    assert elsewhere.status_code == 422 and "library" in elsewhere.json_body["errors"]
    assert ApiClient(operator).get("/items").status_code == 403
    mine.refresh_from_db()
    assert mine.title == "Emma (2nd ed.)"


# --- the configuration page ---------------------------------------------------------------


def test_the_configuration_page_shows_every_part(manager):
    page = login(manager).get("/circulation/config/").content.decode()
    for part in ("circulation-settings", "loan-policies", "fee-types", "waive-reasons"):
        assert f'id="{part}"' in page
    assert 'id="policy-UNDERGRAD"' in page and 'id="fee-type-OTHER"' in page
    assert 'id="limit-FULFILLMENT_ADMINISTRATOR"' in page


def test_the_configuration_needs_the_permission(operator, no_roles):
    for caller in (operator, no_roles):
        client = login(caller)
        assert client.get("/circulation/config/").status_code == 403
        assert (
            client.post(
                "/circulation/config/policies/UNDERGRAD/", {"loan_period_days": "7"}
            ).status_code
            == 403
        )
    assert not UserGroupPolicy.objects.filter(user_group="UNDERGRAD").exists()


def test_a_user_groups_loan_policy_is_saved_or_refused_on_its_row(manager):
    client = login(manager)
    values = {
        "loan_period_days": "14",
        "max_renewals": "2",
        "debt_limit": "15.00",
        "overdue_items_limit": "3",
        "overdue_fine_per_day": "0.25",
        "max_overdue_fine": "10.00",
    }
    assert client.post("/circulation/config/policies/UNDERGRAD/", values).status_code == 302
    policy = UserGroupPolicy.objects.get(user_group="UNDERGRAD")
    assert (policy.loan_period_days, str(policy.debt_limit)) == (14, "15.00")
    refused = client.post(
        "/circulation/config/policies/GRAD/", {**values, "loan_period_days": "none"}
    )
    assert refused.status_code == 422
    page = refused.content.decode()
    row = row_of(page, "policy-GRAD")
    assert "Enter a whole number" in row and 'value="none"' in row
    assert "Enter a whole number" not in row_of(page, "policy-UNDERGRAD")
    assert not UserGroupPolicy.objects.filter(user_group="GRAD").exists()
    assert client.post("/circulation/config/policies/NOPE/", values).status_code == 404


def test_fee_types_reasons_limits_and_settings_from_the_page(manager):
    client = login(manager)
    added = client.post(
        "/circulation/config/fee-types/",
        {"code": "printing", "description": "Printing", "vat_rate": "7.5", "enabled": "1"},
    )
    assert added.status_code == 302
    printing = FeeType.objects.get(code="PRINTING")
    assert str(printing.vat_rate) == "7.50" and not printing.manual_creation
    bad_vat = client.post(
        "/circulation/config/fee-types/",
        {"original_code": "PRINTING", "description": "Printing", "vat_rate": "150"},
    )
    assert bad_vat.status_code == 422
    assert "VAT is a percentage" in row_of(bad_vat.content.decode(), "fee-type-PRINTING")
    assert (
        client.post(
            "/circulation/config/fee-types/", {"original_code": "NOPE", "description": "X"}
        ).status_code
        == 404
    )

    assert (
        client.post(
            "/circulation/config/waive-reasons/", {"code": "goodwill", "description": "Goodwill"}
        ).status_code
        == 302
    )
    assert not WaiveReason.objects.get(code="GOODWILL").enabled  # the box was not ticked
    empty = client.post(
        "/circulation/config/waive-reasons/", {"original_code": "GOODWILL", "description": ""}
    )
    assert empty.status_code == 422
    assert "Give the reason" in row_of(empty.content.decode(), "reason-GOODWILL")

    url = "/circulation/config/waive-limits/FULFILLMENT_ADMINISTRATOR/"
    assert client.post(url, {"max_amount": "40"}).status_code == 302
    assert str(WaiveLimit.objects.get().max_amount) == "40.00"
    bad = client.post(url, {"max_amount": "lots"})
    assert bad.status_code == 422
    assert 'value="lots"' in row_of(bad.content.decode(), "limit-FULFILLMENT_ADMINISTRATOR")
    assert client.post(url, {"max_amount": ""}).status_code == 302
    assert not WaiveLimit.objects.exists()
    assert client.post("/circulation/config/waive-limits/NOPE/", {}).status_code == 404
    # A role that does not waive has no waive limit to set.
    assert (
        client.post("/circulation/config/waive-limits/FULFILLMENT_OPERATOR/", {}).status_code == 404
    )

    settings_url = "/circulation/config/settings/"
    saved = client.post(settings_url, {"currency": "eur", "waiving_fines_fees_limit": "50"})
    assert saved.status_code == 302
    current = CirculationSettings.current()
    assert (current.currency, current.waiving_fines_fees_limit) == ("EUR", 50)
    assert not current.extend_due_date_beyond_user_expiry
    refused = client.post(settings_url, {"currency": "EU", "waiving_fines_fees_limit": "0"})
    page = html.unescape(refused.content.decode())
    assert refused.status_code == 422
    assert "three-letter ISO 4217" in page and "at least 1" in page
    assert CirculationSettings.current().currency == "EUR"
