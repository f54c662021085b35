"""`patronage demo`: a realistic institution, loaded through the actions, safe to run twice."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from patronage.access.checks import can
from patronage.access.models import RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts.models import (
    Address,
    Email,
    Phone,
    User,
    UserBlock,
    UserIdentifier,
    UserNameToken,
    UserNote,
    UserStatistic,
)
from patronage.approvals.models import (
    Holiday,
    Placement,
    PrivacyFormText,
    RoleRequest,
    Steward,
    Unit,
)
from patronage.approvals.selectors import inbox
from patronage.audit.models import AuditEvent
from patronage.organization.models import (
    AcquisitionsUnit,
    CirculationDesk,
    Department,
    Library,
)

pytestmark = pytest.mark.django_db
LOGIN_LINE = re.compile(r"Log in at http://127\.0\.0\.1:8000/ as admin / (\S+)")
COUNTED = [
    User,
    UserIdentifier,
    UserNameToken,
    Email,
    Phone,
    Address,
    UserNote,
    UserStatistic,
    UserBlock,
    RoleGrant,
    Library,
    CirculationDesk,
    Department,
    AcquisitionsUnit,
]


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def printed_password(output: str) -> str:
    match = LOGIN_LINE.search(output)
    assert match, output
    return match.group(1)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_demo_loads_an_institution_and_a_second_run_adds_nothing():
    # One test for the full-size demo: it takes seconds, so it runs twice, not once per check.
    first_output = run_demo()
    first = counts()
    second_output = run_demo()

    assert counts() == first
    assert "552 users added" in first_output
    assert "0 users added, 552 already there" in second_output
    assert_institution()
    assert_patron_population()
    assert_staff_roles()

    # The administrator logs in with the password printed by the last run only.
    old, new = printed_password(first_output), printed_password(second_output)
    assert old != new
    assert authenticate(username="admin", password=old) is None
    admin = authenticate(username="admin", password=new)
    assert admin is not None
    assert can(admin, Permission.CONFIG_USER_SETTINGS)
    assert sorted(RoleGrant.objects.filter(user=admin).values_list("role__code", flat=True)) == [
        "GENERAL_SYSTEM_ADMINISTRATOR",
        "LOGIN_CUSTOM",
    ]


def assert_institution() -> None:
    assert Library.objects.count() == 2
    assert CirculationDesk.objects.count() == 4
    assert AcquisitionsUnit.objects.count() == 2
    assert set(Department.objects.values_list("kind", flat=True)) == {
        "TECHNICAL_SERVICES",
        "WORK_ORDER",
    }
    assert User.objects.filter(record_type="STAFF").count() == 51  # 50 staff and the admin
    assert User.objects.filter(record_type="PUBLIC").count() == 500
    assert User.objects.filter(record_type="CONTACT").count() == 2


def assert_patron_population() -> None:
    patrons = User.objects.filter(record_type="PUBLIC")
    today = timezone.localdate()
    assert {"UNDERGRAD", "GRAD", "FACULTY"} <= set(patrons.values_list("user_group", flat=True))
    expired = patrons.filter(expiry_date__lt=today).count()
    assert 0 < expired < 100
    assert patrons.filter(status="INACTIVE").exists()
    assert patrons.exclude(pref_first_name="").exists()
    assert UserBlock.objects.exists() and UserNote.objects.exists()
    assert UserStatistic.objects.exists()
    barcodes = UserIdentifier.objects.filter(id_type="BARCODE", user__record_type="PUBLIC")
    assert barcodes.count() == 500
    assert UserIdentifier.objects.filter(id_type="UNIV_ID").exists()
    # Everything went through the actions: each user has its creation audited.
    assert AuditEvent.objects.filter(verb="user.created").count() == User.objects.count()


def assert_staff_roles() -> None:
    grants = RoleGrant.objects.select_related("role")
    assert {
        "FULFILLMENT_OPERATOR",
        "FULFILLMENT_OPERATOR_EXTENDED_PLUS",
        "USER_MANAGER",
        "USER_ADMINISTRATOR",
        "GENERAL_SYSTEM_ADMINISTRATOR",
    } <= {grant.role.code for grant in grants}
    assert grants.filter(role__code="USER_ADMINISTRATOR").count() == 1
    operators = grants.filter(role__code="FULFILLMENT_OPERATOR")
    assert operators.exists()
    assert all(grant.circulation_desk_id for grant in operators)
    assert all(grant.library_id for grant in grants.filter(role__code="USER_MANAGER"))
    # Every staff member has a login model; roles sit on custom logins only.
    staff = User.objects.filter(record_type="STAFF")
    assert not staff.filter(login_model="").exists()
    assert not grants.filter(role__login_model="").exclude(user__login_model="CUSTOM").exists()


def test_a_chosen_password_is_used_and_a_weak_one_refused():
    output = run_demo("--patrons", "0", "--password", "stacks-and-shelves-42")
    assert printed_password(output) == "stacks-and-shelves-42"
    assert authenticate(username="admin", password="stacks-and-shelves-42") is not None

    with pytest.raises(CommandError, match="password"):
        run_demo("--patrons", "0", "--password", "1234")


def test_the_demo_fills_the_governance_screens():
    run_demo("--patrons", "0", "--password", "stacks-and-shelves-42")
    admin = User.objects.get(identifiers__key="admin", identifiers__is_primary=True)
    units = {u.code: u for u in Unit.objects.prefetch_related("contacts")}
    assert set(units) == {"ACCESS", "HSL_ACCESS", "TECH", "LIBRARY_IT"}
    for code in ("ACCESS", "HSL_ACCESS", "TECH"):
        duties = {c.duty for c in units[code].contacts.all()}
        assert duties == {"LIAISON", "APPROVER"}, code
    # Every demo staff member has a unit; all but the heads have a supervisor.
    staff = User.objects.filter(record_type="STAFF")
    assert Placement.objects.count() == staff.count()
    assert Placement.objects.filter(supervisor__isnull=True).count() == 6  # 3 heads, Library IT
    assert Steward.objects.filter(duty="AREA_LEAD", role_type="FULFILLMENT", user=admin).exists()
    assert Holiday.objects.count() == 2
    assert {f.variant for f in PrivacyFormText.objects.all()} == {"STAFF", "STUDENT"}
    # A request waits in the administrator's inbox, for a Fulfillment lead's decision.
    (pending,) = RoleRequest.objects.all()
    assert pending.status == "AWAITING_DECISION"
    assert [task.request for task in inbox(admin)] == [pending]
    run_demo("--patrons", "0", "--password", "stacks-and-shelves-42")
    assert RoleRequest.objects.count() == 1 and Unit.objects.count() == 4
