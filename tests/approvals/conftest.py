from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from patronage.access.actions import set_login_model
from patronage.accounts.models import User
from patronage.approvals.choices import Duty, UnitDuty
from patronage.approvals.models import Placement, Steward, Unit, UnitContact
from tests.factories import SYSTEM, make_desk, make_library, make_staff, make_user
from tests.web.conftest import _plain_http, login  # noqa: F401  (fixture, helper)


def make_login(**fields) -> User:
    """A staff member with a custom login (which lets them file requests) and no roles."""
    user = make_staff(**fields)
    set_login_model(actor=SYSTEM, user=user, login_model="CUSTOM")
    return User.objects.get(pk=user.pk)


def place(user: User, unit: Unit, supervisor: User | None) -> Placement:
    return Placement.objects.create(
        user=user, unit=unit, supervisor=supervisor, since=timezone.localdate()
    )


@dataclass
class Directory:
    unit: Unit
    supervisor: User
    new_hire: User
    colleague: User
    liaison: User
    fulfillment_lead: User
    analytics_lead: User
    admin_lead: User
    sysadmin: User
    it: User
    desk: object


@pytest.fixture
def org(db, admin) -> Directory:
    library = make_library()
    desk = make_desk(library)
    unit = Unit.objects.create(code="ACCESS", name="Access Services", library=library)
    supervisor = make_login(first_name="Sue", last_name="Supervisor", primary_id="sue")
    new_hire = make_user(
        record_type="STAFF",
        first_name="Nia",
        last_name="Newhire",
        primary_id="nia",
        emails=[{"address": "nia@example.edu", "types": ["personal"], "preferred": True}],
    )
    colleague = make_login(first_name="Cole", last_name="Colleague", primary_id="cole")
    liaison = make_login(first_name="Lia", last_name="Liaison", primary_id="lia")
    fulfillment_lead = make_login(first_name="Flo", last_name="Lead", primary_id="flo")
    analytics_lead = make_login(first_name="Ana", last_name="Lead", primary_id="ana")
    admin_lead = make_login(first_name="Adam", last_name="Lead", primary_id="adam")
    sysadmin = make_login(first_name="Sam", last_name="Sysadmin", primary_id="sam")
    for user in (new_hire, colleague, liaison):
        place(user, unit, supervisor)
    UnitContact.objects.create(unit=unit, user=liaison, duty=UnitDuty.LIAISON)
    Steward.objects.create(user=fulfillment_lead, duty=Duty.AREA_LEAD, role_type="FULFILLMENT")
    Steward.objects.create(user=analytics_lead, duty=Duty.AREA_LEAD, role_type="ANALYTICS")
    Steward.objects.create(user=admin_lead, duty=Duty.AREA_LEAD, role_type="ADMINISTRATION")
    Steward.objects.create(user=sysadmin, duty=Duty.SYSTEM_ADMINISTRATOR)
    return Directory(
        unit=unit,
        supervisor=supervisor,
        new_hire=new_hire,
        colleague=colleague,
        liaison=liaison,
        fulfillment_lead=fulfillment_lead,
        analytics_lead=analytics_lead,
        admin_lead=admin_lead,
        sysadmin=sysadmin,
        it=admin,
        desk=desk,
    )


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)
