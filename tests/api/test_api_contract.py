"""What holds for every operation of /api/v1: a declared permission, 401 without a session,
403 without the permission, 404 for what does not exist, and nothing written on refusal."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from patronage.access.checks import can
from patronage.access.permissions import Permission
from patronage.api import api
from patronage.api_support import PERMISSION_ATTR, PERMISSION_EXTENSION, api_operations
from tests.api.client import ApiClient, written

P = Permission

# Every operation, a request that would succeed for an administrator, and its permission.
# Placeholders are filled from the `patron` fixture: {user}, {identifier}, {email}, ...
OPERATIONS: list[tuple[str, str, Any, Permission]] = [
    ("GET", "/users", None, P.USERS_VIEW),
    (
        "POST",
        "/users",
        {
            "primary_id": "new1",
            "record_type": "PUBLIC",
            "first_name": "New",
            "last_name": "Person",
            "user_group": "GRAD",
        },
        P.USERS_CREATE,
    ),
    ("GET", "/users/{user}", None, P.USERS_VIEW),
    ("PATCH", "/users/{user}", {"middle_name": "Q"}, P.USERS_EDIT),
    ("GET", "/users/{user}/history", None, P.USERS_VIEW_HISTORY),
    ("POST", "/users/{user}/password", {"password": "correct-horse-battery"}, P.USERS_EDIT),
    ("POST", "/users/{user}/pin", {"generate": True}, P.USERS_EDIT),
    ("POST", "/users/{user}/identifiers", {"id_type": "UNIV_ID", "value": "U1"}, P.USERS_EDIT),
    ("DELETE", "/users/{user}/identifiers/{identifier}", None, P.USERS_EDIT),
    (
        "POST",
        "/users/{user}/emails",
        {"address": "b@example.org", "types": ["work"]},
        P.USERS_EDIT,
    ),
    ("PATCH", "/users/{user}/emails/{email}", {"description": "main"}, P.USERS_EDIT),
    ("DELETE", "/users/{user}/emails/{email}", None, P.USERS_EDIT),
    ("POST", "/users/{user}/phones", {"number": "+1 555 0111", "types": ["mobile"]}, P.USERS_EDIT),
    ("PATCH", "/users/{user}/phones/{phone}", {"preferred_sms": True}, P.USERS_EDIT),
    ("DELETE", "/users/{user}/phones/{phone}", None, P.USERS_EDIT),
    ("POST", "/users/{user}/addresses", {"line1": "3 High St", "types": ["work"]}, P.USERS_EDIT),
    ("PATCH", "/users/{user}/addresses/{address}", {"city": "Shelbyville"}, P.USERS_EDIT),
    ("DELETE", "/users/{user}/addresses/{address}", None, P.USERS_EDIT),
    ("POST", "/users/{user}/notes", {"note_type": "OTHER", "text": "Hello"}, P.USERS_EDIT),
    ("DELETE", "/users/{user}/notes/{note}", None, P.USERS_EDIT),
    ("POST", "/users/{user}/statistics", {"category": "LAW"}, P.USERS_EDIT),
    ("DELETE", "/users/{user}/statistics/{statistic}", None, P.USERS_EDIT),
    ("POST", "/users/{user}/blocks", {"block_type": "CONDUCT"}, P.USERS_MANAGE_BLOCKS),
    ("DELETE", "/users/{user}/blocks/{block}", None, P.USERS_MANAGE_BLOCKS),
    # Roles, grants and access reports (tests/roles/test_api.py covers them in depth)
    ("GET", "/roles", None, P.ROLES_VIEW),
    ("GET", "/users/{user}/grants", None, P.ROLES_VIEW),
    ("POST", "/users/{user}/grants", {"role": "ANALYTICS_OPERATOR"}, P.ROLES_GRANT),
    ("DELETE", "/grants/{grant}?reason=left", None, P.ROLES_GRANT),
    ("PUT", "/users/{user}/login-model", {"login_model": "VIEW"}, P.ROLES_GRANT),
    ("GET", "/users/{user}/proposed-roles", None, P.ROLES_VIEW),
    ("GET", "/reports/permission-holders", None, P.REPORTS_ACCESS),
    ("GET", "/reports/who-can-see/{user}", None, P.REPORTS_ACCESS),
    # API keys (tests/security/test_api_keys.py covers them in depth)
    ("GET", "/api-keys", None, P.APIKEYS_MANAGE),
    ("POST", "/api-keys", {"name": "SIS import"}, P.APIKEYS_MANAGE),
    ("GET", "/api-keys/{apikey}", None, P.APIKEYS_MANAGE),
    ("DELETE", "/api-keys/{apikey}", None, P.APIKEYS_MANAGE),
    # Patron services (tests/circulation/test_api.py covers them in depth)
    ("GET", "/users/{user}/fees", None, P.FINES_VIEW),
    ("POST", "/users/{user}/fees", {"fee_type": "OTHER", "amount": "2.50"}, P.FINES_CREATE),
    ("GET", "/users/{user}/fees/{fee}", None, P.FINES_VIEW),
    ("POST", "/users/{user}/credits", {"amount": "1", "comment": "Goodwill"}, P.FINES_CREDIT),
    ("POST", "/users/{user}/fees/{fee}/pay", {"method": "CASH"}, P.FINES_PAY),
    ("POST", "/users/{user}/fees/pay-all", {"method": "CASH"}, P.FINES_PAY),
    ("POST", "/users/{user}/fees/waive", {"all": True, "reason": "HARDSHIP"}, P.FINES_WAIVE),
    ("POST", "/users/{user}/fees/{fee}/dispute", {"comment": "Not mine"}, P.FINES_DISPUTE),
    ("POST", "/users/{user}/fees/{fee}/restore", {"comment": ""}, P.FINES_DISPUTE),
    ("POST", "/users/{user}/fees/{fee}/item", {"barcode": "I0001"}, P.FINES_CREATE),
    ("POST", "/users/{user}/fees/export", None, P.FINES_EXPORT),
    ("GET", "/users/{user}/blocks-in-force", None, P.USERS_VIEW_DETAILS),
    ("GET", "/items", None, P.FULFILLMENT_ITEMS),
    ("GET", "/items/{item}", None, P.FULFILLMENT_ITEMS),
    ("POST", "/items", {"barcode": "I9", "title": "T", "library": 1}, P.FULFILLMENT_ITEMS),
    (
        "PUT",
        "/items/{item}",
        {"barcode": "I9", "title": "T", "library": 1},
        P.FULFILLMENT_ITEMS,
    ),
    ("GET", "/users/{user}/loans", None, P.FULFILLMENT_LOAN_VIEW),
    ("POST", "/users/{user}/loans", {"barcode": "I0001", "desk": 1}, P.FULFILLMENT_LOANS),
    ("POST", "/loans/{loan}/renew", None, P.FULFILLMENT_LOANS),
    ("POST", "/loans/{loan}/due-date", {"due_date": "2030-01-01"}, P.FULFILLMENT_DUE_DATES),
    ("POST", "/returns", {"barcode": "I0001", "desk": 1}, P.FULFILLMENT_LOANS),
    ("GET", "/users/{user}/proxies", None, P.USERS_VIEW_DETAILS),
    ("POST", "/users/{user}/proxies", {"sponsor": 1}, P.USERS_MANAGE_PROXIES),
    ("DELETE", "/users/{user}/proxies/{proxy}", None, P.USERS_MANAGE_PROXIES),
    ("GET", "/users/{user}/deletion", None, P.USERS_DELETE),
    ("POST", "/users/{user}/deletion", {"confirm": True}, P.USERS_DELETE),
    ("GET", "/circulation/config", None, P.FULFILLMENT_CONFIG),
    ("PATCH", "/circulation/settings", {"waiving_fines_fees_limit": 50}, P.FULFILLMENT_CONFIG),
    ("PUT", "/circulation/policies", {"user_group": "GRAD"}, P.FULFILLMENT_CONFIG),
    ("PUT", "/circulation/fee-types", {"code": "X", "description": "X"}, P.FULFILLMENT_CONFIG),
    ("PUT", "/circulation/waive-reasons", {"code": "X", "description": "X"}, P.FULFILLMENT_CONFIG),
    ("PUT", "/circulation/waive-limits", {"role": "USER_MANAGER"}, P.FULFILLMENT_CONFIG),
    # Access governance (tests/approvals/test_api.py covers them in depth)
    ("GET", "/role-requests", None, P.REQUESTS_FILE),
    ("GET", "/role-requests/inbox", None, P.REQUESTS_APPROVE),
    ("GET", "/role-requests/{request}", None, P.REQUESTS_FILE),
    (
        "POST",
        "/role-requests",
        {"subject_id": 1, "kind": "UPDATE", "rationale": "Work"},
        P.REQUESTS_FILE,
    ),
    ("POST", "/role-requests/{request}/sign-off", None, P.REQUESTS_FILE),
    (
        "POST",
        "/role-requests/{request}/lines/{line}/decision",
        {"approve": True},
        P.REQUESTS_APPROVE,
    ),
    (
        "POST",
        "/role-requests/{request}/lines/{line}/administrator-approval",
        {"approve": True},
        P.REQUESTS_APPROVE,
    ),
    ("GET", "/role-requests/{request}/privacy-form", None, P.REQUESTS_FILE),
    ("POST", "/role-requests/{request}/privacy-form", {"version": 1}, P.REQUESTS_FILE),
    ("POST", "/role-requests/{request}/sandbox-grants", None, P.REQUESTS_PROCESS),
    ("POST", "/role-requests/{request}/training", {"area": "FULFILLMENT"}, P.REQUESTS_APPROVE),
    ("POST", "/role-requests/{request}/production-grants", None, P.REQUESTS_PROCESS),
    ("POST", "/role-requests/{request}/withdrawal", {"reason": "x"}, P.REQUESTS_FILE),
    (
        "POST",
        "/separations",
        {"user_id": 1, "separation_date": "2026-01-01"},
        P.SEPARATIONS_PROCESS,
    ),
    ("POST", "/separations/file", None, P.SEPARATIONS_PROCESS),
    ("POST", "/users/{user}/transfer", {"unit": "NONE"}, P.SEPARATIONS_PROCESS),
    ("GET", "/confidentiality-policy", None, P.USERS_VIEW),
    ("POST", "/confidentiality-policy/acknowledgements", {"version": 1}, P.USERS_VIEW),
    ("GET", "/reports/confidentiality-acknowledgements", None, P.ACKNOWLEDGEMENTS_REPORT),
    # The directory (tests/approvals/test_directory_api.py covers them in depth)
    ("GET", "/directory/units", None, P.REQUESTS_FILE),
    ("GET", "/directory/units/{unit}", None, P.REQUESTS_FILE),
    ("POST", "/directory/units", {"code": "LAW", "name": "Law"}, P.DIRECTORY_MANAGE),
    ("PUT", "/directory/units/{unit}", {"code": "LAW", "name": "Law"}, P.DIRECTORY_MANAGE),
    ("DELETE", "/directory/units/{unit}", None, P.DIRECTORY_MANAGE),
    (
        "POST",
        "/directory/units/{unit}/contacts",
        {"user_id": 1, "duty": "LIAISON"},
        P.DIRECTORY_MANAGE,
    ),
    ("DELETE", "/directory/units/{unit}/contacts/{contact}", None, P.DIRECTORY_MANAGE),
    ("GET", "/directory/stewards", None, P.REQUESTS_FILE),
    (
        "POST",
        "/directory/stewards",
        {"user_id": 1, "duty": "SYSTEM_ADMINISTRATOR"},
        P.DIRECTORY_MANAGE,
    ),
    ("DELETE", "/directory/stewards/{steward}", None, P.DIRECTORY_MANAGE),
    ("GET", "/directory/placements", None, P.DIRECTORY_MANAGE),
    ("PUT", "/directory/placements/{user}", {"unit_id": 1}, P.DIRECTORY_MANAGE),
    ("GET", "/directory/holidays", None, P.REQUESTS_FILE),
    ("POST", "/directory/holidays", {"date": "2026-12-25", "name": "X"}, P.DIRECTORY_MANAGE),
    ("DELETE", "/directory/holidays/{holiday}", None, P.DIRECTORY_MANAGE),
    ("GET", "/privacy-forms", None, P.REQUESTS_FILE),
    (
        "POST",
        "/privacy-forms",
        {"variant": "STAFF", "title": "Form", "text": "I will."},
        P.DIRECTORY_MANAGE,
    ),
    ("POST", "/confidentiality-policy", {"title": "Policy", "text": "Text"}, P.DIRECTORY_MANAGE),
    # SIS synchronisation (tests/sis/test_api.py covers them in depth)
    ("GET", "/sis/profiles", None, P.SIS_IMPORT_RUN),
    (
        "POST",
        "/sis/profiles",
        {"code": "hr", "name": "HR", "file_format": "xml", "match_by": "primary_id"},
        P.SIS_PROFILE_MANAGE,
    ),
    ("GET", "/sis/profiles/{profile}", None, P.SIS_IMPORT_RUN),
    ("PATCH", "/sis/profiles/{profile}", {"name": "HR system"}, P.SIS_PROFILE_MANAGE),
    ("GET", "/sis/runs", None, P.SIS_IMPORT_RUN),
    ("POST", "/sis/runs", {"profile": "hr"}, P.SIS_IMPORT_RUN),
    ("GET", "/sis/runs/{run}", None, P.SIS_IMPORT_RUN),
    ("POST", "/sis/runs/{run}/resume", None, P.SIS_IMPORT_RUN),
    ("GET", "/sis/runs/{run}/items", None, P.SIS_IMPORT_RUN),
    ("GET", "/sis/runs/{run}/report", None, P.SIS_IMPORT_RUN),
    # Bulk update and messaging (tests/sis/test_bulk_api.py covers them in depth)
    ("GET", "/bulk/searches", None, P.USERS_BULK_UPDATE),
    ("POST", "/bulk/searches", {"name": "Grads"}, P.USERS_BULK_UPDATE),
    ("GET", "/bulk/searches/{search}", None, P.USERS_BULK_UPDATE),
    ("PATCH", "/bulk/searches/{search}", {"name": "Grads"}, P.USERS_BULK_UPDATE),
    ("DELETE", "/bulk/searches/{search}", None, P.USERS_BULK_UPDATE),
    ("GET", "/bulk/runs", None, P.USERS_BULK_UPDATE),
    ("POST", "/bulk/runs", {"ids": ["x"], "operation": {"type": "add_note"}}, P.USERS_BULK_UPDATE),
    ("GET", "/bulk/runs/{run}", None, P.USERS_BULK_UPDATE),
    ("POST", "/bulk/runs/{run}/resume", None, P.USERS_BULK_UPDATE),
    ("GET", "/bulk/runs/{run}/items", None, P.USERS_BULK_UPDATE),
    ("GET", "/bulk/runs/{run}/report", None, P.USERS_BULK_UPDATE),
    # The access log and the legal-process register (tests/privacy covers them in depth)
    ("GET", "/privacy/access-log/patrons/{user}", None, P.PRIVACY_ACCESS_LOG),
    ("GET", "/privacy/access-log/staff/{user}", None, P.PRIVACY_ACCESS_LOG),
    ("GET", "/privacy/unusual-volume", None, P.PRIVACY_ACCESS_LOG),
    ("GET", "/privacy/settings", None, P.CONFIG_USER_SETTINGS),
    ("PATCH", "/privacy/settings", {"access_reason": "optional"}, P.CONFIG_USER_SETTINGS),
    # The personal-data export (tests/privacy/test_personal_data.py covers it in depth)
    ("GET", "/users/{user}/personal-data", None, P.PRIVACY_PERSONAL_DATA_EXPORT),
    ("POST", "/users/{user}/personal-information-letter", None, P.PRIVACY_PERSONAL_DATA_LETTER),
    # Retention and the right to be forgotten (tests/privacy covers them in depth)
    ("GET", "/privacy/retention", None, P.PRIVACY_RETENTION),
    ("PATCH", "/privacy/retention", {"anonymise_loans_after_days": 60}, P.PRIVACY_RETENTION),
    ("POST", "/privacy/retention/run", {"dry_run": True}, P.PRIVACY_RETENTION),
    ("GET", "/forgetting-requests", None, P.PRIVACY_FORGET),
    (
        "POST",
        "/forgetting-requests",
        {"user_id": 1, "received_via": "letter"},
        P.PRIVACY_FORGET,
    ),
    ("GET", "/forgetting-requests/{forgetting}", None, P.PRIVACY_FORGET),
    ("POST", "/forgetting-requests/{forgetting}/carry-out", None, P.PRIVACY_FORGET),
    ("POST", "/forgetting-requests/{forgetting}/withdraw", {}, P.PRIVACY_FORGET),
    ("GET", "/legal-requests", None, P.PRIVACY_LEGAL_REQUEST),
    (
        "POST",
        "/legal-requests",
        {
            "agency": "County Sheriff",
            "kind": "subpoena",
            "description": "Records",
            "received_on": "2026-11-30",
            "supervisor_email": "s@example.org",
            "director_email": "d@example.org",
        },
        P.PRIVACY_LEGAL_REQUEST,
    ),
    ("GET", "/legal-requests/{legal}", None, P.PRIVACY_LEGAL_REQUEST),
    ("POST", "/legal-requests/{legal}/refer", {}, P.PRIVACY_LEGAL_REQUEST),
    ("POST", "/legal-requests/{legal}/withdraw", {}, P.PRIVACY_LEGAL_REQUEST),
    ("POST", "/legal-requests/{legal}/resist", {}, P.PRIVACY_LEGAL_COUNSEL),
    ("POST", "/legal-requests/{legal}/refuse", {}, P.PRIVACY_LEGAL_COUNSEL),
    (
        "POST",
        "/legal-requests/{legal}/validate-order",
        {"order_reference": "Order 1", "user_ids": [1], "record_kinds": ["record"]},
        P.PRIVACY_LEGAL_COUNSEL,
    ),
    ("POST", "/legal-requests/{legal}/documents", None, P.PRIVACY_LEGAL_REQUEST),
    ("GET", "/legal-requests/{legal}/documents/{document}", None, P.PRIVACY_LEGAL_REQUEST),
    ("POST", "/legal-requests/{legal}/release", None, P.PRIVACY_LEGAL_REQUEST),
    ("GET", "/legal-requests/{legal}/release", None, P.PRIVACY_LEGAL_REQUEST),
]
IDS = [f"{method} {path}" for method, path, _, _ in OPERATIONS]


def ids_of(owner: Any, **overrides: Any) -> dict[str, Any]:
    """Placeholder values: the user's own entries (those owned by the main library)."""
    values = {
        "user": owner.pk,
        "identifier": owner.identifiers.get(is_primary=False).pk,
        "email": owner.emails.first().pk,
        "phone": owner.phones.first().pk,
        "address": owner.addresses.first().pk,
        "note": owner.notes.get(owner__code="MAIN").pk,
        "statistic": owner.statistics.get(owner__code="MAIN").pk,
        "block": owner.blocks.get(owner__code="MAIN").pk,
        "fee": owner.fees.get(owner__code="MAIN").pk,
        "proxy": owner.proxy_for.first().pk if owner.proxy_for.exists() else 1,
        "loan": 1,  # refused before the loan is looked up
        "grant": 1,  # refused before the grant is looked up
        "apikey": 1,  # refused before the key is looked up
        "request": 1,  # role requests: none exists in these tests
        "line": 1,
        "profile": 1,  # refused before the profile is looked up
        "run": 1,  # refused before the run is looked up
        "search": 1,  # refused before the saved search is looked up
        "legal": 1,  # refused before the request is looked up
        "forgetting": 1,  # refused before the request is looked up
        "document": 1,
        "unit": 1,  # the directory: refused before the unit, contact, lead or holiday is
        "contact": 1,  # looked up
        "steward": 1,
        "holiday": 1,
        "item": 1,  # refused before the item is looked up
    }
    return {**values, **overrides}


