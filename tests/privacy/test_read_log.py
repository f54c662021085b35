"""The read-access log (seed 000): every view of a patron's record, every search, through
the UI, the API and the CLI, is one audit event with actor, time, channel and reason."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from patronage.accounts import actions
from patronage.almaws.api import api as alma_api
from patronage.api_support import api_operations
from patronage.audit.models import AuditEvent
from patronage.circulation.actions import check_out, create_fee
from patronage.privacy.forgetting import record_forgetting_request
from patronage.privacy.models import PrivacySettings
from patronage.privacy.reads import READ_ATTR, READ_VERBS
from patronage.sis import bulk_update
from patronage.sis.models import ImportRun, RunKind, RunStatus
from tests.almaws.conftest import AlmaClient, key_for
from tests.api.client import ApiClient
from tests.circulation.conftest import make_item
from tests.factories import SYSTEM, actor_for, make_desk, make_library, make_staff, make_user
from tests.matrix.test_authorization_matrix import PARAM, api_routes, web_routes

pytestmark = pytest.mark.django_db

# GET routes about one user that show no patron data (a staff member's roles, sign-in
# security, form options): not logged. Every other such route must be marked.
NOT_PATRON_DATA = {
    "users/<int:pk>/edit/options/",  # the options of a form's code fields
    "users/<int:pk>/pin/generate/",  # a fresh random PIN for the form
    "users/<int:pk>/roles/",  # a staff member's roles (access reports cover them)
    "users/<int:pk>/roles/scopes/",
    "users/<int:pk>/api-keys/",
    "users/<int:pk>/two-factor/",
    "reports/users/<int:pk>/",  # roles report
    "reports/who-can-see/<int:pk>/",  # who could, from grants
    "privacy/access-log/patrons/<int:pk>/",  # the access log itself
    "privacy/access-log/staff/<int:pk>/",
    "/api/v1/users/{user_id}/grants",
    "/api/v1/users/{user_id}/proposed-roles",
    "/api/v1/reports/who-can-see/{user_id}",
    "/api/v1/privacy/access-log/patrons/{user_id}",
    "/api/v1/privacy/access-log/staff/{user_id}",
    # Patronage has no requests, deposits or purchase requests: always an empty list.
    "/almaws/v1/users/{user_id}/requests",
    "/almaws/v1/users/{user_id}/requests/{entry_id}",
    "/almaws/v1/users/{user_id}/deposits",
    "/almaws/v1/users/{user_id}/deposits/{entry_id}",
    "/almaws/v1/users/{user_id}/purchase-requests",
    "/almaws/v1/users/{user_id}/purchase-requests/{entry_id}",
}


# A route whose ``pk`` is a user's (``governance/requests/<int:pk>/`` is a role request's).
ABOUT_ONE_USER = re.compile(r"\{user_id\}|(users|who-can-see|patrons|staff)/<int:pk>")


def alma_routes():
    """The Alma-compatible API's operations, as /almaws/v1 paths."""
    for method, path, operation in api_operations(alma_api):
        yield method, "/almaws/v1/" + path.strip("/"), operation.view_func


def reads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(verb__in=READ_VERBS).order_by("id"))


@pytest.fixture
def patron(admin):
    person = make_user(primary_id="pat01", first_name="Patricia", last_name="Reader")
    actions.add_attachment(
        actor=SYSTEM,
        user=person,
        upload=SimpleUploadedFile("letter.txt", b"hello", content_type="text/plain"),
    )
    create_fee(actor=SYSTEM, user=person, fee_type="OTHER", amount="5")
    desk = make_desk(make_library())
    make_item(desk.library, barcode="READ-1")
    check_out(actor=SYSTEM, user=person, barcode="READ-1", desk=desk)
    return person


def marked_routes() -> list[tuple[str, str, object]]:
    routes = [("GET", route, view) for route, view in web_routes()]
    routes += [*api_routes(), *alma_routes()]
    return [(m, r, v) for m, r, v in routes if m == "GET" and getattr(v, READ_ATTR, None)]


def fill(route: str, patron, runs: dict[str, int] | None = None) -> str:
    runs = runs or {}
    attachment = patron.attachments.get().pk
    values = {
        "run_id": runs.get("sis" if "sis/runs" in route else "bulk", 0),
        "pk": patron.pk,
        # The Alma API names a user by primary ID (or any identifier), ours by id.
        "user_id": patron.primary_id if route.startswith("/almaws/") else patron.pk,
        "entry_id": attachment,
        "attachment_id": attachment,
        "fee_id": patron.fees.get().pk,
        "loan_id": patron.loans.get().pk,
        "request_id": runs.get("forgetting", 0),
    }
    path = PARAM.sub(lambda m: str(values[m.group(2) or m.group(3)]), route)
    return path if path.startswith("/") else "/" + path


