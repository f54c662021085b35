"""Seed 001's rules for granting roles: scopes, login models, shared desk logins, business
need, and delegated administration without escalation."""

import pytest

from patronage.access.actions import (
    grant_role,
    make_shared_desk_login,
    revoke_grant,
    set_login_model,
)
from patronage.access.catalogue import LEVELS, ROLE_TYPES, ROLES
from patronage.access.checks import can
from patronage.access.models import Role, RoleGrant
from patronage.access.permissions import RECORD_EDITING, Permission
from patronage.accounts import actions as accounts
from patronage.accounts.models import User
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, ValidationFailed
from tests.factories import (
    SYSTEM,
    actor_for,
    changes_of,
    make_department,
    make_desk,
    make_library,
    make_scope,
    make_staff,
    make_user,
)

pytestmark = pytest.mark.django_db


def role(code):
    return Role.objects.get(code=code)


def custom_staff(**fields):
    staff = make_staff(**fields)
    set_login_model(actor=SYSTEM, user=staff, login_model="CUSTOM")
    return User.objects.get(pk=staff.pk)


def refused_code(call) -> str:
    with pytest.raises(ValidationFailed) as refused:
        call()
    return refused.value.code


# --- the catalogue ----------------------------------------------------------------------------


def test_each_level_includes_all_functions_of_the_one_below():
    for role_type in ROLE_TYPES:
        held: set[str] = set()
        for level in LEVELS[: len(role_type.levels)]:
            permissions = set(role(f"{role_type.code}_{level}").permissions)
            assert held <= permissions, f"{role_type.code}_{level} lost a lower level's function"
            assert permissions != held
            held = permissions


def test_the_catalogue_has_the_seeds_role_types_and_administrator_roles():
    types = {role.role_type for role in Role.objects.exclude(role_type="")}
    assert {
        "ACQUISITIONS",
        "ANALYTICS",
        "COURSE_RESERVES",
        "DIGITAL",
        "ERESOURCES",
        "INVOICE_FINANCE",
        "FULFILLMENT",
        "RESOURCE_MANAGEMENT",
        "RESOURCE_SHARING",
        "TECHNICAL_SERVICES",
        "VENDOR_MAINTENANCE",
    } <= types
    assert {
        "USER_MANAGER",
        "USER_ADMINISTRATOR",
        "FULFILLMENT_ADMINISTRATOR",
        "GENERAL_SYSTEM_ADMINISTRATOR",
        "PRIVACY_OFFICER",
    } <= set(Role.objects.filter(is_admin=True).values_list("code", flat=True))
    assert Role.objects.filter(
        code="FULFILLMENT_OPERATOR_EXTENDED_PLUS", requires_mfa=True
    ).exists()


def test_every_permission_in_the_catalogue_is_in_the_vocabulary():
    vocabulary = set(Permission.values)
    for spec in ROLES:
        assert set(map(str, spec.permissions)) <= vocabulary, spec.code


def test_only_extended_plus_and_administrators_look_patrons_up_by_name():
    holders = (
        set(
            Role.objects.filter(
                permissions__contains=Permission.USERS_SEARCH_BY_NAME.value
            ).values_list("code", flat=True)
        )
        if False
        else {
            r.code for r in Role.objects.all() if Permission.USERS_SEARCH_BY_NAME in r.permissions
        }
    )
    assert holders == {
        "FULFILLMENT_OPERATOR_EXTENDED_PLUS",
        "USER_MANAGER",
        "USER_ADMINISTRATOR",
        "FULFILLMENT_ADMINISTRATOR",
        "PRIVACY_OFFICER",
        "GENERAL_SYSTEM_ADMINISTRATOR",
        "LOGIN_SYSTEMS",
    }


# --- scopes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "wrong_scope"),
    [
        ("FULFILLMENT_OPERATOR", "LIBRARY"),  # circulation roles: "currently at" desks
        ("ACQUISITIONS_OPERATOR", "CIRCULATION_DESK"),  # acquisitions: PO-line owners
        ("TECHNICAL_SERVICES_OPERATOR", "LIBRARY"),  # technical services: departments
        ("GENERAL_SYSTEM_ADMINISTRATOR", "LIBRARY"),
    ],
)
def test_a_grant_without_the_scope_its_role_requires_is_refused(admin, code, wrong_scope):
    staff = custom_staff()
    scope = make_scope(wrong_scope)
    assert (
        refused_code(
            lambda: grant_role(actor=actor_for(admin), user=staff, role=role(code), scope=scope)
        )
        == "scope_required"
    )
    assert not RoleGrant.objects.filter(user=staff, role__code=code).exists()


def test_technical_services_need_a_technical_services_department(admin):
    staff = custom_staff()
    library = make_library()
    work_orders = make_department(library, "DIGI", kind="WORK_ORDER")
    assert (
        refused_code(
            lambda: grant_role(
                actor=actor_for(admin),
                user=staff,
                role=role("TECHNICAL_SERVICES_OPERATOR"),
                scope=work_orders,
            )
        )
        == "scope_required"
    )
    assert grant_role(
        actor=actor_for(admin), user=staff, role=role("WORK_ORDERS_OPERATOR"), scope=work_orders
    )