def test_every_operation_declares_a_permission():
    operations = list(api_operations(api))
    assert operations, "no API operations found"
    undeclared = [
        f"{method} {path}"
        for method, path, operation in operations
        if not isinstance(getattr(operation.view_func, PERMISSION_ATTR, None), Permission)
    ]
    assert undeclared == []


def _shape(path: str) -> str:
    """/api/v1/users/{user_id}/notes/{note_id} and /users/{user}/notes/{note} alike."""
    path = path.removeprefix("/api/v1")
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


def test_the_table_above_covers_every_operation():
    mounted = sorted((method, _shape(path)) for method, path, _ in api_operations(api))
    assert mounted == sorted((method, _shape(path)) for method, path, _, _ in OPERATIONS)


def test_the_openapi_document_shows_each_operations_permission():
    document = api.get_openapi_schema()
    declared = {
        (method.upper(), _shape(path)): operation.get(PERMISSION_EXTENSION)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert declared == {
        (method, _shape(path)): permission.value for method, path, _, permission in OPERATIONS
    }


def test_the_openapi_document_is_valid_and_documents_every_error(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    schemathesis.openapi.from_dict(document).validate()
    error_ref = "#/components/schemas/ErrorOut"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status in ("401", "403", "422"):
                assert status in responses, f"{method} {path} does not document {status}"
            for status, spec in responses.items():
                if status.startswith(("4", "5")):
                    schema = spec["content"]["application/json"]["schema"]
                    assert schema == {"$ref": error_ref}, f"{method} {path} {status}"
            if "{user_id}" in path:
                assert "404" in responses, f"{method} {path} does not document 404"


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body", "permission"), OPERATIONS, ids=IDS)
def test_without_a_session_the_answer_is_401(method, path, body, permission, patron):
    before = written()
    response = ApiClient().call(method, path.format(**ids_of(patron)), body)
    assert response.status_code == 401
    assert response.json_body["code"] == "not_authenticated"
    assert written() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body", "permission"), OPERATIONS, ids=IDS)
def test_without_the_permission_the_answer_is_403(
    method, path, body, permission, patron, no_roles, desk_operator
):
    # no_roles may do nothing at all; the desk operator holds only a few permissions (its
    # role's, and those every staff login has: filing role requests).
    callers = [caller for caller in (no_roles, desk_operator) if not can(caller, permission)]
    for caller in callers:
        before = written()
        response = ApiClient(caller).call(method, path.format(**ids_of(patron)), body)
        assert response.status_code == 403, caller
        assert response.json_body["code"] == "permission_denied"
        assert permission.label in response.json_body["message"]
        assert written() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "permission"),
    [op for op in OPERATIONS if op[0] in ("POST", "PATCH", "PUT")],
    ids=[i for i, op in zip(IDS, OPERATIONS, strict=True) if op[0] in ("POST", "PATCH", "PUT")],
)
def test_without_the_permission_a_malformed_request_is_still_403(
    method, path, body, permission, patron, no_roles
):
    # Checked before the request is read: nothing tells the caller what the operation expects.
    malformed = {"no_such_field": ["\x00"], "primary_id": 7}
    path = path.format(**ids_of(patron)).replace(str(patron.pk), "not-a-number")
    response = ApiClient(no_roles).call(method, path, malformed)
    assert response.status_code == 403
    assert response.json_body["code"] == "permission_denied"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "permission"),
    [op for op in OPERATIONS if "{user}" in op[1]],
    ids=[i for i, op in zip(IDS, OPERATIONS, strict=True) if "{user}" in op[1]],
)
def test_a_user_that_does_not_exist_is_404(method, path, body, permission, patron, admin):
    before = written()
    response = ApiClient(admin).call(method, path.format(**ids_of(patron, user=10**9)), body)
    assert response.status_code == 404
    assert response.json_body["code"] == "user_not_found"
    assert written() == before


