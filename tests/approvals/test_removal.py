"""Seed 003 "Removing roles": separations from HR, transfers, grants that end."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from patronage.access.actions import grant_role
from patronage.access.api_key_actions import create_api_key
from patronage.access.models import ApiKey, Role, RoleGrant
from patronage.approvals.models import GrantNotice, Separation, Unit
from patronage.approvals.removal_actions import (
    process_separation_file,
    run_daily,
    separate,
    transfer,
)
from patronage.audit.models import AuditEvent
from patronage.errors import Forbidden, ValidationFailed
from patronage.organization.models import Library
from tests.factories import SYSTEM, actor_for, make_desk

pytestmark = pytest.mark.django_db


def role(code):
    return Role.objects.get(code=code)


def holding_roles(org):
    colleague = org.colleague
    grant_role(actor=SYSTEM, user=colleague, role=role("FULFILLMENT_OPERATOR"), scope=org.desk)
    grant_role(
        actor=SYSTEM,
        user=colleague,
        role=role("FULFILLMENT_OPERATOR"),
        scope=org.desk,
        environment="sandbox",
    )
    grant_role(actor=SYSTEM, user=colleague, role=role("ANALYTICS_OPERATOR"))
    create_api_key(actor=SYSTEM, owner=colleague, name="Reports script")
    colleague.refresh_from_db()
    return colleague


def test_a_separation_today_removes_everything_at_once(org):
    colleague = holding_roles(org)
    epoch = colleague.auth_epoch
    separate(actor=actor_for(org.it), user=colleague, separation_date=timezone.localdate())
    colleague.refresh_from_db()
    for environment in ("production", "sandbox"):
        assert not RoleGrant.objects.active(environment=environment).filter(user=colleague).exists()
    assert not ApiKey.objects.filter(owner=colleague, revoked_at__isnull=True).exists()
    assert colleague.auth_epoch > epoch  # signed-in sessions end at their next request
    assert not colleague.is_active
    assert AuditEvent.objects.filter(verb="role.ended_by_separation", subject_id=colleague.pk)


def test_a_future_separation_ends_the_grants_on_that_date(org):
    colleague = holding_roles(org)
    day = timezone.localdate() + datetime.timedelta(days=10)
    separate(actor=SYSTEM, user=colleague, separation_date=day)
    colleague.refresh_from_db()
    assert colleague.is_active
    grants = RoleGrant.objects.active().filter(user=colleague)
    assert grants.exists()
    assert all(timezone.localdate(g.valid_until) == day for g in grants)
    Separation.objects.update(separation_date=timezone.localdate())
    assert run_daily(actor=SYSTEM).separations_completed == 1
    colleague.refresh_from_db()
    assert not colleague.is_active
    assert not ApiKey.objects.filter(owner=colleague, revoked_at__isnull=True).exists()


def test_separations_need_the_permission(org):
    with pytest.raises(Forbidden):
        separate(
            actor=actor_for(org.supervisor),
            user=org.colleague,
            separation_date=timezone.localdate(),
        )


def test_the_hr_file_applies_good_rows_and_reports_bad_ones(org):
    holding_roles(org)
    today = timezone.localdate().isoformat()
    content = (
        "primary_id,separation_date\n"
        f"cole,{today}\n"
        "nobody-here,2026-01-01\n"
        "lia,31/12/2026\n"
        f",{today}\n"
        f"COLE,{today}\n"
    )
    report = process_separation_file(actor=SYSTEM, content=content, source="hr.csv")
    assert [(r.line, r.ok) for r in report.rows] == [
        (2, True),
        (3, False),
        (4, False),
        (5, False),
        (6, False),
    ]
    messages = {r.line: r.message for r in report.errors}
    assert messages[3] == "No user has this primary ID."
    assert "is not a date" in messages[4]
    assert messages[5] == "No primary ID."
    assert "twice" in messages[6]
    assert Separation.objects.count() == 1
    org.liaison.refresh_from_db()
    assert org.liaison.is_active


def test_a_file_without_the_columns_is_refused(org):
    with pytest.raises(ValidationFailed) as refused:
        process_separation_file(actor=SYSTEM, content="id;date\ncole;2026-01-01\n")
    assert refused.value.code == "bad_header"


def test_a_transfer_removes_the_old_units_grants_and_lists_the_rest(
    org, django_capture_on_commit_callbacks
):
    colleague = holding_roles(org)
    other_library = Library.objects.create(code="LAW", name="Law Library")
    other_desk = make_desk(other_library, code="LAW1", name="Law desk")
    kept = grant_role(
        actor=SYSTEM, user=colleague, role=role("FULFILLMENT_OPERATOR_EXTENDED"), scope=other_desk
    )
    law = Unit.objects.create(code="LAWCIRC", name="Law circulation", library=other_library)
    with django_capture_on_commit_callbacks(execute=True):
        result = transfer(actor=SYSTEM, user=colleague, unit=law, supervisor=org.liaison)
    assert {g.role.code for g in result.removed} == {"FULFILLMENT_OPERATOR"}
    assert len(result.removed) == 2  # production and sandbox
    assert {g.pk for g in result.review} >= {kept.pk}
    assert "ANALYTICS_OPERATOR" in {g.role.code for g in result.review}
    assert not RoleGrant.objects.active().filter(user=colleague, circulation_desk=org.desk).exists()
    assert colleague.placement.unit == law


def test_grants_with_an_end_date_are_reminded_then_expired(org, django_capture_on_commit_callbacks):
    colleague = org.colleague
    grant = grant_role(
        actor=SYSTEM,
        user=colleague,
        role=role("ANALYTICS_OPERATOR"),
        valid_until=timezone.now() + datetime.timedelta(days=3),
    )
    run_daily(actor=SYSTEM)
    assert GrantNotice.objects.filter(grant=grant, kind="REMINDER").count() == 1
    run_daily(actor=SYSTEM)  # once only
    assert GrantNotice.objects.filter(grant=grant).count() == 1
    RoleGrant.objects.filter(pk=grant.pk).update(valid_until=timezone.now())
    epoch = colleague.auth_epoch
    assert run_daily(actor=SYSTEM).expired == 1
    colleague.refresh_from_db()
    assert colleague.auth_epoch > epoch
    assert AuditEvent.objects.filter(verb="role.expired", subject_id=colleague.pk).exists()
    assert run_daily(actor=SYSTEM).expired == 0


def test_people_named_in_requests_can_still_be_deleted(org):
    from patronage.access.models import Role
    from patronage.approvals import actions
    from patronage.approvals.actions import LineSpec
    from patronage.approvals.models import RoleRequest
    from patronage.circulation.deletion import delete_user

    request = actions.file_request(
        actor=actor_for(org.supervisor),
        subject=org.new_hire,
        kind="NEW",
        login_type="CUSTOM",
        rationale="Desk shifts",
        lines=[LineSpec("ADD", Role.objects.get(code="FULFILLMENT_OPERATOR_EXTENDED"), org.desk)],
    )
    actions.decide_line(
        actor=actor_for(org.fulfillment_lead), line=request.lines.get(), approve=True
    )
    delete_user(actor=SYSTEM, user=org.fulfillment_lead)
    delete_user(actor=SYSTEM, user=org.supervisor)
    request.refresh_from_db()
    assert request.filed_by is None and request.lines.get().lead_decided_by is None
    assert AuditEvent.objects.filter(verb="role_request.line_approved").exists()  # who, kept
    delete_user(actor=SYSTEM, user=org.new_hire)
    assert not RoleRequest.objects.exists()


def test_a_person_whose_request_was_carried_out_can_be_deleted(org):
    from patronage.access.models import Role
    from patronage.approvals import actions
    from patronage.approvals.actions import LineSpec
    from patronage.circulation.deletion import delete_user

    request = actions.file_request(
        actor=actor_for(org.supervisor),
        subject=org.new_hire,
        kind="NEW",
        login_type="CUSTOM",
        rationale="Desk shifts",
        lines=[LineSpec("ADD", Role.objects.get(code="FULFILLMENT_OPERATOR_EXTENDED"), org.desk)],
    )
    actions.decide_line(
        actor=actor_for(org.fulfillment_lead), line=request.lines.get(), approve=True
    )
    actions.sign_privacy_form(actor=actor_for(org.new_hire), request=request, version=1)
    actions.grant_in_sandbox(actor=actor_for(org.it), request=request)
    actions.record_training(actor=actor_for(org.it), request=request, area="FULFILLMENT")
    actions.grant_in_production(actor=actor_for(org.it), request=request)
    delete_user(actor=SYSTEM, user=org.new_hire)
    assert not RoleGrant.objects.filter(user_id=org.new_hire.pk).exists()