def test_user_management_is_scoped_to_a_library_or_the_institution(admin):
    library_manager, institution_manager = custom_staff(), custom_staff()
    assert grant_role(
        actor=actor_for(admin),
        user=library_manager,
        role=role("USER_MANAGER"),
        scope=make_library(),
    )
    assert grant_role(actor=actor_for(admin), user=institution_manager, role=role("USER_MANAGER"))


# --- logins -------------------------------------------------------------------------------------


def test_roles_are_added_to_custom_logins_only(admin):
    staff = make_staff()
    set_login_model(actor=actor_for(admin), user=staff, login_model="VIEW")
    assert (
        refused_code(
            lambda: grant_role(actor=actor_for(admin), user=staff, role=role("ANALYTICS_OPERATOR"))
        )
        == "login_model_not_custom"
    )
    assert (
        refused_code(
            lambda: grant_role(actor=actor_for(admin), user=staff, role=role("LOGIN_SYSTEMS"))
        )
        == "login_model_role"
    )


def test_the_login_model_gives_its_functions_and_a_change_is_recorded(admin):
    staff = make_staff()
    set_login_model(actor=actor_for(admin), user=staff, login_model="VIEW_ANALYTICS")
    assert can(User.objects.get(pk=staff.pk), Permission.ANALYTICS_REPORTS)
    set_login_model(actor=actor_for(admin), user=staff, login_model="CUSTOM")
    grant_role(actor=actor_for(admin), user=staff, role=role("RESOURCE_MANAGEMENT_OPERATOR"))
    fresh = User.objects.get(pk=staff.pk)
    assert not can(fresh, Permission.ANALYTICS_REPORTS)
    assert can(fresh, Permission.CATALOGUE_EDIT)
    # Leaving Custom removes the custom roles: a View login has view functions only.
    set_login_model(actor=actor_for(admin), user=staff, login_model="VIEW")
    fresh = User.objects.get(pk=staff.pk)
    assert not can(fresh, Permission.CATALOGUE_EDIT)
    assert can(fresh, Permission.CATALOGUE_VIEW)
    changes = [
        (c["old"], c["new"])
        for e in AuditEvent.objects.filter(verb="user.login_model_changed", subject=staff).order_by(
            "id"
        )
        for c in changes_of(e)
    ]
    assert changes == [("", "VIEW_ANALYTICS"), ("VIEW_ANALYTICS", "CUSTOM"), ("CUSTOM", "VIEW")]


def test_patrons_have_no_staff_login(admin):
    patron = make_user()
    with pytest.raises(ValidationFailed):
        set_login_model(actor=actor_for(admin), user=patron, login_model="VIEW")


def test_a_shared_desk_login_holds_only_fulfillment_operator_at_its_desk(admin):
    library = make_library()
    desk, other_desk = make_desk(library, "D1"), make_desk(library, "D2")
    login = make_staff(first_name="Front", last_name="Desk")
    grant = make_shared_desk_login(
        actor=actor_for(admin), user=login, desk=desk, terminal="CIRC-PC-01"
    )
    assert grant.role.code == "FULFILLMENT_OPERATOR" and grant.circulation_desk == desk
    login = User.objects.get(pk=login.pk)
    for code, scope in [
        ("FULFILLMENT_OPERATOR", other_desk),
        ("FULFILLMENT_OPERATOR_EXTENDED", desk),
        ("USER_MANAGER", library),
        ("RESOURCE_MANAGEMENT_OPERATOR", None),
    ]:
        assert (
            refused_code(
                lambda code=code, scope=scope: grant_role(
                    actor=actor_for(admin), user=login, role=role(code), scope=scope
                )
            )
            == "shared_desk_login"
        )
    assert not RECORD_EDITING.intersection(
        p for g in RoleGrant.objects.active().filter(user=login) for p in g.role.permissions
    )


def test_work_under_a_shared_desk_login_records_the_terminal(admin):
    library = make_library()
    login = make_staff()
    make_shared_desk_login(
        actor=actor_for(admin), user=login, desk=make_desk(library), terminal="CIRC-PC-07"
    )
    from django.test import RequestFactory

    from patronage.audit.context import Actor

    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=login.pk)
    actor = Actor.from_request(request)
    assert actor.terminal == "CIRC-PC-07"


def test_a_students_extended_plus_grant_needs_a_business_need_note(admin):
    student = custom_staff(job_category="STUDENT_WORKER")
    desk = make_desk(make_library())
    plus = role("FULFILLMENT_OPERATOR_EXTENDED_PLUS")
    assert (
        refused_code(
            lambda: grant_role(actor=actor_for(admin), user=student, role=plus, scope=desk)
        )
        == "business_need_required"
    )
    grant = grant_role(
        actor=actor_for(admin),
        user=student,
        role=plus,
        scope=desk,
        note="Evening supervisor at the main desk; handles patron look-ups alone.",
    )
    assert grant.note.startswith("Evening supervisor")


# --- delegated administration ------------------------------------------------------------------