ENTRY_OPERATIONS = [
    op for op in OPERATIONS if op[1].count("{") == 2 and op[1].startswith("/users/")
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "permission"),
    ENTRY_OPERATIONS,
    ids=[f"{m} {p}" for m, p, _, _ in ENTRY_OPERATIONS],
)
def test_an_entry_of_another_user_is_404(
    method, path, body, permission, patron, other_patron, admin, main_library
):
    theirs = ids_of(other_patron, user=patron.pk)
    before = written()
    response = ApiClient(admin).call(method, path.format(**theirs), body)
    assert response.status_code == 404
    assert response.json_body["code"].endswith("_not_found")
    assert written() == before


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["note", "statistic", "block"])
def test_an_entry_owned_by_a_library_outside_the_callers_scope_is_404(
    kind, patron, user_manager, law_library
):
    entry = getattr(patron, f"{kind}s").get(owner=law_library)
    before = written()
    response = ApiClient(user_manager).delete(f"/users/{patron.pk}/{kind}s/{entry.pk}")
    assert response.status_code == 404
    assert written() == before


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", str(2**63)])
def test_a_malformed_id_is_422_not_500(bad_id, admin):
    response = ApiClient(admin).get(f"/users/{bad_id}")
    assert response.status_code == 422
    assert response.json_body["code"] == "invalid_request"
    assert "user_id" in response.json_body["errors"]


@pytest.mark.django_db
def test_writes_through_the_session_need_the_csrf_token(admin, patron):
    client = ApiClient(admin, enforce_csrf_checks=True)
    before = written()
    response = client.patch(f"/users/{patron.pk}", {"middle_name": "Q"})
    assert response.status_code == 403
    assert response.json_body["code"] == "csrf_failed"
    assert written() == before
    # With the token the staff UI's htmx sends, the same request passes.
    client.client.get("/api/v1/users")  # any response; the token comes from the cookie below
    token = "a" * 32
    client.client.cookies["csrftoken"] = token
    response = client.client.patch(
        f"/api/v1/users/{patron.pk}",
        '{"middle_name": "Q"}',
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
