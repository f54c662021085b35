"""The contract, from Alma's own description (tests/almaws/reference/alma-users-api.openapi.json):
which of its operations Patronage answers, and, for each documented error Patronage can meet,
that it answers with that code. The table below quotes the reference for every code it checks,
so it cannot drift from it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from patronage.almaws.api import api
from patronage.api_support import api_operations
from tests.almaws.conftest import AlmaClient, error_code, key_for
from tests.circulation.conftest import make_item
from tests.factories import make_desk, make_library

pytestmark = pytest.mark.django_db

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "alma-users-api.openapi.json").read_text()
)
PREFIX = "/almaws/v1"

# Operations of the reference Patronage does not answer, and why (docs/almaws.md).
NOT_ANSWERED = {
    ("GET", "/users/ME"): "no end-user (patron) sessions on this API",
    ("POST", "/users/{user_id}/deposits/{deposit_id}"): "Patronage has no deposits",
    ("DELETE", "/users/{user_id}/requests/{request_id}"): "Patronage has no requests",
    ("POST", "/users/{user_id}/requests/{request_id}"): "Patronage has no requests",
    ("PUT", "/users/{user_id}/requests/{request_id}"): "Patronage has no requests",
    ("POST", "/users/{user_id}/purchase-requests/{purchase_request_id}"): "no purchase requests",
    ("POST", "/users/{user_id}/resource-sharing-requests"): "no resource sharing",
    ("GET", "/users/{user_id}/resource-sharing-requests/{request_id}"): "no resource sharing",
    ("POST", "/users/{user_id}/resource-sharing-requests/{request_id}"): "no resource sharing",
    ("DELETE", "/users/{user_id}/resource-sharing-requests/{request_id}"): "no resource sharing",
    ("GET", "/users/{user_name}/leganto-notifications"): "no Leganto",
}
# Ours beyond the reference: Alma answers it, the reference leaves it out.
ONLY_OURS = {("GET", "/users/{user_id}/attachments")}


def _shape(path: str) -> str:
    """Path parameters by position, not name: /users/{a}/requests/{b}."""
    parts = path.strip("/").split("/")
    return "/" + "/".join("{}" if p.startswith("{") else p for p in parts)


def reference_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path.removeprefix(PREFIX))
        for path, item in REFERENCE["paths"].items()
        for method in item
        if method != "parameters"
    }


def our_operations() -> set[tuple[str, str]]:
    return {(method, _shape(path)) for method, path, _ in api_operations(api)}


def test_every_operation_of_the_reference_is_answered_or_listed_as_not():
    reference = {(m, _shape(p)) for m, p in reference_operations()}
    not_answered = {(m, _shape(p)) for m, p in NOT_ANSWERED}
    ours = our_operations()
    assert reference - not_answered == ours - {(m, _shape(p)) for m, p in ONLY_OURS}
    assert not_answered <= reference


def documented_codes(method: str, path: str) -> str:
    return REFERENCE["paths"][PREFIX + path][method.lower()]["responses"]["400"]["description"]


@pytest.fixture
def setup(admin, patron, settings):
    settings.ALMAWS_PER_SECOND_THRESHOLD = 10_000
    library = make_library("MAIN", "Main Library")
    make_desk(library, "FRONT", "Front desk")
    make_item(library, barcode="CONTRACT-1")
    return AlmaClient(key_for(admin))


def _fee(client: AlmaClient) -> str:
    body = {"type": {"value": "OTHER"}, "original_amount": "3"}
    return str(client.post("/users/pat01/fees", body).json_body["id"])


# (method, reference path, how to call, expected code)
CASES = [
    ("GET", "/users/{user_id}", lambda c: c.get("/users/nobody"), "401861"),
    (
        "POST",
        "/users",
        lambda c: c.call("POST", "/users", b"<user><oops></user>", content_type="application/xml"),
        "401676",
    ),
    (
        "POST",
        "/users",
        lambda c: c.post(
            "/users",
            {
                "primary_id": "PAT01",
                "first_name": "A",
                "last_name": "B",
                "record_type": {"value": "PUBLIC"},
                "user_group": {"value": "GRAD"},
            },
        ),
        "401851",
    ),
    (
        "POST",
        "/users",
        lambda c: c.post(
            "/users", {"primary_id": "new1", "first_name": "A", "record_type": {"value": "PUBLIC"}}
        ),
        "401664",
    ),
    (
        "POST",
        "/users",
        lambda c: c.post(
            "/users",
            {
                "primary_id": "new2",
                "first_name": "A",
                "last_name": "B",
                "record_type": {"value": "PUBLIC"},
                "user_group": {"value": "MARTIAN"},
            },
        ),
        "401852",
    ),
    (
        "POST",
        "/users",
        lambda c: c.post(
            "/users",
            {
                "primary_id": "new3",
                "first_name": "A",
                "last_name": "B",
                "record_type": {"value": "PUBLIC"},
                "user_group": {"value": "GRAD"},
                "account_type": {"value": "GALACTIC"},
            },
        ),
        "401857",
    ),
    (
        "POST",
        "/users",
        lambda c: c.post(
            "/users",
            {
                "primary_id": "new4",
                "first_name": "A",
                "last_name": "B",
                "record_type": {"value": "PUBLIC"},
                "user_group": {"value": "GRAD"},
                "password": "x",
            },
        ),
        "500038",
    ),
    (
        "POST",
        "/users",
        lambda c: c.post(
            "/users",
            {
                "primary_id": "new5",
                "first_name": "A",
                "last_name": "B",
                "record_type": {"value": "PUBLIC"},
                "user_group": {"value": "GRAD"},
                "user_identifier": [{"id_type": {"value": "DNA"}, "value": "1"}],
            },
        ),
        "401864",
    ),
    (
        "PUT",
        "/users/{user_id}",
        lambda c: c.call("PUT", "/users/pat01", b"{not json", content_type="application/json"),
        "401676",
    ),
    ("POST", "/users/{user_id}", lambda c: c.post("/users/pat01", op="auth"), "401866"),
    ("POST", "/users/{user_id}", lambda c: c.post("/users/nobody", op="refresh"), "401861"),
    ("GET", "/users/{user_id}/fees/{fee_id}", lambda c: c.get("/users/pat01/fees/9999"), "401665"),
    (
        "POST",
        "/users/{user_id}/fees/{fee_id}",
        lambda c: c.post(f"/users/pat01/fees/{_fee(c)}", op="melt"),
        "401666",
    ),
    ("GET", "/users/{user_id}/fees", lambda c: c.get("/users/pat01/fees", status="LOST"), "401666"),
    (
        "POST",
        "/users/{user_id}/fees/all",
        lambda c: c.post("/users/pat01/fees/all", op="waive"),
        "401666",
    ),
    (
        "POST",
        "/users/{user_id}/fees",
        lambda c: c.post("/users/pat01/fees", {"original_amount": "1"}),
        "4019991",
    ),
    (
        "POST",
        "/users/{user_id}/fees",
        lambda c: c.post("/users/pat01/fees", {"type": {"value": "UFO"}, "original_amount": "1"}),
        "4019992",
    ),
    (
        "POST",
        "/users/{user_id}/fees",
        lambda c: c.post("/users/pat01/fees", {"type": {"value": "OTHER"}}),
        "4019994",
    ),
    (
        "POST",
        "/users/{user_id}/fees",
        lambda c: c.post(
            "/users/pat01/fees",
            {"type": {"value": "OTHER"}, "original_amount": "1", "barcode": "NONE"},
        ),
        "4019993",
    ),
    (
        "POST",
        "/users/{user_id}/fees",
        lambda c: c.post(
            "/users/pat01/fees",
            {"type": {"value": "OTHER"}, "original_amount": "1", "owner": "NOWHERE"},
        ),
        "4019996",
    ),
    ("GET", "/users/{user_id}/loans", lambda c: c.get("/users/nobody/loans"), "401861"),
    (
        "POST",
        "/users/{user_id}/loans",
        lambda c: c.post("/users/pat01/loans", {"circ_desk": {"value": "FRONT"}}),
        "401672",
    ),
    (
        "POST",
        "/users/{user_id}/loans",
        lambda c: c.post(
            "/users/pat01/loans", {"circ_desk": {"value": "ELSEWHERE"}}, item_barcode="CONTRACT-1"
        ),
        "401153",
    ),
    (
        "POST",
        "/users/{user_id}/loans",
        lambda c: c.post("/users/pat01/loans", {"circ_desk": {"value": "FRONT"}}, item_barcode="X"),
        "401651",
    ),
    (
        "POST",
        "/users/{user_id}/loans/{loan_id}",
        lambda c: c.post("/users/pat01/loans/777", op="renew"),
        "401823",
    ),
    (
        "PUT",
        "/users/{user_id}/loans/{loan_id}",
        lambda c: c.put("/users/pat01/loans/777", {"due_date": "2030-01-01Z"}),
        "401823",
    ),
    (
        "GET",
        "/users/{user_id}/attachments/{attachment_id}",
        lambda c: c.get("/users/pat01/attachments/31337"),
        "60321",
    ),
    (
        "POST",
        "/users/{user_id}/attachments",
        lambda c: c.post("/users/pat01/attachments", {"file_name": "a.txt", "content": "%%%"}),
        "60322",
    ),
    ("GET", "/users/{user_id}/personal-data", lambda c: c.get("/users/x/personal-data"), "401861"),
    ("DELETE", "/users/{user_id}", lambda c: c.delete("/users/nobody"), "401890"),
    ("DELETE", "/users/{user_id}", lambda c: (_fee(c), c.delete("/users/pat01"))[1], "401850"),
]


@pytest.mark.parametrize(
    ("method", "path", "call", "code"), CASES, ids=[f"{m} {p} {c}" for m, p, _, c in CASES]
)
def test_each_documented_error(setup, method, path, call, code):
    assert code in documented_codes(method, path), f"{code} is not documented for {path}"
    response = call(setup)
    assert response.status_code == 400, response.content
    assert error_code(response) == code


def test_a_loan_due_date_in_the_past_is_401681(setup):
    body = {"circ_desk": {"value": "FRONT"}}
    loan = setup.post("/users/pat01/loans", body, item_barcode="CONTRACT-1").json_body
    assert "401681" in documented_codes("PUT", "/users/{user_id}/loans/{loan_id}")
    assert "401824" in documented_codes("PUT", "/users/{user_id}/loans/{loan_id}")
    past = setup.put(f"/users/pat01/loans/{loan['loan_id']}", {"due_date": "2001-01-01Z"})
    assert error_code(past) == "401681"
    missing = setup.put(f"/users/pat01/loans/{loan['loan_id']}", {"loan_status": "ACTIVE"})
    assert error_code(missing) == "401824"
    later = setup.put(f"/users/pat01/loans/{loan['loan_id']}", {"due_date": "2099-01-01Z"})
    assert later.status_code == 200, later.content


def test_every_answer_documents_x_exl_api_remaining(client, settings):
    settings.SECURE_SSL_REDIRECT = False
    document = client.get("/almaws/v1/openapi.json").json()
    for path, item in document["paths"].items():
        for method, spec in item.items():
            ok = spec["responses"].get("200") or spec["responses"].get("204")
            assert "X-Exl-Api-Remaining" in ok["headers"], f"{method} {path}"


def test_an_attachment_round_trip_in_xml(admin, patron):
    client = AlmaClient(key_for(admin), as_json=False)
    content = base64.b64encode(b"%PDF-1.4 test").decode()
    body = (
        f"<attachment><file_name>card.pdf</file_name><type>application/pdf</type>"
        f"<content>{content}</content></attachment>"
    ).encode()
    added = client.post("/users/pat01/attachments", body)
    assert added.status_code == 200, added.content
    assert added.xml.findtext("file_name") == "card.pdf"
