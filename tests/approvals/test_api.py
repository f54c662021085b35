"""/api/v1 for the whole flow: allowed callers succeed, others get 403, unknown or unseen
requests 404, bad input 422, steps out of order 409."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from patronage.access.models import RoleGrant
from patronage.approvals.models import RoleRequest, Separation
from tests.api.client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def file_body(org, **extra):
    return {
        "subject_id": org.new_hire.pk,
        "kind": "NEW",
        "login_type": "CUSTOM",
        "rationale": "Evening desk shifts",
        "lines": [
            {
                "action": "ADD",
                "role": "FULFILLMENT_OPERATOR_EXTENDED",
                "scope_type": "CIRCULATION_DESK",
                "scope_id": org.desk.pk,
            }
        ],
        **extra,
    }


def test_the_whole_path_through_the_api(org):
    filed = ApiClient(org.supervisor).post("/role-requests", file_body(org))
    assert filed.status_code == 201, filed.json_body
    body = filed.json_body
    assert body["status"] == "AWAITING_DECISION" and body["due_at"]
    pk, line = body["id"], body["lines"][0]["id"]

    lead = ApiClient(org.fulfillment_lead)
    assert [t["request"]["id"] for t in lead.get("/role-requests/inbox").json_body] == [pk]
    decided = lead.post(f"/role-requests/{pk}/lines/{line}/decision", {"approve": True})
    assert decided.status_code == 200 and decided.json_body["status"] == "AWAITING_FORM"

    person = ApiClient(org.new_hire)
    # the new hire has no staff login yet: they sign through the UI session of their base
    # account; the API answers them like anyone without the permission
    assert person.get(f"/role-requests/{pk}/privacy-form").status_code == 403
    from patronage.approvals import actions
    from tests.factories import actor_for

    actions.sign_privacy_form(
        actor=actor_for(org.new_hire), request=RoleRequest.objects.get(pk=pk), version=1
    )
    it = ApiClient(org.it)
    assert it.post(f"/role-requests/{pk}/sandbox-grants").json_body["status"] == "IN_TRAINING"
    trained = lead.post(f"/role-requests/{pk}/training", {"area": "FULFILLMENT"})
    assert trained.json_body["status"] == "AWAITING_PRODUCTION"
    done = it.post(f"/role-requests/{pk}/production-grants")
    assert done.json_body["status"] == "COMPLETED"
    assert done.json_body["lines"][0]["production_grant_id"]


def test_refusals(org):
    supervisor = ApiClient(org.supervisor)
    body = file_body(org, lines=[{"action": "ADD", "role": "NOPE"}])
    refused = supervisor.post("/role-requests", body)
    assert refused.status_code == 422 and "lines[0]" in refused.json_body["errors"]
    assert not RoleRequest.objects.exists()

    pk = supervisor.post("/role-requests", file_body(org)).json_body["id"]
    line = RoleRequest.objects.get(pk=pk).lines.get().pk
    wrong_lead = ApiClient(org.analytics_lead).post(
        f"/role-requests/{pk}/lines/{line}/decision", {"approve": True}
    )
    assert wrong_lead.status_code in (403, 404)
    out_of_order = ApiClient(org.it).post(f"/role-requests/{pk}/production-grants")
    assert out_of_order.status_code == 409 and out_of_order.json_body["code"] == "out_of_order"
    assert ApiClient(org.colleague).get(f"/role-requests/{pk}").status_code == 404
    assert ApiClient(org.supervisor).get("/role-requests/999999").status_code == 404
    assert ApiClient(org.supervisor).post(f"/role-requests/{pk}/sandbox-grants").status_code == 403


def test_lead_not_of_the_area_is_refused_with_its_code(org):
    # A lead who sees the request (for another line, of their own role type) does not decide
    # a role they do not own.
    body = file_body(org)
    body["lines"].append({"action": "ADD", "role": "ANALYTICS_OPERATOR"})
    pk = ApiClient(org.supervisor).post("/role-requests", body).json_body["id"]
    fulfillment_line = RoleRequest.objects.get(pk=pk).lines.get(role__role_type="FULFILLMENT").pk
    refused = ApiClient(org.analytics_lead).post(
        f"/role-requests/{pk}/lines/{fulfillment_line}/decision", {"approve": True}
    )
    assert refused.status_code == 403 and refused.json_body["code"] == "not_area_lead"


def test_separation_file_through_the_api(org):
    from django.utils import timezone

    content = f"primary_id,separation_date\ncole,{timezone.localdate()}\nghost,2026-01-01\n"
    client = Client()
    client.force_login(org.it)
    response = client.post(
        "/api/v1/separations/file",
        {"file": io.BytesIO(content.encode())},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == 1 and body["errors"] == 1
    assert body["rows"][1]["message"] == "No user has this primary ID."
    assert Separation.objects.get().user == org.colleague
    supervisor = Client()
    supervisor.force_login(org.supervisor)
    assert (
        supervisor.post("/api/v1/separations/file", {"file": io.BytesIO(b"x")}).status_code == 403
    )


def test_one_separation_and_a_transfer(org):
    from patronage.approvals.models import Unit

    it = ApiClient(org.it)
    other = Unit.objects.create(code="OTHER", name="Other unit")
    moved = it.post(f"/users/{org.liaison.pk}/transfer", {"unit": "other"})
    assert moved.status_code == 200 and moved.json_body == {"removed": [], "review": []}
    assert it.post(f"/users/{org.liaison.pk}/transfer", {"unit": "NOPE"}).status_code == 422
    separated = it.post(
        "/separations", {"user_id": org.colleague.pk, "separation_date": "2026-01-02"}
    )
    assert separated.status_code == 201 and separated.json_body["completed"]
    assert not RoleGrant.objects.active().filter(user=org.colleague).exists()
    assert other.placements.count() == 1


def test_acknowledgement_through_the_api(admin, user_manager):
    from patronage.approvals.acknowledgement_actions import publish_policy
    from tests.factories import SYSTEM

    policy = publish_policy(actor=SYSTEM, title="Policy", text="Text")
    client = ApiClient(admin)
    state = client.get("/confidentiality-policy").json_body
    assert state["required"] and state["policy"]["version"] == policy.version
    refused = client.get("/users", q="Person", field="name")
    assert refused.status_code in (200, 403)
    assert (
        client.post("/confidentiality-policy/acknowledgements", {"version": 99}).status_code == 422
    )
    done = client.post("/confidentiality-policy/acknowledgements", {"version": policy.version})
    assert done.status_code == 201 and not done.json_body["required"]
    report = client.get("/reports/confidentiality-acknowledgements", lapsed_only=True).json_body
    assert user_manager.primary_id in [row["primary_id"] for row in report]
    assert admin.primary_id not in [row["primary_id"] for row in report]
    assert (
        ApiClient(user_manager).get("/reports/confidentiality-acknowledgements").status_code == 403
    )


def test_a_scope_that_does_not_fit_the_role_is_refused_with_what_fits(org):
    body = file_body(org)
    body["lines"][0].update(scope_type="LIBRARY", scope_id=org.desk.library.pk)
    refused = ApiClient(org.supervisor).post("/role-requests", body)
    assert refused.status_code == 422
    assert refused.json_body["code"] == "invalid_lines"
    assert refused.json_body["errors"]["lines[0]"] == (
        "Fulfillment Operator Extended must be limited to a circulation desk. "
        "Main Library is a library."
    )
    assert not RoleRequest.objects.exists()
