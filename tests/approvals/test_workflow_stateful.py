"""The workflow as a state machine (hypothesis): any order of steps, by anyone, with the
invariants of issue 5 checked after every step:

* no production grant of a requested role without approval, a signed privacy form and the
  recorded training;
* nobody approves their own request or one for themself;
* administrator roles have two distinct approvers (the area lead and a system administrator);
* after a separation the person has no active grant (any environment), session or API key.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from patronage.access.api_key_actions import create_api_key
from patronage.access.models import ApiKey, Environment, Role, RoleGrant
from patronage.approvals import actions
from patronage.approvals.actions import LineSpec
from patronage.approvals.choices import LineAction, LineDecision, TrainingArea
from patronage.approvals.models import RequestLine, RoleRequest, Separation
from patronage.approvals.removal_actions import separate
from patronage.errors import DomainError
from tests.approvals.conftest import place
from tests.factories import SYSTEM, actor_for, make_user

pytestmark = pytest.mark.django_db(transaction=False)

ROLES = ["FULFILLMENT_OPERATOR_EXTENDED", "ANALYTICS_OPERATOR", "USER_MANAGER"]
# Who acts: half the time the person the step is for (so whole paths are walked), else anyone.
WHO = st.one_of(st.just(-1), st.integers(0, 20))


class Workflow(RuleBasedStateMachine):
    org = None  # the directory, set by the test
    completed = 0  # requests carried out in production, over all examples

    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        org = self.org
        self.subjects = [
            make_user(record_type="STAFF", first_name="Hire", last_name=str(n)) for n in range(2)
        ]
        for subject in self.subjects:
            place(subject, org.unit, org.supervisor)
        self.people = [
            org.supervisor,
            org.liaison,
            org.fulfillment_lead,
            org.analytics_lead,
            org.admin_lead,
            org.sysadmin,
            org.it,
            *self.subjects,
        ]
        self.epochs: dict[int, int] = {}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _try(self, step, **kwargs):
        try:
            return step(**kwargs)
        except DomainError:
            return None

    def _person(self, n: int, right):
        return right if n < 0 else self.people[n % len(self.people)]

    def _lead(self, line: RequestLine):
        return {
            "FULFILLMENT": self.org.fulfillment_lead,
            "ANALYTICS": self.org.analytics_lead,
        }.get(line.role.role_type, self.org.admin_lead)

    # --- steps ----------------------------------------------------------------------------

    @rule(
        target=requests,
        subject=st.integers(0, 1),
        filer=WHO,
        codes=st.sets(st.sampled_from(ROLES), min_size=1),
    )
    def file(self, subject, filer, codes):
        who = self.subjects[subject]
        who.refresh_from_db()
        lines = []
        for code in sorted(codes):
            role = Role.objects.get(code=code)
            scope = (
                self.org.desk
                if code.startswith("FULFILLMENT")
                else self.org.desk.library
                if code == "USER_MANAGER"
                else None
            )
            lines.append(LineSpec("ADD", role, scope))
        request = self._try(
            actions.file_request,
            actor=actor_for(self._person(filer, self.org.supervisor)),
            subject=who,
            kind="UPDATE" if who.login_model else "NEW",
            login_type="" if who.login_model == "CUSTOM" else "CUSTOM",
            rationale="Work",
            lines=lines,
        )
        return request.pk if request else 0

    @rule(request=requests, who=WHO)
    def sign_off(self, request, who):
        if request:
            self._try(
                actions.sign_off,
                actor=actor_for(self._person(who, self.org.supervisor)),
                request=RoleRequest.objects.get(pk=request),
            )

    @rule(
        request=requests,
        who=WHO,
        approve=st.booleans(),
        n=st.integers(0, 3),
        area=st.sampled_from(["", *TrainingArea.values]),
    )
    def decide(self, request, who, approve, n, area):
        lines = list(RequestLine.objects.filter(request_id=request).select_related("role"))
        if lines:
            line = lines[n % len(lines)]
            self._try(
                actions.decide_line,
                actor=actor_for(self._person(who, self._lead(line))),
                line=line,
                approve=approve,
                training_area=area,
                comment="" if approve else "Not needed",
            )

    @rule(request=requests, who=WHO, n=st.integers(0, 3))
    def co_approve(self, request, who, n):
        lines = list(RequestLine.objects.filter(request_id=request))
        if lines:
            self._try(
                actions.approve_as_administrator,
                actor=actor_for(self._person(who, self.org.sysadmin)),
                line=lines[n % len(lines)],
                approve=True,
            )

    @rule(request=requests, who=WHO, version=st.sampled_from([1, 1, 0, 2]))
    def sign_form(self, request, who, version):
        if request:
            found = RoleRequest.objects.get(pk=request)
            self._try(
                actions.sign_privacy_form,
                actor=actor_for(self._person(who, found.subject)),
                request=found,
                version=version,
            )

    @rule(request=requests, who=WHO)
    def sandbox(self, request, who):
        if request:
            self._try(
                actions.grant_in_sandbox,
                actor=actor_for(self._person(who, self.org.it)),
                request=RoleRequest.objects.get(pk=request),
            )

    @rule(request=requests, who=WHO, area=st.sampled_from(TrainingArea.values))
    def training(self, request, who, area):
        if request:
            self._try(
                actions.record_training,
                actor=actor_for(self._person(who, self.org.it)),
                request=RoleRequest.objects.get(pk=request),
                area=area,
            )

    @rule(request=requests, who=WHO)
    def production(self, request, who):
        if request:
            done = self._try(
                actions.grant_in_production,
                actor=actor_for(self._person(who, self.org.it)),
                request=RoleRequest.objects.get(pk=request),
            )
            Workflow.completed += done is not None

    @rule(request=requests, steps=st.integers(4, 10))
    def walk(self, request, steps):
        """The next steps the request waits for, each by the person it waits for: whole paths
        get walked, interleaved with everything else."""
        for _ in range(steps if request else 0):
            self._next_step(request)

    def _next_step(self, request):
        found = RoleRequest.objects.get(pk=request)
        org, status = self.org, found.status
        if status == "AWAITING_SIGNOFF":
            self._try(actions.sign_off, actor=actor_for(org.supervisor), request=found)
        elif status == "AWAITING_DECISION":
            line = found.lines.filter(decision="PENDING").select_related("role").first()
            if line.lead_decided_by_id is None:
                self._try(
                    actions.decide_line,
                    actor=actor_for(self._lead(line)),
                    line=line,
                    approve=True,
                    training_area="" if line.role.role_type else "FULFILLMENT",
                )
            else:
                self._try(
                    actions.approve_as_administrator,
                    actor=actor_for(org.sysadmin),
                    line=line,
                    approve=True,
                )
        elif status == "AWAITING_FORM":
            self._try(
                actions.sign_privacy_form, actor=actor_for(found.subject), request=found, version=1
            )
        elif status == "AWAITING_SANDBOX":
            self._try(actions.grant_in_sandbox, actor=actor_for(org.it), request=found)
        elif status == "IN_TRAINING":
            for area in actions.training_required(found) - actions.training_recorded(found):
                self._try(
                    actions.record_training, actor=actor_for(org.it), request=found, area=area
                )
        elif status == "AWAITING_PRODUCTION":
            done = self._try(actions.grant_in_production, actor=actor_for(org.it), request=found)
            Workflow.completed += done is not None

    @rule(subject=st.integers(0, 1))
    def api_key(self, subject):
        self._try(create_api_key, actor=SYSTEM, owner=self.subjects[subject], name="Script")

    @rule(subject=st.integers(0, 1), chance=st.integers(0, 4))
    def separation(self, subject, chance):
        if chance:  # rarer than the other steps, so that paths get walked before people leave
            return
        who = self.subjects[subject]
        who.refresh_from_db()
        self.epochs.setdefault(who.pk, who.auth_epoch)
        self._try(separate, actor=SYSTEM, user=who, separation_date=timezone.localdate())

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def production_grants_follow_the_whole_path(self):
        for grant in RoleGrant.objects.active(environment=Environment.PRODUCTION).filter(
            user__in=self.subjects, role__login_model=""
        ):
            line = RequestLine.objects.select_related("request").get(production_grant=grant)
            assert line.decision == LineDecision.APPROVED
            assert line.request.privacy_signature_id is not None
            assert line.request.training.filter(area=line.training_area).exists()
            assert line.request.sandbox_granted_at is not None

    @invariant()
    def nobody_approves_for_themself(self):
        for line in RequestLine.objects.select_related("request"):
            own = {line.request.subject_id, line.request.filed_by_id, line.request.on_behalf_of_id}
            deciders = {line.lead_decided_by_id, line.admin_approved_by_id} - {None}
            assert not deciders & own

    @invariant()
    def administrator_roles_have_two_approvers(self):
        for line in RequestLine.objects.filter(
            decision=LineDecision.APPROVED, action=LineAction.ADD, role__is_admin=True
        ):
            assert line.lead_decided_by_id and line.admin_approved_by_id
            assert line.lead_decided_by_id != line.admin_approved_by_id

    @invariant()
    def separated_people_keep_nothing(self):
        for separation in Separation.objects.filter(user__in=self.subjects):
            user = separation.user
            for environment in Environment.values:
                assert (
                    not RoleGrant.objects.active(environment=environment).filter(user=user).exists()
                )
            assert not ApiKey.objects.filter(owner=user, revoked_at__isnull=True).exists()
            assert not user.is_active
            assert user.auth_epoch > self.epochs[user.pk]  # every session ended


def test_workflow_invariants_hold_whatever_happens(org):
    Workflow.org = org
    Workflow.TestCase.settings = settings(
        max_examples=25,
        derandomize=True,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    Workflow.TestCase().runTest()
    assert Workflow.completed, "no example walked a request through to production"