def get(client: Client, admin, route: str, patron, runs: dict[str, int]):
    """GET a route: the Alma-compatible API with an API key, the others with the session
    (the API takes the session too)."""
    path = fill(route, patron, runs)
    if route.startswith("/almaws/"):
        return AlmaClient(key_for(admin)).get(path.removeprefix("/almaws/v1"))
    return client.get(path)


def test_every_marked_route_logs_exactly_one_read_per_request(admin, patron):
    routes = marked_routes()
    # users, their tabs, fees, loans, proxies: UI, API and the Alma-compatible API
    assert len(routes) >= 21
    assert sum(route.startswith("/almaws/") for _, route, _ in routes) == 9
    client = Client()
    client.force_login(admin)
    note = {"type": "add_note", "note_type": "CIRCULATION", "text": "Hi"}
    run = bulk_update.start_bulk(
        actor=actor_for(admin), operation=note, ids=[patron.primary_id], dry_run=True
    )
    bulk_update.execute_bulk(run_id=run.pk)  # a bulk run's report names the users it read
    imported = ImportRun.objects.create(kind=RunKind.SIS_IMPORT, status=RunStatus.FINISHED)
    forget = record_forgetting_request(actor=actor_for(admin), user=patron, received_via="email")
    runs = {"bulk": run.pk, "sis": imported.pk, "forgetting": forget.pk}
    for _, route, view in routes:  # all GETs
        before = len(reads())
        response = get(client, admin, route, patron, runs)
        assert response.status_code == 200, route
        new = reads()[before:]
        assert len(new) == 1, f"{route}: {len(new)} read events"
        event = new[0]
        assert event.verb == getattr(view, READ_ATTR) and event.actor == admin
        assert event.channel == ("api" if route.startswith(("/api/", "/almaws/")) else "ui")
        if "{user_id}" in route or "<int:pk>" in route or "forgetting" in route:
            assert event.subject_id == patron.pk, route


def test_every_route_about_one_user_is_marked_or_shows_no_patron_data(admin, patron):
    """A route about one user that answers GET must be marked (or listed above); one that
    only takes POST (405 to a GET) writes and is logged by its action instead."""
    routes = [(r, v) for m, r, v in [*api_routes(), *alma_routes()] if m == "GET"]
    routes += list(web_routes())
    client = Client()
    client.force_login(admin)
    alma = AlmaClient(key_for(admin))
    unmarked = []
    for route, view in routes:
        if not ABOUT_ONE_USER.search(route) or route in NOT_PATRON_DATA:
            continue
        if getattr(view, READ_ATTR, None):
            continue
        subject = patron.primary_id if route.startswith("/almaws/") else patron.pk
        path = PARAM.sub(
            lambda m, s=subject: str(
                s if (m.group(2) or m.group(3)) in ("pk", "user_id") else 999_999
            ),
            route,
        )
        path = path if path.startswith("/") else "/" + path
        if route.startswith("/almaws/"):
            answered = alma.get(path.removeprefix("/almaws/v1")).status_code
        else:
            answered = client.get(path).status_code
        if answered != 405:
            unmarked.append(route)
    assert not unmarked, "mark these with @reads_patron_data or list them: " + ", ".join(unmarked)


def test_a_search_records_its_query_and_number_of_results(admin, patron):
    client = Client()
    client.force_login(admin)
    client.get("/users/", {"q": "Patricia"})
    ApiClient(admin).get("/users", q="nobody-by-that-name")
    AlmaClient(key_for(admin)).get("/users", q="last_name~Reader")
    ui, api, alma = reads()
    assert ui.verb == api.verb == alma.verb == "users.searched"
    assert ui.details == {"query": "Patricia", "field": "all", "results": 1}
    assert api.details["results"] == 0 and api.channel == "api"
    assert alma.details == {"query": "last_name~Reader", "results": 1} and alma.channel == "api"


