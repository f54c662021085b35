"""Who is who in access governance (read-only): the leads who own each role type, the system
administrators, each staff member's unit and supervisor, units' liaisons and approvers."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from patronage.access.models import Role
from patronage.accounts.models import User

from .choices import Duty, UnitDuty
from .models import Holiday, Placement, Steward, Unit, UnitContact

ADMINISTRATION = "ADMINISTRATION"


def owning_role_type(role: Role) -> str:
    """The role type whose lead owns ``role``: its own type; the fulfillment administrator
    belongs to Fulfillment; other administrator roles to "Administration"."""
    if role.role_type:
        return role.role_type
    if role.code.startswith("FULFILLMENT_"):
        return "FULFILLMENT"
    return ADMINISTRATION


def leads_of(role_type: str) -> QuerySet[User]:
    return User.objects.filter(
        stewardships__duty=Duty.AREA_LEAD, stewardships__role_type=role_type
    ).distinct()


def is_lead(user: User, role_type: str) -> bool:
    return Steward.objects.filter(user=user, duty=Duty.AREA_LEAD, role_type=role_type).exists()


def led_role_types(user: User) -> set[str]:
    return set(
        Steward.objects.filter(user=user, duty=Duty.AREA_LEAD).values_list("role_type", flat=True)
    )


def system_administrators() -> QuerySet[User]:
    return User.objects.filter(stewardships__duty=Duty.SYSTEM_ADMINISTRATOR).distinct()


def is_system_administrator(user: User) -> bool:
    return Steward.objects.filter(user=user, duty=Duty.SYSTEM_ADMINISTRATOR).exists()


def placement_of(user: User) -> Placement | None:
    return Placement.objects.select_related("unit", "supervisor").filter(user=user).first()


def contacts_of(unit: Unit, duty: str) -> QuerySet[User]:
    return User.objects.filter(unit_duties__unit=unit, unit_duties__duty=duty).distinct()


def is_contact(user: User, unit: Unit, duty: str) -> bool:
    return UnitContact.objects.filter(user=user, unit=unit, duty=duty).exists()


def managers_of(placement: Placement) -> set[int]:
    """Who may sign off as the staff manager: the supervisor and the unit's login approvers."""
    ids = set(
        UnitContact.objects.filter(unit=placement.unit, duty=UnitDuty.APPROVER).values_list(
            "user_id", flat=True
        )
    )
    if placement.supervisor_id:
        ids.add(placement.supervisor_id)
    return ids


def add_business_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """``start`` moved on by ``days`` business days: weekends and holidays do not count."""
    holidays = set(
        Holiday.objects.filter(
            date__gte=start.date(), date__lte=start.date() + datetime.timedelta(days=days * 7 + 60)
        ).values_list("date", flat=True)
    )
    moment, left = start, days
    while left > 0:
        moment += datetime.timedelta(days=1)
        if moment.weekday() < 5 and moment.date() not in holidays:
            left -= 1
    return moment