@pytest.fixture
def two_libraries():
    return make_library("LAW", "Law Library"), make_library("MED", "Medical Library")


def test_a_library_administrator_grants_only_within_their_library(two_libraries):
    law, med = two_libraries
    law_admin = make_staff("FULFILLMENT_ADMINISTRATOR", scope=law)
    staff = custom_staff()
    operator = role("FULFILLMENT_OPERATOR")
    assert grant_role(
        actor=actor_for(law_admin), user=staff, role=operator, scope=make_desk(law, "LAWD")
    )
    assert (
        refused_code(
            lambda: grant_role(
                actor=actor_for(law_admin), user=staff, role=operator, scope=make_desk(med, "MEDD")
            )
        )
        == "not_delegated"
    )


def test_only_roles_marked_grantable_by_the_administrators_role(two_libraries):
    law, _ = two_libraries
    law_admin = make_staff("FULFILLMENT_ADMINISTRATOR", scope=law)
    assert (
        refused_code(
            lambda: grant_role(
                actor=actor_for(law_admin),
                user=custom_staff(),
                role=role("USER_MANAGER"),
                scope=law,
            )
        )
        == "not_delegated"
    )


def test_nobody_grants_more_than_they_hold(two_libraries):
    law, _ = two_libraries
    # A User Administrator holds no fulfillment functions, so its role does not offer them.
    user_admin = make_staff("USER_ADMINISTRATOR", scope=law)
    staff = custom_staff()
    assert (
        refused_code(
            lambda: grant_role(
                actor=actor_for(user_admin),
                user=staff,
                role=role("FULFILLMENT_OPERATOR"),
                scope=make_desk(law),
            )
        )
        == "not_delegated"
    )
    assert grant_role(actor=actor_for(user_admin), user=staff, role=role("USER_MANAGER"), scope=law)
    # Should a role's grantable list ever reach past what it holds, the permissions decide.
    Role.objects.create(
        code="LOCAL_GRANTOR",
        name="Local grantor",
        permissions=[Permission.ROLES_GRANT],
        scope_types=["INSTITUTION"],
        grantable=["RESOURCE_MANAGEMENT_OPERATOR"],
    )
    grantor = make_staff("LOCAL_GRANTOR")
    assert (
        refused_code(
            lambda: grant_role(
                actor=actor_for(grantor),
                user=custom_staff(),
                role=role("RESOURCE_MANAGEMENT_OPERATOR"),
            )
        )
        == "escalation"
    )


def test_refused_attempts_are_logged(two_libraries):
    law, med = two_libraries
    law_admin = make_staff("FULFILLMENT_ADMINISTRATOR", scope=law)
    staff = custom_staff()
    with pytest.raises(ValidationFailed):
        grant_role(
            actor=actor_for(law_admin),
            user=staff,
            role=role("FULFILLMENT_OPERATOR"),
            scope=make_desk(med),
        )
    event = AuditEvent.objects.get(verb="role.grant_refused", subject=staff)
    assert event.actor == law_admin
    assert event.details["code"] == "not_delegated"


def test_nobody_changes_their_own_grants(admin):
    with pytest.raises(ValidationFailed) as refused:
        grant_role(actor=actor_for(admin), user=admin, role=role("PRIVACY_OFFICER"))
    assert refused.value.code == "self_grant"
    own = RoleGrant.objects.get(user=admin, role__code="GENERAL_SYSTEM_ADMINISTRATOR")
    with pytest.raises(ValidationFailed):
        revoke_grant(actor=actor_for(admin), grant=own)
    assert RoleGrant.objects.active().filter(pk=own.pk).exists()


def test_staff_without_the_grant_permission_are_forbidden(user_manager):
    with pytest.raises(Forbidden):
        grant_role(
            actor=actor_for(user_manager), user=custom_staff(), role=role("ANALYTICS_OPERATOR")
        )


def test_the_same_role_twice_in_the_same_scope_is_refused(admin):
    staff = make_staff("ANALYTICS_OPERATOR")
    assert (
        refused_code(
            lambda: grant_role(actor=actor_for(admin), user=staff, role=role("ANALYTICS_OPERATOR"))
        )
        == "already_held"
    )


def test_removing_a_role_ends_the_holders_sessions(admin):
    staff = make_staff("ANALYTICS_OPERATOR")
    before = User.objects.get(pk=staff.pk).auth_epoch
    grant = RoleGrant.objects.get(user=staff, role__code="ANALYTICS_OPERATOR")
    revoke_grant(actor=actor_for(admin), grant=grant, reason="Left the unit")
    assert User.objects.get(pk=staff.pk).auth_epoch == before + 1


def test_deactivating_a_user_takes_all_power_and_ends_sessions(admin):
    staff = make_staff("ANALYTICS_OPERATOR")
    before = User.objects.get(pk=staff.pk).auth_epoch
    accounts.update_user(actor=actor_for(admin), user=staff, fields={"status": "INACTIVE"})
    fresh = User.objects.get(pk=staff.pk)
    assert not can(fresh, Permission.ANALYTICS_REPORTS)
    assert fresh.auth_epoch == before + 1
