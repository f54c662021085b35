"""The roles API under /api/v1: the catalogue, a user's grants, granting and revoking, login
models, proposals and the access reports — each allowed, refused (403), out of reach (404)
and given bad input (422 with a clear message, nothing written)."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.utils import timezone

from patronage.access.actions import grant_role, save_assignment_rule
from patronage.access.models import Role, RoleGrant
from patronage.audit.models import AuditEvent
from tests.api.client import ApiClient
from tests.factories import SYSTEM, make_staff, make_user

pytestmark = pytest.mark.django_db


def role(code):
    return Role.objects.get(code=code)


def state() -> tuple[int, int, list]:
    """What a refused write must leave unchanged: grants, their end dates, login models."""
    grants = sorted(RoleGrant.objects.values_list("pk", "revoked_at"))
    from patronage.accounts.models import User

    return RoleGrant.objects.count(), User.objects.filter(login_model="").count(), grants


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json_body
    assert body["code"] == code, body
    assert body["message"]
    return body


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def desk_grant_body(desk, **extra) -> dict:
    return {
        "role": "FULFILLMENT_OPERATOR",
        "scope_type": "CIRCULATION_DESK",
        "scope_id": desk.pk,
        **extra,
    }


# --- GET /roles ---------------------------------------------------------------------------------


def test_the_catalogue_lists_roles_with_permissions_scopes_and_levels(privacy_officer):
    response = ApiClient(privacy_officer).get("/roles")
    assert response.status_code == 200
    roles = {r["code"]: r for r in response.json_body}
    plus = roles["FULFILLMENT_OPERATOR_EXTENDED_PLUS"]
    assert plus["role_type"] == "FULFILLMENT" and plus["level"] == "OPERATOR_EXTENDED_PLUS"
    assert plus["scope_types"] == ["CIRCULATION_DESK"]
    assert "users:patron:view_by_name" in plus["permissions"]
    assert plus["requires_mfa"] is True and plus["business_need_for_students"] is True
    assert roles["LOGIN_VIEW"]["login_model"] == "VIEW"
    assert roles["GENERAL_SYSTEM_ADMINISTRATOR"]["grantable"] == ["*"]


def test_the_catalogue_needs_the_permission_to_view_roles(user_manager):
    refused(ApiClient(user_manager).get("/roles"), 403, "permission_denied")


# --- GET /users/{id}/grants -----------------------------------------------------------------------


def test_a_users_grants(privacy_officer, clerk, front_desk, admin):
    grant_role(actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    response = ApiClient(privacy_officer).get(f"/users/{clerk.pk}/grants")
    assert response.status_code == 200
    by_role = {g["role"]: g for g in response.json_body}
    assert set(by_role) == {"LOGIN_CUSTOM", "FULFILLMENT_OPERATOR"}
    desk = by_role["FULFILLMENT_OPERATOR"]
    assert desk["scope_type"] == "CIRCULATION_DESK"
    assert desk["scope_id"] == front_desk.pk and desk["scope_name"] == "Front desk (MAIN)"
    assert desk["user_id"] == clerk.pk and desk["granted_by"] is None


def test_a_users_grants_as_csv(privacy_officer, clerk, front_desk):
    grant_role(actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    client = ApiClient(privacy_officer).client
    rows = csv_rows(client.get(f"/api/v1/users/{clerk.pk}/grants", {"format": "csv"}))
    assert rows[0][3] == "Role code"
    assert sorted(row[3] for row in rows[1:]) == ["FULFILLMENT_OPERATOR", "LOGIN_CUSTOM"]


def test_grants_refusals(user_manager, admin):
    refused(ApiClient(user_manager).get("/users/1/grants"), 403, "permission_denied")
    refused(ApiClient(admin).get("/users/999999/grants"), 404, "user_not_found")
    refused(ApiClient(admin).get("/users/1/grants", format="xml"), 422, "invalid_request")


# --- POST /users/{id}/grants --------------------------------------------------------------------


def test_granting_a_scoped_role(fulfillment_admin, clerk, front_desk):
    until = (timezone.now() + datetime.timedelta(days=30)).replace(microsecond=0)
    response = ApiClient(fulfillment_admin).post(
        f"/users/{clerk.pk}/grants",
        desk_grant_body(front_desk, valid_until=until.isoformat(), note="n", reason="Ticket 1"),
    )
    assert response.status_code == 201, response.content
    body = response.json_body
    assert body["role"] == "FULFILLMENT_OPERATOR" and body["granted_by"] == "fadmin"
    assert body["scope_id"] == front_desk.pk and body["note"] == "n"
    grant = RoleGrant.objects.get(pk=body["id"])
    assert grant.valid_until == until
    assert AuditEvent.objects.get(verb="role.granted", object_id=str(grant.pk)).reason == "Ticket 1"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"role": "EMPEROR"}, "unknown_role", "role"),
        ({"role": "FULFILLMENT_OPERATOR"}, "scope_required", "scope"),
        (
            {"role": "FULFILLMENT_OPERATOR", "scope_type": "CIRCULATION_DESK"},
            "validation_failed",
            "scope",
        ),
        (
            {"role": "FULFILLMENT_OPERATOR", "scope_type": "CIRCULATION_DESK", "scope_id": 99999},
            "validation_failed",
            "scope",
        ),
        ({"role": "FULFILLMENT_OPERATOR", "scope_type": "PLANET"}, "invalid_request", "scope_type"),
        ({"role": "LOGIN_SYSTEMS"}, "login_model_role", "role"),
        ({"role": "GENERAL_SYSTEM_ADMINISTRATOR"}, "not_delegated", "role"),
        ({"scope_type": "INSTITUTION"}, "invalid_request", "role"),
        (
            {
                "role": "FULFILLMENT_OPERATOR",
                "scope_type": "CIRCULATION_DESK",
                "scope_id": "{desk}",
                "valid_until": "2001-01-01T00:00:00Z",
            },
            "invalid_period",
            "valid_until",
        ),
        ({"role": "FULFILLMENT_OPERATOR", "note": "x" * 2001}, "invalid_request", "note"),
    ],
)
def test_bad_grants_are_422_with_the_refusal_code_and_nothing_written(
    fulfillment_admin, clerk, front_desk, body, code, field
):
    body = {k: (front_desk.pk if v == "{desk}" else v) for k, v in body.items()}
    before = state()
    response = ApiClient(fulfillment_admin).post(f"/users/{clerk.pk}/grants", body)
    result = refused(response, 422, code)
    assert field in (result.get("errors") or {}), result
    assert state() == before


def test_escalation_and_other_libraries_are_refused(fulfillment_admin, clerk, law_desk):
    client = ApiClient(fulfillment_admin)
    refused(
        client.post(f"/users/{clerk.pk}/grants", desk_grant_body(law_desk)), 422, "not_delegated"
    )
    refused(
        client.post(f"/users/{clerk.pk}/grants", {"role": "USER_MANAGER"}), 422, "not_delegated"
    )
    assert not RoleGrant.objects.filter(
        user=clerk, role__code__in=["FULFILLMENT_OPERATOR", "USER_MANAGER"]
    ).exists()


def test_granting_refusals_by_permission_and_reach(privacy_officer, admin, clerk, front_desk):
    patron = make_user()
    before = state()
    refused(
        ApiClient(privacy_officer).post(f"/users/{clerk.pk}/grants", desk_grant_body(front_desk)),
        403,
        "permission_denied",
    )
    refused(
        ApiClient(admin).post("/users/999999/grants", desk_grant_body(front_desk)),
        404,
        "user_not_found",
    )
    refused(
        ApiClient(admin).post(f"/users/{patron.pk}/grants", desk_grant_body(front_desk)),
        422,
        "not_staff",
    )
    assert state() == before


# --- DELETE /grants/{id} --------------------------------------------------------------------------


def test_revoking_a_grant(admin, clerk, front_desk):
    grant = grant_role(
        actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk
    )
    response = ApiClient(admin).delete(f"/grants/{grant.pk}?reason=Left+the+library")
    assert response.status_code == 204
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert AuditEvent.objects.get(verb="role.revoked", object_id=str(grant.pk)).reason == (
        "Left the library"
    )
    # a revoked grant is no longer there to revoke
    refused(ApiClient(admin).delete(f"/grants/{grant.pk}?reason=again"), 404, "grant_not_found")


def test_revoking_refusals(admin, privacy_officer, fulfillment_admin, clerk, front_desk, law_desk):
    grant = grant_role(actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=law_desk)
    before = state()
    refused(ApiClient(admin).delete(f"/grants/{grant.pk}"), 422, "invalid_request")
    refused(ApiClient(admin).delete(f"/grants/{grant.pk}?reason=+"), 422, "validation_failed")
    refused(
        ApiClient(privacy_officer).delete(f"/grants/{grant.pk}?reason=x"), 403, "permission_denied"
    )
    refused(ApiClient(admin).delete("/grants/999999?reason=x"), 404, "grant_not_found")
    refused(
        ApiClient(fulfillment_admin).delete(f"/grants/{grant.pk}?reason=x"), 422, "not_delegated"
    )
    login_grant = clerk.role_grants.get(role__code="LOGIN_CUSTOM")
    refused(ApiClient(admin).delete(f"/grants/{login_grant.pk}?reason=x"), 422, "login_model_role")
    assert state() == before


# --- PUT /users/{id}/login-model ----------------------------------------------------------------


def test_setting_the_login_model(admin, clerk, front_desk):
    grant_role(actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    response = ApiClient(admin).call(
        "PUT", f"/users/{clerk.pk}/login-model", {"login_model": "VIEW_ANALYTICS", "reason": "r"}
    )
    assert response.status_code == 200
    body = response.json_body
    assert body["login_model"] == "VIEW_ANALYTICS"
    assert [g["role"] for g in body["grants"]] == ["LOGIN_VIEW_ANALYTICS"]


def test_login_model_refusals(admin, privacy_officer, clerk):
    patron = make_user()
    before = state()
    client = ApiClient(admin)
    refused(
        client.call("PUT", f"/users/{clerk.pk}/login-model", {"login_model": "ROOT"}),
        422,
        "invalid_request",
    )
    refused(
        client.call("PUT", f"/users/{patron.pk}/login-model", {"login_model": "VIEW"}),
        422,
        "validation_failed",
    )
    refused(
        client.call("PUT", "/users/999999/login-model", {"login_model": "VIEW"}),
        404,
        "user_not_found",
    )
    refused(
        ApiClient(privacy_officer).call(
            "PUT", f"/users/{clerk.pk}/login-model", {"login_model": "VIEW"}
        ),
        403,
        "permission_denied",
    )
    assert state() == before


# --- GET /users/{id}/proposed-roles -------------------------------------------------------------


def test_proposed_roles(privacy_officer, user_manager):
    save_assignment_rule(
        actor=SYSTEM,
        basis="JOB_CATEGORY",
        code="CATALOGER",
        role=role("RESOURCE_MANAGEMENT_OPERATOR"),
    )
    cataloguer = make_staff(job_category="CATALOGER")
    response = ApiClient(privacy_officer).get(f"/users/{cataloguer.pk}/proposed-roles")
    assert response.json_body == [
        {
            "role": "RESOURCE_MANAGEMENT_OPERATOR",
            "role_name": "Resource Management Operator",
            "scope_types": ["INSTITUTION"],
            "because": ["JOB_CATEGORY:CATALOGER"],
        }
    ]
    refused(
        ApiClient(user_manager).get(f"/users/{cataloguer.pk}/proposed-roles"),
        403,
        "permission_denied",
    )
    refused(ApiClient(privacy_officer).get("/users/999999/proposed-roles"), 404, "user_not_found")


# --- reports ------------------------------------------------------------------------------------


def test_permission_holders(privacy_officer, admin, front_desk, law_desk, main_library):
    make_staff("FULFILLMENT_OPERATOR", scope=front_desk, primary_id="mainclerk")
    make_staff("FULFILLMENT_OPERATOR", scope=law_desk, primary_id="lawclerk")
    client = ApiClient(privacy_officer)
    response = client.get("/reports/permission-holders", role="FULFILLMENT_OPERATOR")
    assert sorted(h["primary_id"] for h in response.json_body) == ["lawclerk", "mainclerk"]
    response = client.get(
        "/reports/permission-holders", permission="users:user:view", library="MAIN"
    )
    assert sorted(h["primary_id"] for h in response.json_body) == ["admin", "mainclerk", "privacy"]
    holder = next(h for h in response.json_body if h["primary_id"] == "mainclerk")
    assert holder["grant"]["scope_name"] == "Front desk (MAIN)"
    rows = csv_rows(
        client.client.get(
            "/api/v1/reports/permission-holders", {"role": "FULFILLMENT_OPERATOR", "format": "csv"}
        )
    )
    assert sorted(row[0] for row in rows[1:]) == ["lawclerk", "mainclerk"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({}, "validation_failed"),
        ({"permission": "users:everything:own"}, "unknown_permission"),
        ({"role": "EMPEROR"}, "unknown_role"),
        ({"role": "USER_MANAGER", "library": "ATLANTIS"}, "validation_failed"),
        ({"role": "USER_MANAGER", "format": "pdf"}, "invalid_request"),
    ],
)
def test_permission_holders_refuse_bad_filters(privacy_officer, query, code):
    refused(ApiClient(privacy_officer).get("/reports/permission-holders", **query), 422, code)


def test_reports_need_the_report_permission(fulfillment_admin, clerk):
    client = ApiClient(fulfillment_admin)  # may view roles, not read reports
    refused(
        client.get("/reports/permission-holders", role="USER_MANAGER"), 403, "permission_denied"
    )
    refused(client.get(f"/reports/who-can-see/{clerk.pk}"), 403, "permission_denied")


def test_who_can_see_a_patron(privacy_officer, front_desk):
    patron = make_user(primary_id="patron1")
    make_staff("FULFILLMENT_OPERATOR", scope=front_desk, primary_id="deskclerk")
    expired = make_staff("FULFILLMENT_OPERATOR_EXTENDED_PLUS", scope=front_desk, primary_id="old")
    RoleGrant.objects.filter(user=expired, role__code__startswith="FULFILLMENT").update(
        valid_until=timezone.now() - datetime.timedelta(minutes=1)
    )
    client = ApiClient(privacy_officer)
    response = client.get(f"/reports/who-can-see/{patron.pk}")
    assert response.status_code == 200
    viewers = {v["primary_id"]: v for v in response.json_body["viewers"]}
    assert set(viewers) == {"privacy", "deskclerk"}
    assert list(viewers["deskclerk"]["permissions"]) == ["users:user:view"]
    assert [g["role"] for g in viewers["privacy"]["permissions"]["users:patron:view_by_name"]] == [
        "PRIVACY_OFFICER"
    ]
    rows = csv_rows(client.client.get(f"/api/v1/reports/who-can-see/{patron.pk}?format=csv"))
    assert sorted(row[0] for row in rows[1:]) == ["deskclerk", "privacy"]
    refused(client.get("/reports/who-can-see/999999"), 404, "user_not_found")
