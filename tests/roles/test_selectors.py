"""What the forms offer and what the reports count (``access.selectors``)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from patronage.access import selectors
from patronage.access.actions import grant_role, revoke_grant, save_assignment_rule
from patronage.access.models import Role, RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts.models import User
from tests.factories import SYSTEM, make_staff, make_user

pytestmark = pytest.mark.django_db
P = Permission


def role(code: str) -> Role:
    return Role.objects.get(code=code)


def custom_staff(**fields) -> User:
    user = make_staff(**fields)
    from patronage.access.actions import set_login_model

    set_login_model(actor=SYSTEM, user=user, login_model="CUSTOM")
    return User.objects.get(pk=user.pk)


# --- what a viewer may grant ----------------------------------------------------------------------


def test_a_fulfillment_administrator_is_offered_the_fulfillment_roles_only(fulfillment_admin):
    codes = {r.code for r in selectors.grantable_roles(fulfillment_admin)}
    assert codes == {
        "FULFILLMENT_OPERATOR",
        "FULFILLMENT_OPERATOR_EXTENDED",
        "FULFILLMENT_OPERATOR_EXTENDED_PLUS",
    }


def test_roles_giving_what_the_granter_does_not_hold_are_not_offered(main_library):
    # A User Administrator may grant fulfillment roles, but does not check items out itself:
    # granting them would be escalation, so they are not offered (the action refuses too).
    user_admin = make_staff("USER_ADMINISTRATOR", scope=main_library)
    codes = {r.code for r in selectors.grantable_roles(user_admin)}
    assert codes == {"USER_MANAGER", "USER_ADMINISTRATOR"}


def test_people_who_may_not_grant_are_offered_nothing(user_manager, privacy_officer):
    assert selectors.grantable_roles(user_manager) == []
    assert selectors.grantable_roles(privacy_officer) == []


def test_login_model_and_retired_roles_are_never_offered(admin):
    Role.objects.filter(code="VENDOR_MAINTENANCE_OPERATOR").update(retired=True)
    codes = {r.code for r in selectors.grantable_roles(admin)}
    assert "VENDOR_MAINTENANCE_OPERATOR" not in codes
    assert not any(code.startswith("LOGIN_") for code in codes)
    assert "GENERAL_SYSTEM_ADMINISTRATOR" in codes


def test_roles_are_grouped_by_role_type_with_the_administrator_roles_last(admin):
    groups = selectors.grouped_roles(selectors.grantable_roles(admin))
    labels = [label for label, _ in groups]
    assert "Fulfillment" in labels and labels[-1] == "Administration"
    fulfillment = dict(groups)["Fulfillment"]
    assert [r.level for r in fulfillment] == [
        "OPERATOR",
        "OPERATOR_EXTENDED",
        "OPERATOR_EXTENDED_PLUS",
    ]


def test_the_scopes_offered_follow_the_roles_scope_types_and_the_granters_own_scope(
    fulfillment_admin, admin, front_desk, reserves_desk, law_desk, main_library
):
    mine = dict(selectors.grantable_scopes(fulfillment_admin, role("FULFILLMENT_OPERATOR")))
    assert list(mine) == ["Circulation desk"]
    assert {label for _, label in mine["Circulation desk"]} == {
        "Front desk (MAIN)",
        "Reserves desk (MAIN)",
    }
    everywhere = dict(selectors.grantable_scopes(admin, role("FULFILLMENT_OPERATOR")))
    assert f"CIRCULATION_DESK:{law_desk.pk}" in {v for v, _ in everywhere["Circulation desk"]}
    user_manager_scopes = dict(selectors.grantable_scopes(admin, role("USER_MANAGER")))
    assert set(user_manager_scopes) == {"Library", "Institution"}
    assert user_manager_scopes["Institution"] == [("INSTITUTION", "Whole institution")]


def test_department_roles_offer_departments_of_their_kind_only(admin, main_library):
    from tests.factories import make_department

    ts = make_department(main_library, "TS", kind="TECHNICAL_SERVICES")
    wo = make_department(main_library, "WO", kind="WORK_ORDER")
    offered = dict(selectors.grantable_scopes(admin, role("TECHNICAL_SERVICES_OPERATOR")))
    values = {v for v, _ in offered["Department"]}
    assert f"DEPARTMENT:{ts.pk}" in values and f"DEPARTMENT:{wo.pk}" not in values


def test_scope_choices_resolve_to_their_units_and_refuse_anything_else(front_desk, main_library):
    assert selectors.parse_scope_choice(f"CIRCULATION_DESK:{front_desk.pk}") == front_desk
    assert selectors.parse_scope_choice(f"LIBRARY:{main_library.pk}") == main_library
    assert selectors.parse_scope_choice("INSTITUTION") is None
    for bad in ("", "LIBRARY:999999", "LIBRARY:x", "PLANET:1", f"LIBRARY:{2**70}"):
        with pytest.raises(selectors.ValidationFailed) as refused:
            selectors.parse_scope_choice(bad)
        assert "scope" in refused.value.errors


# --- proposals --------------------------------------------------------------------------------


def test_rules_propose_roles_by_job_category_and_user_group_not_yet_held(admin, front_desk):
    save_assignment_rule(
        actor=SYSTEM, basis="JOB_CATEGORY", code="CIRC_OPERATOR", role=role("FULFILLMENT_OPERATOR")
    )
    save_assignment_rule(
        actor=SYSTEM, basis="USER_GROUP", code="STAFF", role=role("FULFILLMENT_OPERATOR")
    )
    save_assignment_rule(
        actor=SYSTEM, basis="USER_GROUP", code="FACULTY", role=role("COURSE_RESERVES_OPERATOR")
    )
    clerk = custom_staff(job_category="CIRC_OPERATOR")
    proposals = selectors.proposed_roles(clerk)
    assert [p.role.code for p in proposals] == ["FULFILLMENT_OPERATOR"]
    assert proposals[0].reasons == "Job category CIRC_OPERATOR; User group STAFF"

    grant_role(actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    assert selectors.proposed_roles(clerk) == []


def test_retired_roles_are_not_proposed_and_patrons_get_no_proposals(db):
    save_assignment_rule(
        actor=SYSTEM, basis="USER_GROUP", code="STAFF", role=role("ANALYTICS_OPERATOR")
    )
    save_assignment_rule(
        actor=SYSTEM, basis="USER_GROUP", code="UNDERGRAD", role=role("ANALYTICS_OPERATOR")
    )
    assert selectors.proposed_roles(make_user()) == []
    staff = custom_staff()
    assert [p.role.code for p in selectors.proposed_roles(staff)] == ["ANALYTICS_OPERATOR"]
    Role.objects.filter(code="ANALYTICS_OPERATOR").update(retired=True)
    assert selectors.proposed_roles(staff) == []


def test_a_revoked_or_expired_grant_makes_the_role_proposed_again(front_desk):
    save_assignment_rule(
        actor=SYSTEM, basis="JOB_CATEGORY", code="CIRC_OPERATOR", role=role("FULFILLMENT_OPERATOR")
    )
    clerk = custom_staff(job_category="CIRC_OPERATOR")
    grant = grant_role(
        actor=SYSTEM, user=clerk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk
    )
    revoke_grant(actor=SYSTEM, grant=grant)
    assert [p.role.code for p in selectors.proposed_roles(clerk)] == ["FULFILLMENT_OPERATOR"]


# --- who can see a patron ------------------------------------------------------------------------


@pytest.fixture
def patron(db):
    return make_user(primary_id="patron1", first_name="Pat", last_name="Ron")


def test_who_can_see_lists_each_person_with_the_grants_that_give_each_permission(
    admin, patron, front_desk, law_desk
):
    desk = custom_staff(primary_id="desk", last_name="Desk")
    grant_role(actor=SYSTEM, user=desk, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    grant_role(actor=SYSTEM, user=desk, role=role("FULFILLMENT_OPERATOR"), scope=law_desk)
    plus = custom_staff(primary_id="plus", last_name="Plus")
    grant_role(
        actor=SYSTEM,
        user=plus,
        role=role("FULFILLMENT_OPERATOR_EXTENDED_PLUS"),
        scope=front_desk,
    )
    custom_staff(primary_id="nobody")  # a custom login without roles sees no one
    viewers = {v.user.primary_id: v for v in selectors.who_can_see(admin, patron)}
    assert set(viewers) == {"admin", "desk", "plus"}
    # Users are institution-wide: a grant at any desk reaches every user record.
    assert [g.scope_label for g in viewers["desk"].by(P.USERS_VIEW)] == [
        "Front desk (MAIN)",
        "Law desk (LAW)",
    ]
    assert viewers["desk"].by(P.USERS_SEARCH_BY_NAME) == []
    assert viewers["desk"].by(P.USERS_VIEW_DETAILS) == []
    for permission in selectors.SEEING_A_USER:
        assert [g.role.code for g in viewers["plus"].by(permission)] == [
            "FULFILLMENT_OPERATOR_EXTENDED_PLUS"
        ]


def test_expired_future_and_revoked_grants_and_inactive_staff_do_not_count(
    admin, patron, front_desk
):
    now = timezone.now()
    day = datetime.timedelta(days=1)
    fulfil = role("FULFILLMENT_OPERATOR_EXTENDED_PLUS")
    expired = custom_staff(primary_id="expired")
    grant_role(
        actor=SYSTEM,
        user=expired,
        role=fulfil,
        scope=front_desk,
        valid_from=now - 3 * day,
        valid_until=now - day,
    )
    future = custom_staff(primary_id="future")
    grant_role(actor=SYSTEM, user=future, role=fulfil, scope=front_desk, valid_from=now + day)
    revoked = custom_staff(primary_id="revoked")
    revoke_grant(
        actor=SYSTEM,
        grant=grant_role(actor=SYSTEM, user=revoked, role=fulfil, scope=front_desk),
    )
    inactive = custom_staff(primary_id="inactive")
    grant_role(actor=SYSTEM, user=inactive, role=fulfil, scope=front_desk)
    User.objects.filter(pk=inactive.pk).update(status="INACTIVE")
    current = custom_staff(primary_id="current")
    grant_role(actor=SYSTEM, user=current, role=fulfil, scope=front_desk, valid_until=now + day)
    seen_by = [v.user.primary_id for v in selectors.who_can_see(admin, patron)]
    assert sorted(seen_by) == ["admin", "current"]


def test_who_can_see_costs_the_same_few_queries_however_many_people(
    admin, patron, front_desk, django_assert_max_num_queries
):
    for n in range(12):
        staff = custom_staff(primary_id=f"s{n}")
        grant_role(actor=SYSTEM, user=staff, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    with django_assert_max_num_queries(3):
        viewers = selectors.who_can_see(admin, patron)
        text = [g.scope_label + g.user.display_name for v in viewers for g in v.by(P.USERS_VIEW)]
    assert len(text) == 13


# --- who holds a permission or role --------------------------------------------------------------


def test_holders_of_a_permission_role_and_in_a_library(
    admin, main_library, law_library, front_desk, law_desk, django_assert_max_num_queries
):
    at_main = custom_staff(primary_id="atmain")
    grant_role(actor=SYSTEM, user=at_main, role=role("FULFILLMENT_OPERATOR"), scope=front_desk)
    at_law = custom_staff(primary_id="atlaw")
    grant_role(actor=SYSTEM, user=at_law, role=role("FULFILLMENT_OPERATOR"), scope=law_desk)
    manager = custom_staff(primary_id="manager")
    grant_role(actor=SYSTEM, user=manager, role=role("USER_MANAGER"), scope=law_library)

    with django_assert_max_num_queries(3):
        holders = selectors.permission_holders(admin, permission=P.USERS_SEARCH_BY_NAME)
        rows = [(g.user.primary_id, g.role.code, g.scope_label) for g in holders]
    assert rows == [
        ("admin", "GENERAL_SYSTEM_ADMINISTRATOR", "Institution"),
        ("manager", "USER_MANAGER", "Law Library"),
    ]
    by_role = selectors.permission_holders(admin, role=role("FULFILLMENT_OPERATOR"))
    assert {g.user.primary_id for g in by_role} == {"atlaw", "atmain"}
    in_main = selectors.permission_holders(admin, permission=P.USERS_VIEW, library=main_library)
    assert {g.user.primary_id for g in in_main} == {"admin", "atmain"}


def test_holders_need_a_known_permission_or_a_role(admin):
    with pytest.raises(selectors.ValidationFailed) as refused:
        selectors.permission_holders(admin)
    assert "permission" in refused.value.errors
    with pytest.raises(selectors.ValidationFailed) as refused:
        selectors.permission_holders(admin, permission="users:everything:own")
    assert refused.value.code == "unknown_permission"


def test_current_grants_include_scheduled_ones_but_not_ended_ones(admin, front_desk):
    clerk = custom_staff()
    now = timezone.now()
    fulfil = role("FULFILLMENT_OPERATOR")
    scheduled = grant_role(
        actor=SYSTEM,
        user=clerk,
        role=fulfil,
        scope=front_desk,
        valid_from=now + datetime.timedelta(days=1),
    )
    ended = grant_role(
        actor=SYSTEM,
        user=clerk,
        role=role("FULFILLMENT_OPERATOR_EXTENDED"),
        scope=front_desk,
        valid_until=now - datetime.timedelta(seconds=1),
    )
    ids = set(selectors.current_grants(admin, clerk).values_list("pk", flat=True))
    assert scheduled.pk in ids and ended.pk not in ids
    assert RoleGrant.objects.filter(pk=ended.pk).exists()