def test_refused_and_missing_records_log_nothing(user_manager, patron, no_roles):
    client = Client()
    client.force_login(no_roles)
    assert client.get(f"/users/{patron.pk}/").status_code == 403
    assert ApiClient(user_manager).get("/users/999999999").status_code == 404
    alma = AlmaClient(key_for(user_manager))
    assert alma.get("/users/nobody").status_code == 400  # Alma's 401861
    fees_only = AlmaClient(key_for(user_manager, permissions=("fines:fee:view",)))
    assert fees_only.get(f"/users/{patron.primary_id}").status_code == 403
    assert reads() == []


def test_the_cli_logs_show_and_find(admin, patron):
    out = io.StringIO()
    call_command("users", "show", "pat01", "--as", "admin", "--reason", "Desk query", stdout=out)
    call_command("users", "find", "Reader", "--as", "admin", stdout=out)
    shown, found = reads()
    assert shown.verb == "user.viewed" and shown.channel == "cli" and shown.reason == "Desk query"
    assert shown.subject_id == patron.pk and shown.actor == admin
    assert found.details == {"query": "Reader", "field": "all", "results": 1}


# --- the access reason -------------------------------------------------------------------------


@pytest.fixture
def reason_required(db):
    PrivacySettings.objects.update_or_create(pk=1, defaults={"access_reason": "required"})


def test_a_required_reason_is_asked_for_before_the_record_opens(admin, patron, reason_required):
    client = Client()
    client.force_login(admin)
    page = client.get(f"/users/{patron.pk}/", {"tab": "contact"})
    text = page.content.decode()
    assert "Why are you opening this patron" in text and "Patricia" not in text
    assert 'name="tab" value="contact"' in text  # the tab asked for is kept
    assert reads() == []
    opened = client.get(
        f"/users/{patron.pk}/", {"tab": "contact", "access_reason": "Returned mail"}, secure=True
    )
    assert "Patricia" in opened.content.decode()
    # Asked once per patron and session: the next tab opens straight away, with the reason.
    client.get(f"/users/{patron.pk}/", {"tab": "notes"})
    first, second = reads()
    assert first.reason == second.reason == "Returned mail"
    assert (first.details, second.details) == ({"tab": "contact"}, {"tab": "notes"})


def test_the_api_refuses_a_record_without_a_required_reason(admin, patron, reason_required):
    refused = ApiClient(admin).get(f"/users/{patron.pk}")
    assert refused.status_code == 422 and refused.json()["code"] == "access_reason_required"
    assert reads() == []
    response = ApiClient(admin).client.get(
        f"/api/v1/users/{patron.pk}", HTTP_X_ACCESS_REASON="Fine dispute"
    )
    assert response.status_code == 200
    assert [e.reason for e in reads()] == ["Fine dispute"]
    # Searches never ask.
    assert ApiClient(admin).get("/users", q="Reader").status_code == 200


def test_the_alma_api_refuses_a_record_without_a_required_reason(admin, patron, reason_required):
    alma = AlmaClient(key_for(admin))
    refused = alma.get("/users/pat01")
    message = refused.json_body["errorList"]["error"][0]["errorMessage"]
    assert refused.status_code == 400 and "X-Access-Reason" in message
    assert alma.get("/users/pat01/fees").status_code == 400
    assert reads() == []
    opened = alma.get("/users/pat01", headers={"X-Access-Reason": "Fine dispute"})
    assert opened.status_code == 200 and opened.json_body["primary_id"] == "pat01"
    assert [(e.verb, e.reason, e.subject_id) for e in reads()] == [
        ("user.viewed", "Fine dispute", patron.pk)
    ]
    assert alma.get("/users", q="last_name~Reader").status_code == 200  # searches never ask


def test_the_cli_refuses_a_record_without_a_required_reason(admin, patron, reason_required):
    with pytest.raises(CommandError, match="Say why you are opening"):
        call_command("users", "show", "pat01", "--as", "admin", stdout=io.StringIO())
    assert reads() == []


def test_an_optional_reason_is_recorded_when_given(admin, patron):
    PrivacySettings.objects.update_or_create(pk=1, defaults={"access_reason": "optional"})
    client = Client()
    client.force_login(admin)
    client.get(f"/users/{patron.pk}/")
    client.get(f"/users/{make_user().pk}/", {"access_reason": "Renewal"})
    assert [e.reason for e in reads()] == ["", "Renewal"]


def test_staff_who_only_see_cards_are_logged_too(patron):
    desk = make_staff("FULFILLMENT_OPERATOR")
    ApiClient(desk).get(f"/users/{patron.pk}")
    (event,) = reads()
    assert event.actor == desk and event.subject_id == patron.pk
