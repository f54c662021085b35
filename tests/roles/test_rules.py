"""Role assignment rules (seed 002): listed, added and removed by those who configure user
management; each change audited."""

from __future__ import annotations

import pytest

from patronage.access.actions import remove_assignment_rule, save_assignment_rule
from patronage.access.models import Role, RoleAssignmentRule
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, ValidationFailed
from tests.factories import SYSTEM, actor_for

pytestmark = pytest.mark.django_db


def role(code):
    return Role.objects.get(code=code)


def rules() -> list[tuple[str, str, str]]:
    return sorted(RoleAssignmentRule.objects.values_list("basis", "code", "role__code"))


def test_the_page_lists_the_rules(as_admin):
    save_assignment_rule(
        actor=SYSTEM, basis="JOB_CATEGORY", code="CIRC_OPERATOR", role=role("FULFILLMENT_OPERATOR")
    )
    html = as_admin.get("/config/role-rules/").content.decode()
    assert "Circulation desk operator" in html and "Fulfillment Operator" in html
    assert 'value="JOB_CATEGORY:CATALOGER"' in html and 'value="USER_GROUP:STAFF"' in html
    # user groups of patrons only are not offered for staff rules
    assert 'value="USER_GROUP:UNDERGRAD"' not in html


def test_adding_a_rule(as_admin, admin):
    response = as_admin.post(
        "/config/role-rules/", {"source": "USER_GROUP:STAFF", "role": "ANALYTICS_OPERATOR"}
    )
    assert response.status_code == 302
    assert rules() == [("USER_GROUP", "STAFF", "ANALYTICS_OPERATOR")]
    event = AuditEvent.objects.get(verb="role_rule.added")
    assert event.actor == admin and event.details["role"] == "ANALYTICS_OPERATOR"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"source": "", "role": "ANALYTICS_OPERATOR"}, "Choose a job category or a user group."),
        (
            {"source": "JOB_CATEGORY:ASTRONAUT", "role": "ANALYTICS_OPERATOR"},
            "is not a job category",
        ),
        (
            {"source": "HAIR_COLOUR:RED", "role": "ANALYTICS_OPERATOR"},
            "Choose a job category or a user group.",
        ),
        ({"source": "USER_GROUP:STAFF", "role": ""}, "Choose a role."),
        ({"source": "USER_GROUP:STAFF", "role": "LOGIN_SYSTEMS"}, "comes with a login model"),
        ({"source": "USER_GROUP:STAFF", "role": "ANALYTICS_OPERATOR"}, "A rule already proposes"),
    ],
)
def test_bad_rules_are_refused_with_422_and_nothing_saved(as_admin, form, message):
    save_assignment_rule(
        actor=SYSTEM, basis="USER_GROUP", code="STAFF", role=role("ANALYTICS_OPERATOR")
    )
    before, events = rules(), AuditEvent.objects.count()
    response = as_admin.post("/config/role-rules/", form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert rules() == before
    assert AuditEvent.objects.count() == events


def test_removing_a_rule(as_admin):
    rule = save_assignment_rule(
        actor=SYSTEM, basis="USER_GROUP", code="STAFF", role=role("ANALYTICS_OPERATOR")
    )
    response = as_admin.post(f"/config/role-rules/{rule.pk}/remove/")
    assert response.status_code == 302
    assert rules() == []
    assert AuditEvent.objects.get(verb="role_rule.removed").details["code"] == "STAFF"
    assert as_admin.post(f"/config/role-rules/{rule.pk}/remove/").status_code == 404


def test_rules_are_configured_by_those_who_configure_user_management(as_manager, user_manager):
    rule = save_assignment_rule(
        actor=SYSTEM, basis="USER_GROUP", code="STAFF", role=role("ANALYTICS_OPERATOR")
    )
    assert as_manager.get("/config/role-rules/").status_code == 403
    assert (
        as_manager.post(
            "/config/role-rules/",
            {"source": "USER_GROUP:STAFF", "role": "VENDOR_MAINTENANCE_OPERATOR"},
        ).status_code
        == 403
    )
    assert as_manager.post(f"/config/role-rules/{rule.pk}/remove/").status_code == 403
    assert len(rules()) == 1
    with pytest.raises(Forbidden):
        remove_assignment_rule(actor=actor_for(user_manager), rule=rule)
    with pytest.raises(Forbidden):
        save_assignment_rule(
            actor=actor_for(user_manager),
            basis="USER_GROUP",
            code="STAFF",
            role=role("VENDOR_MAINTENANCE_OPERATOR"),
        )


def test_a_retired_role_cannot_be_proposed(db):
    Role.objects.filter(code="ANALYTICS_OPERATOR").update(retired=True)
    with pytest.raises(ValidationFailed) as refused:
        save_assignment_rule(
            actor=SYSTEM, basis="USER_GROUP", code="STAFF", role=role("ANALYTICS_OPERATOR")
        )
    assert "retired" in refused.value.errors["role"]


def test_the_menu_offers_the_rules_to_those_who_may_edit_them(as_admin, as_manager):
    assert "Role rules" in as_admin.get("/config/role-rules/").content.decode()
    assert "Role rules" not in as_manager.get("/users/").content.decode()
