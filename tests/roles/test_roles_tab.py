"""The Roles tab of a staff user's details: login model, grants in force with Revoke, the
Grant form (roles and scopes the viewer may grant), proposals, and shared desk logins."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from patronage.access.actions import grant_role, save_assignment_rule
from patronage.access.models import Role, RoleGrant
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from tests.factories import SYSTEM, make_staff, make_user

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "user-tabs"}


def role(code):
    return Role.objects.get(code=code)


def tab(client, user) -> str:
    response = client.get(f"/users/{user.pk}/roles/")
    assert response.status_code == 200
    return response.content.decode()


def grants_of(user) -> list[tuple[str, str]]:
    return sorted(
        (g.role.code, g.scope_label)
        for g in RoleGrant.objects.active().filter(user=user).select_related("role")
    )


def desk_choice(desk) -> str:
    return f"CIRCULATION_DESK:{desk.pk}"


# --- seeing the tab -----------------------------------------------------------------------------


def test_the_tab_shows_the_login_model_and_each_grant(as_admin, admin, clerk, front_desk):
    grant_role(
        actor=SYSTEM,
        user=clerk,
        role=role("FULFILLMENT_OPERATOR"),
        scope=front_desk,
        note="Evening shifts",
        valid_until=timezone.now() + datetime.timedelta(days=30),
    )
    html = tab(as_admin, clerk)
    assert 'id="login-model">Custom<' in html
    assert "Fulfillment Operator" in html and "Front desk (MAIN)" in html
    assert "Evening shifts" in html
    assert "Revoke" in html
    # the login model's own role is changed with the login model, not revoked alone
    assert "With the login model" in html


def test_the_tab_is_linked_from_a_staff_users_details_for_role_viewers_only(
    as_admin, as_manager, clerk
):
    assert (
        f'href="/users/{clerk.pk}/roles/"' in as_admin.get(f"/users/{clerk.pk}/").content.decode()
    )
    patron = make_user()
    assert "/roles/" not in as_admin.get(f"/users/{patron.pk}/").content.decode()
    assert "/roles/" not in as_manager.get(f"/users/{clerk.pk}/").content.decode()


def test_the_tab_is_an_htmx_partial_when_swapped_in(as_admin, clerk):
    response = as_admin.get(f"/users/{clerk.pk}/roles/", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="user-tabs">')
    assert 'aria-current="page" class="active">Roles<' in html


def test_without_the_permission_to_view_roles_the_tab_is_403(as_manager, clerk):
    assert as_manager.get(f"/users/{clerk.pk}/roles/").status_code == 403


def test_patrons_and_unknown_users_have_no_roles_tab(as_admin):
    patron = make_user()
    assert as_admin.get(f"/users/{patron.pk}/roles/").status_code == 404
    assert as_admin.get("/users/999999/roles/").status_code == 404


def test_viewers_who_may_not_grant_see_no_forms(as_privacy, clerk, front_desk):
    grant_role(actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    html = tab(as_privacy, clerk)
    assert "Fulfillment Operator" in html
    for form in ("Grant a role", "Revoke", "Change the login model", "shared desk login"):
        assert form not in html


def test_nobody_is_offered_to_change_their_own_roles(as_admin, admin):
    html = tab(as_admin, admin)
    assert "Nobody changes their own roles" in html
    assert "Grant a role" not in html


def test_the_grant_form_offers_only_the_roles_the_viewer_may_grant(as_fadmin, as_admin, clerk):
    mine = tab(as_fadmin, clerk)
    assert 'value="FULFILLMENT_OPERATOR_EXTENDED_PLUS"' in mine
    assert 'value="USER_MANAGER"' not in mine
    assert 'value="LOGIN_CUSTOM"' not in mine
    assert '<optgroup label="Fulfillment">' in mine
    everything = tab(as_admin, clerk)
    assert (
        'value="USER_MANAGER"' in everything and '<optgroup label="Administration">' in everything
    )


def test_the_scope_list_follows_the_chosen_role_and_the_granters_scope(
    as_fadmin, clerk, front_desk, law_desk
):
    response = as_fadmin.get(f"/users/{clerk.pk}/roles/scopes/", {"role": "FULFILLMENT_OPERATOR"})
    html = response.content.decode()
    assert response.status_code == 200
    assert desk_choice(front_desk) in html and desk_choice(law_desk) not in html
    assert 'optgroup label="Circulation desk"' in html
    empty = as_fadmin.get(f"/users/{clerk.pk}/roles/scopes/", {"role": ""}).content.decode()
    assert "Choose a role first" in empty


def test_the_scope_list_needs_the_permission_to_grant(as_privacy, clerk):
    response = as_privacy.get(f"/users/{clerk.pk}/roles/scopes/", {"role": "USER_MANAGER"})
    assert response.status_code == 403


# --- granting -----------------------------------------------------------------------------------


def test_granting_a_scoped_role(as_fadmin, fulfillment_admin, clerk, front_desk):
    response = as_fadmin.post(
        f"/users/{clerk.pk}/roles/grant/",
        {
            "role": "FULFILLMENT_OPERATOR_EXTENDED",
            "scope": desk_choice(front_desk),
            "valid_until": (timezone.localdate() + datetime.timedelta(days=90)).isoformat(),
            "note": "Covers the evening desk",
            "reason": "Ticket 4711",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/users/{clerk.pk}/roles/"
    grant = RoleGrant.objects.get(user=clerk, role__code="FULFILLMENT_OPERATOR_EXTENDED")
    assert grant.circulation_desk == front_desk
    assert grant.granted_by == fulfillment_admin
    assert grant.note == "Covers the evening desk"
    assert timezone.localtime(
        grant.valid_until
    ).date() == timezone.localdate() + datetime.timedelta(days=90)
    event = AuditEvent.objects.get(verb="role.granted", subject=clerk, object_id=str(grant.pk))
    assert event.reason == "Ticket 4711"


def test_granting_through_htmx_answers_with_the_refreshed_tab(as_admin, clerk, front_desk):
    response = as_admin.post(
        f"/users/{clerk.pk}/roles/grant/",
        {"role": "FULFILLMENT_OPERATOR", "scope": desk_choice(front_desk)},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Fulfillment Operator was granted (Front desk (MAIN))." in html
    assert grants_of(clerk) == [
        ("FULFILLMENT_OPERATOR", "Front desk (MAIN)"),
        ("LOGIN_CUSTOM", "Institution"),
    ]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"role": "", "scope": "INSTITUTION"}, "role", "Choose a role."),
        ({"role": "FULFILLMENT_OPERATOR", "scope": ""}, "scope", "Choose where the role applies."),
        (
            {"role": "FULFILLMENT_OPERATOR", "scope": "INSTITUTION"},
            "scope",
            "Fulfillment Operator must be limited to a circulation desk.",
        ),
        (
            {"role": "FULFILLMENT_OPERATOR", "scope": "CIRCULATION_DESK:99999"},
            "scope",
            "Choose an existing circulation desk.",
        ),
        (
            {"role": "FULFILLMENT_OPERATOR", "scope": "{desk}", "valid_until": "31/12/2030"},
            "valid_until",
            "Enter a date as YYYY-MM-DD.",
        ),
        (
            {"role": "FULFILLMENT_OPERATOR", "scope": "{desk}", "valid_until": "2001-01-01"},
            "valid_until",
            "The last day must be today or later.",
        ),
        (
            {"role": "LOGIN_SYSTEMS", "scope": "INSTITUTION"},
            "role",
            "Systems login comes with the login model; set the login model instead.",
        ),
    ],
)
def test_bad_input_is_shown_beside_its_field_with_422_and_nothing_granted(
    as_admin, clerk, front_desk, form, field, message
):
    form = {k: v.replace("{desk}", desk_choice(front_desk)) for k, v in form.items()}
    before = grants_of(clerk)
    response = as_admin.post(f"/users/{clerk.pk}/roles/grant/", form, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert '<details class="add" id="grant-role" open>' in html
    assert grants_of(clerk) == before


def test_a_refusal_by_the_grant_rules_is_shown_inline(as_fadmin, clerk, law_desk):
    # Desks of another library are not offered, and a forged post is refused by the action.
    response = as_fadmin.post(
        f"/users/{clerk.pk}/roles/grant/",
        {"role": "FULFILLMENT_OPERATOR", "scope": desk_choice(law_desk)},
    )
    assert response.status_code == 422
    assert "Your roles do not let you grant Fulfillment Operator in Law desk (LAW)." in (
        response.content.decode()
    )
    assert not RoleGrant.objects.filter(user=clerk, role__code="FULFILLMENT_OPERATOR").exists()
    assert AuditEvent.objects.filter(verb="role.grant_refused", subject=clerk).exists()


def test_roles_are_added_to_custom_logins_only(as_admin, front_desk):
    viewer = make_staff(primary_id="viewonly")
    response = as_admin.post(
        f"/users/{viewer.pk}/roles/grant/",
        {"role": "FULFILLMENT_OPERATOR", "scope": desk_choice(front_desk)},
    )
    assert response.status_code == 422
    assert "change the login model to Custom first" in response.content.decode()


def test_a_student_needs_a_business_need_note_for_extended_plus(as_admin, front_desk):
    student = make_staff(primary_id="student", job_category="STUDENT_WORKER")
    from patronage.access.actions import set_login_model

    set_login_model(actor=SYSTEM, user=student, login_model="CUSTOM")
    form = {"role": "FULFILLMENT_OPERATOR_EXTENDED_PLUS", "scope": desk_choice(front_desk)}
    response = as_admin.post(f"/users/{student.pk}/roles/grant/", form)
    assert response.status_code == 422
    assert "needs a note on the business need" in response.content.decode()
    response = as_admin.post(
        f"/users/{student.pk}/roles/grant/", {**form, "note": "Runs the desk alone at night"}
    )
    assert response.status_code == 302


def test_granting_needs_the_permission_to_grant(as_privacy, clerk, front_desk):
    response = as_privacy.post(
        f"/users/{clerk.pk}/roles/grant/",
        {"role": "FULFILLMENT_OPERATOR", "scope": desk_choice(front_desk)},
    )
    assert response.status_code == 403
    assert grants_of(clerk) == [("LOGIN_CUSTOM", "Institution")]


def test_granting_to_a_patron_or_unknown_user_is_404(as_admin, front_desk):
    patron = make_user()
    form = {"role": "FULFILLMENT_OPERATOR", "scope": desk_choice(front_desk)}
    assert as_admin.post(f"/users/{patron.pk}/roles/grant/", form).status_code == 404
    assert as_admin.post("/users/999999/roles/grant/", form).status_code == 404
    assert not RoleGrant.objects.filter(role__code="FULFILLMENT_OPERATOR").exists()


def test_writes_need_post(as_admin, clerk):
    assert as_admin.get(f"/users/{clerk.pk}/roles/grant/").status_code == 405


# --- revoking -----------------------------------------------------------------------------------


def test_revoking_a_grant_with_a_reason(as_admin, clerk, front_desk):
    grant = grant_role(
        actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk
    )
    response = as_admin.post(
        f"/users/{clerk.pk}/roles/{grant.pk}/revoke/", {"reason": "Left the desk"}, **HTMX
    )
    assert response.status_code == 200
    assert "Fulfillment Operator (Front desk (MAIN)) was removed." in response.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert AuditEvent.objects.get(verb="role.revoked", object_id=str(grant.pk)).reason == (
        "Left the desk"
    )


def test_revoking_needs_a_reason(as_admin, clerk, front_desk):
    grant = grant_role(
        actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk
    )
    response = as_admin.post(f"/users/{clerk.pk}/roles/{grant.pk}/revoke/", {"reason": " "})
    assert response.status_code == 422
    assert "Give the reason for removing the role." in response.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_revoking_outside_ones_delegation_is_refused_inline(
    as_fadmin, clerk, law_desk, main_library
):
    grant = grant_role(actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=law_desk)
    response = as_fadmin.post(f"/users/{clerk.pk}/roles/{grant.pk}/revoke/", {"reason": "x"})
    assert response.status_code == 422
    assert "Your roles do not let you remove Fulfillment Operator here." in (
        response.content.decode()
    )
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_a_grant_of_another_user_or_an_ended_one_is_404(as_admin, clerk, front_desk):
    other = make_staff("FULFILLMENT_OPERATOR", scope=front_desk)
    theirs = RoleGrant.objects.get(user=other, role__code="FULFILLMENT_OPERATOR")
    response = as_admin.post(f"/users/{clerk.pk}/roles/{theirs.pk}/revoke/", {"reason": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert (
        as_admin.post(f"/users/{clerk.pk}/roles/999999/revoke/", {"reason": "x"}).status_code == 404
    )


def test_revoking_needs_the_permission_to_grant(as_privacy, clerk, front_desk):
    grant = grant_role(
        actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk
    )
    assert (
        as_privacy.post(f"/users/{clerk.pk}/roles/{grant.pk}/revoke/", {"reason": "x"}).status_code
        == 403
    )


# --- login models and shared desk logins ---------------------------------------------------------


def test_changing_the_login_model(as_admin, clerk, front_desk):
    grant_role(actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    response = as_admin.post(
        f"/users/{clerk.pk}/login-model/",
        {"login_model": "VIEW", "reason": "Moved to reading room"},
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.login_model == "VIEW"
    assert grants_of(clerk) == [("LOGIN_VIEW", "Institution")]
    assert 'id="login-model">View<' in tab(as_admin, clerk)


@pytest.mark.parametrize(
    ("value", "message"), [("", "Choose a login model."), ("ROOT", "is not a login model")]
)
def test_a_bad_login_model_is_422_and_changes_nothing(as_admin, clerk, value, message):
    response = as_admin.post(f"/users/{clerk.pk}/login-model/", {"login_model": value})
    assert response.status_code == 422
    assert message in response.content.decode()
    clerk.refresh_from_db()
    assert clerk.login_model == "CUSTOM"


def test_changing_the_login_model_needs_the_permission_to_grant(as_privacy, clerk):
    response = as_privacy.post(f"/users/{clerk.pk}/login-model/", {"login_model": "VIEW"})
    assert response.status_code == 403
    assert User.objects.get(pk=clerk.pk).login_model == "CUSTOM"


def test_making_a_shared_desk_login(as_admin, front_desk):
    terminal = make_staff(primary_id="frontdesk1")
    response = as_admin.post(
        f"/users/{terminal.pk}/shared-desk/",
        {"desk": str(front_desk.pk), "terminal": "FD-PC-1", "reason": "New terminal"},
    )
    assert response.status_code == 302
    terminal.refresh_from_db()
    assert terminal.shared_desk == front_desk and terminal.terminal == "FD-PC-1"
    assert ("FULFILLMENT_OPERATOR", "Front desk (MAIN)") in grants_of(terminal)
    html = tab(as_admin, terminal)
    assert "shared login of <strong>Front desk (MAIN)</strong>" in html


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"desk": "", "terminal": "T1"}, "Choose a circulation desk."),
        ({"desk": "999999", "terminal": "T1"}, "Choose a circulation desk."),
        ({"desk": "{desk}", "terminal": " "}, "Name the terminal this login is used on."),
    ],
)
def test_a_shared_desk_login_needs_a_desk_and_a_terminal(as_admin, front_desk, form, message):
    terminal = make_staff(primary_id="frontdesk1")
    form = {k: v.replace("{desk}", str(front_desk.pk)) for k, v in form.items()}
    response = as_admin.post(f"/users/{terminal.pk}/shared-desk/", form)
    assert response.status_code == 422
    assert message in response.content.decode()
    terminal.refresh_from_db()
    assert terminal.shared_desk is None and terminal.login_model == ""


# --- proposals of the role assignment rules ----------------------------------------------------


@pytest.fixture
def circ_rule(db):
    return save_assignment_rule(
        actor=SYSTEM, basis="JOB_CATEGORY", code="CIRC_OPERATOR", role=role("FULFILLMENT_OPERATOR")
    )


def test_proposals_are_shown_and_applied_in_a_chosen_scope(as_fadmin, circ_rule, front_desk):
    clerk = make_staff(primary_id="newclerk", job_category="CIRC_OPERATOR")
    from patronage.access.actions import set_login_model

    set_login_model(actor=SYSTEM, user=clerk, login_model="CUSTOM")
    html = tab(as_fadmin, clerk)
    assert 'id="proposal-FULFILLMENT_OPERATOR"' in html
    assert "Job category CIRC_OPERATOR" in html
    assert "Apply" in html and desk_choice(front_desk) in html

    missing_scope = as_fadmin.post(
        f"/users/{clerk.pk}/roles/apply/", {"role": "FULFILLMENT_OPERATOR", "scope": ""}
    )
    assert missing_scope.status_code == 422
    assert "Choose where the role applies." in missing_scope.content.decode()

    response = as_fadmin.post(
        f"/users/{clerk.pk}/roles/apply/",
        {"role": "FULFILLMENT_OPERATOR", "scope": desk_choice(front_desk)},
    )
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user=clerk, role__code="FULFILLMENT_OPERATOR")
    assert AuditEvent.objects.get(verb="role.granted", object_id=str(grant.pk)).reason == (
        "role assignment rule"
    )
    assert 'id="proposal-FULFILLMENT_OPERATOR"' not in tab(as_fadmin, clerk)


def test_only_a_role_a_rule_proposes_can_be_applied(as_admin, clerk, circ_rule, front_desk):
    response = as_admin.post(
        f"/users/{clerk.pk}/roles/apply/",
        {"role": "FULFILLMENT_OPERATOR", "scope": desk_choice(front_desk)},
    )
    assert response.status_code == 422
    assert "No role assignment rule proposes this role now." in response.content.decode()
    assert not RoleGrant.objects.filter(user=clerk, role__code="FULFILLMENT_OPERATOR").exists()


def test_viewers_who_may_not_grant_the_proposed_role_see_no_apply_button(as_privacy, circ_rule):
    clerk = make_staff(primary_id="newclerk", job_category="CIRC_OPERATOR")
    html = tab(as_privacy, clerk)
    assert 'id="proposal-FULFILLMENT_OPERATOR"' in html
    assert "A user administrator may apply it." in html
    assert "/roles/apply/" not in html
