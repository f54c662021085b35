"""Seed 003's paths through the workflow, and the refusals of bad steps (nothing half-done)."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from patronage.access.checks import can, clear_process_cache, forget
from patronage.access.models import Environment, Role, RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts.actions import update_user
from patronage.approvals import actions
from patronage.approvals.actions import LineSpec
from patronage.approvals.choices import LineDecision, RequestStatus
from patronage.approvals.directory import add_business_days
from patronage.approvals.models import Holiday, PrivacyFormText, RoleRequest
from patronage.audit.models import AuditEvent
from patronage.errors import Conflict, Forbidden, ValidationFailed
from tests.approvals.conftest import in_days
from tests.factories import SYSTEM, actor_for, make_user

pytestmark = pytest.mark.django_db

OPERATOR_XP = "FULFILLMENT_OPERATOR_EXTENDED_PLUS"


def role(code: str) -> Role:
    return Role.objects.get(code=code)


def file_for_new_hire(org, **extra) -> RoleRequest:
    return actions.file_request(
        actor=actor_for(org.supervisor),
        subject=org.new_hire,
        kind="NEW",
        login_type="CUSTOM",
        rationale="Evening circulation desk shifts",
        lines=[LineSpec("ADD", role("FULFILLMENT_OPERATOR_EXTENDED"), org.desk)],
        start_date=in_days(30),
        **extra,
    )


def fresh(request: RoleRequest) -> RoleRequest:
    return RoleRequest.objects.get(pk=request.pk)


def production_power(user) -> bool:
    user.refresh_from_db()
    forget(user)
    return can(user, Permission.FULFILLMENT_OVERRIDE)


def test_new_hire_path_from_request_to_production(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = file_for_new_hire(org)
    assert request.status == RequestStatus.AWAITING_DECISION  # the supervisor signed by filing
    assert request.signed_off_by == org.supervisor

    line = request.lines.get()
    actions.decide_line(actor=actor_for(org.fulfillment_lead), line=line, approve=True)
    request = fresh(request)
    assert request.status == RequestStatus.AWAITING_FORM
    assert request.lines.get().training_area == "FULFILLMENT"  # recommended by default

    form = PrivacyFormText.objects.get(variant="STAFF", version=1)
    signature = actions.sign_privacy_form(
        actor=actor_for(org.new_hire), request=request, version=form.version
    )
    assert signature.signed_at is not None
    request = fresh(request)
    assert request.status == RequestStatus.AWAITING_SANDBOX

    actions.grant_in_sandbox(actor=actor_for(org.it), request=request)
    request = fresh(request)
    assert request.status == RequestStatus.IN_TRAINING
    sandbox = request.lines.get().sandbox_grant
    assert sandbox.environment == Environment.SANDBOX
    # A sandbox grant gives no power in production.
    assert not production_power(org.new_hire)

    actions.record_training(
        actor=actor_for(org.fulfillment_lead), request=request, area="FULFILLMENT"
    )
    request = fresh(request)
    assert request.status == RequestStatus.AWAITING_PRODUCTION
    assert not production_power(org.new_hire)

    actions.grant_in_production(actor=actor_for(org.it), request=request)
    request = fresh(request)
    assert request.status == RequestStatus.COMPLETED
    assert request.lines.get().production_grant.environment == Environment.PRODUCTION
    assert production_power(org.new_hire)
    verbs = list(
        AuditEvent.objects.filter(object_type="rolerequest", object_id=str(request.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )
    for verb in (
        "role_request.filed",
        "role_request.line_approved",
        "privacy_form.signed",
        "role_request.sandbox_granted",
        "role_request.training_recorded",
        "role_request.production_granted",
    ):
        assert verb in verbs


def test_every_step_mails_the_people_concerned_after_commit(
    org, django_capture_on_commit_callbacks, settings
):
    settings.PATRONAGE_BASE_URL = "https://patronage.example.edu"
    with django_capture_on_commit_callbacks(execute=True):
        request = file_for_new_hire(org)
    assert mail.outbox, "the lead hears of the request"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.decide_line(
            actor=actor_for(org.fulfillment_lead), line=request.lines.get(), approve=True
        )
    assert ["nia@example.edu"] in [m.to for m in mail.outbox]  # asked to sign the form
    assert "Awaiting the privacy & security form" in mail.outbox[0].subject
    # Links a mail reader can follow: absolute, on the configured public address.
    body = mail.outbox[0].body
    assert f"https://patronage.example.edu/governance/requests/{request.pk}/" in body
    assert "sign the form at https://patronage.example.edu/governance/privacy-form/" in body


def test_a_sandbox_instance_honours_sandbox_grants_only(org, settings):
    request = file_for_new_hire(org)
    actions.decide_line(
        actor=actor_for(org.fulfillment_lead), line=request.lines.get(), approve=True
    )
    actions.sign_privacy_form(actor=actor_for(org.new_hire), request=request, version=1)
    actions.grant_in_sandbox(actor=actor_for(org.it), request=request)
    assert not production_power(org.new_hire)
    settings.PATRONAGE_ENVIRONMENT = "sandbox"
    clear_process_cache()  # an instance runs as one environment: as if a sandbox process
    assert production_power(org.new_hire)
    settings.PATRONAGE_ENVIRONMENT = "production"
    clear_process_cache()


def test_staff_member_files_for_themself_and_the_supervisor_signs_off(org):
    request = actions.file_request(
        actor=actor_for(org.colleague),
        subject=org.colleague,
        kind="UPDATE",
        rationale="Covering the analytics reports",
        lines=[LineSpec("ADD", role("ANALYTICS_OPERATOR"))],
    )
    assert request.status == RequestStatus.AWAITING_SIGNOFF
    with pytest.raises(Conflict) as refused:  # the lead cannot act before the sign-off
        actions.decide_line(
            actor=actor_for(org.analytics_lead), line=request.lines.get(), approve=True
        )
    assert refused.value.code == "out_of_order"
    with pytest.raises(Forbidden):
        actions.sign_off(actor=actor_for(org.liaison), request=request)
    actions.sign_off(actor=actor_for(org.supervisor), request=request)
    assert fresh(request).status == RequestStatus.AWAITING_DECISION


def test_a_staff_member_files_no_new_login_for_themself(org):
    with pytest.raises(ValidationFailed) as refused:
        actions.file_request(
            actor=actor_for(org.colleague),
            subject=org.colleague,
            kind="DELETE",
            rationale="x",
        )
    assert refused.value.code == "self_request_kind"


def test_liaison_files_on_the_managers_behalf(org):
    with pytest.raises(ValidationFailed) as refused:
        file_for_new_hire_as(org, org.liaison)
    assert refused.value.code == "manager_required"
    request = file_for_new_hire_as(org, org.liaison, on_behalf_of=org.supervisor)
    assert request.filed_as == "LIAISON" and request.on_behalf_of == org.supervisor
    assert request.status == RequestStatus.AWAITING_SIGNOFF


def file_for_new_hire_as(org, filer, **extra):
    return actions.file_request(
        actor=actor_for(filer),
        subject=org.new_hire,
        kind="NEW",
        login_type="CUSTOM",
        rationale="Desk shifts",
        lines=[LineSpec("ADD", role("FULFILLMENT_OPERATOR_EXTENDED"), org.desk)],
        **extra,
    )


def test_others_may_not_file(org):
    with pytest.raises(Forbidden) as refused:
        file_for_new_hire_as(org, org.fulfillment_lead)
    assert refused.value.code == "not_a_filer"
    assert not RoleRequest.objects.exists()


def test_no_request_before_the_base_account_is_active(org):
    update_user(actor=SYSTEM, user=org.new_hire, fields={"status": "INACTIVE"})
    with pytest.raises(ValidationFailed) as refused:
        file_for_new_hire(org)
    assert refused.value.code == "account_not_active"


def test_no_request_for_someone_outside_the_directory(org):
    stranger = make_user(record_type="STAFF")
    with pytest.raises(ValidationFailed) as refused:
        actions.file_request(
            actor=actor_for(org.supervisor),
            subject=stranger,
            kind="NEW",
            login_type="VIEW",
            rationale="x",
        )
    assert refused.value.code == "not_in_directory"


def test_a_start_less_than_two_weeks_away_is_flagged(org):
    assert not file_for_new_hire(org).short_notice
    RoleRequest.objects.all().delete()
    request = actions.file_request(
        actor=actor_for(org.supervisor),
        subject=org.new_hire,
        kind="NEW",
        login_type="VIEW",
        rationale="Starts Monday",
        start_date=in_days(5),
    )
    assert request.short_notice


def test_same_roles_as_a_colleague_copies_roles_and_scopes(org):
    from patronage.access.actions import grant_role

    grant_role(actor=SYSTEM, user=org.colleague, role=role("FULFILLMENT_OPERATOR"), scope=org.desk)
    grant_role(actor=SYSTEM, user=org.colleague, role=role("ANALYTICS_OPERATOR"))
    request = actions.file_request(
        actor=actor_for(org.supervisor),
        subject=org.new_hire,
        kind="NEW",
        rationale="Same work as Cole",
        copy_from=org.colleague,
    )
    assert request.login_type == "CUSTOM"
    assert sorted((line.role.code, line.unit) for line in request.lines.all()) == [
        ("ANALYTICS_OPERATOR", None),
        ("FULFILLMENT_OPERATOR", org.desk),
    ]


def test_an_update_holds_only_the_changes(org):
    from patronage.access.actions import grant_role

    held = grant_role(
        actor=SYSTEM, user=org.colleague, role=role("FULFILLMENT_OPERATOR"), scope=org.desk
    )
    with pytest.raises(ValidationFailed) as refused:
        actions.file_request(
            actor=actor_for(org.supervisor),
            subject=org.colleague,
            kind="UPDATE",
            rationale="x",
            lines=[LineSpec("ADD", role("FULFILLMENT_OPERATOR"), org.desk)],
        )
    assert "already holds" in refused.value.errors["lines[0]"]
    request = actions.file_request(
        actor=actor_for(org.supervisor),
        subject=org.colleague,
        kind="UPDATE",
        rationale="Moves to analytics",
        lines=[
            LineSpec("REMOVE", held.role, org.desk, held),
            LineSpec("ADD", role("ANALYTICS_OPERATOR")),
        ],
    )
    remove, add = request.lines.order_by("id")
    actions.decide_line(actor=actor_for(org.fulfillment_lead), line=remove, approve=True)
    actions.decide_line(actor=actor_for(org.analytics_lead), line=add, approve=True)
    actions.sign_privacy_form(actor=actor_for(org.colleague), request=request, version=1)
    actions.grant_in_sandbox(actor=actor_for(org.it), request=request)
    actions.record_training(actor=actor_for(org.it), request=request, area="ANALYTICS")
    actions.grant_in_production(actor=actor_for(org.it), request=request)
    held.refresh_from_db()
    assert held.revoked_at is not None
    assert (
        RoleGrant.objects.active()
        .filter(user=org.colleague, role__code="ANALYTICS_OPERATOR")
        .exists()
    )


def test_only_the_area_lead_decides_and_never_for_their_own_request(org):
    request = file_for_new_hire(org)
    line = request.lines.get()
    with pytest.raises(Forbidden) as refused:
        actions.decide_line(actor=actor_for(org.analytics_lead), line=line, approve=True)
    assert refused.value.code == "not_area_lead"
    # A lead who files for their own staff does not approve it.
    from patronage.approvals.models import Steward

    Steward.objects.create(user=org.supervisor, duty="AREA_LEAD", role_type="FULFILLMENT")
    with pytest.raises(Forbidden) as refused:
        actions.decide_line(actor=actor_for(org.supervisor), line=line, approve=True)
    assert refused.value.code == "self_approval"
    assert fresh(request).lines.get().decision == LineDecision.PENDING


def test_a_rejected_request_ends_there(org):
    request = file_for_new_hire(org)
    with pytest.raises(ValidationFailed):  # a rejection says why
        actions.decide_line(
            actor=actor_for(org.fulfillment_lead), line=request.lines.get(), approve=False
        )
    actions.decide_line(
        actor=actor_for(org.fulfillment_lead),
        line=request.lines.get(),
        approve=False,
        comment="Operator is enough for desk shifts",
    )
    assert fresh(request).status == RequestStatus.REJECTED
    with pytest.raises(Conflict):
        actions.sign_privacy_form(actor=actor_for(org.new_hire), request=request, version=1)


def test_an_outdated_form_version_is_refused(org):
    request = file_for_new_hire(org)
    actions.decide_line(
        actor=actor_for(org.fulfillment_lead), line=request.lines.get(), approve=True
    )
    PrivacyFormText.objects.create(
        variant="STAFF", version=2, title="v2", text="New text", published_at=timezone.now()
    )
    with pytest.raises(ValidationFailed) as refused:
        actions.sign_privacy_form(actor=actor_for(org.new_hire), request=request, version=1)
    assert refused.value.code == "outdated_form"
    assert fresh(request).status == RequestStatus.AWAITING_FORM
    assert not org.new_hire.privacy_signatures.exists()
    with pytest.raises(Forbidden):  # only the person signs
        actions.sign_privacy_form(actor=actor_for(org.supervisor), request=request, version=2)
    actions.sign_privacy_form(actor=actor_for(org.new_hire), request=request, version=2)


def test_students_sign_the_student_form(org):
    update_user(actor=SYSTEM, user=org.new_hire, fields={"job_category": "STUDENT_WORKER"})
    request = file_for_new_hire(org, business_need="")
    assert request.form_variant == "STUDENT"


def test_administrator_roles_need_the_lead_and_a_system_administrator(org):
    request = actions.file_request(
        actor=actor_for(org.supervisor),
        subject=org.colleague,
        kind="UPDATE",
        rationale="Runs user administration for the unit",
        lines=[LineSpec("ADD", role("USER_MANAGER"), org.desk.library)],
    )
    line = request.lines.get()
    actions.decide_line(
        actor=actor_for(org.admin_lead), line=line, approve=True, training_area="FULFILLMENT"
    )
    assert fresh(request).status == RequestStatus.AWAITING_DECISION  # one approval is not enough
    from patronage.approvals.models import Steward

    Steward.objects.create(user=org.admin_lead, duty="SYSTEM_ADMINISTRATOR")
    with pytest.raises(Forbidden) as refused:
        actions.approve_as_administrator(actor=actor_for(org.admin_lead), line=line, approve=True)
    assert refused.value.code == "same_approver"
    actions.approve_as_administrator(actor=actor_for(org.sysadmin), line=line, approve=True)
    line.refresh_from_db()
    assert line.decision == LineDecision.APPROVED
    assert {line.lead_decided_by, line.admin_approved_by} == {org.admin_lead, org.sysadmin}
    assert fresh(request).status == RequestStatus.AWAITING_FORM


def test_the_additional_role_needs_the_systems_teams_agreement(org):
    with pytest.raises(ValidationFailed) as refused:
        file_for_new_hire(org, additional_role="Batch withdrawals for the move")
    assert "systems team" in refused.value.errors["additional_role"]
    request = file_for_new_hire(
        org,
        additional_role="Batch withdrawals for the move",
        additional_role_agreed_by=org.sysadmin,
    )
    assert request.additional_role_agreed_by == org.sysadmin


def test_processing_time_counts_business_days_and_skips_holidays(org):
    friday = timezone.make_aware(datetime.datetime(2026, 12, 4, 10, 0))
    assert add_business_days(friday, 2).date() == datetime.date(2026, 12, 8)
    Holiday.objects.create(date=datetime.date(2026, 12, 7), name="Closure")
    assert add_business_days(friday, 2).date() == datetime.date(2026, 12, 9)
    request = file_for_new_hire(org)
    assert request.due_at > request.submitted_at


def test_withdrawing_ends_the_training_grants(org):
    request = file_for_new_hire(org)
    actions.decide_line(
        actor=actor_for(org.fulfillment_lead), line=request.lines.get(), approve=True
    )
    actions.sign_privacy_form(actor=actor_for(org.new_hire), request=request, version=1)
    actions.grant_in_sandbox(actor=actor_for(org.it), request=request)
    actions.withdraw(actor=actor_for(org.supervisor), request=request, reason="Hire fell through")
    assert fresh(request).status == RequestStatus.WITHDRAWN
    assert not RoleGrant.objects.active(environment="sandbox").filter(user=org.new_hire).exists()
