"""Keeping the directory (Library IT, ``access:directory:manage``): units with their login
liaisons and approvers, functional-area leads and system administrators, staff placements
(unit and supervisor), the holiday calendar, and new versions of the privacy form."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from patronage.access.catalogue import ROLE_TYPES
from patronage.access.checks import require
from patronage.access.permissions import Permission
from patronage.accounts.choices import RecordType
from patronage.accounts.models import User
from patronage.audit.actions import diff, record
from patronage.audit.context import Actor
from patronage.errors import Conflict, ValidationFailed
from patronage.organization.models import Library

from .choices import Duty, FormVariant, UnitDuty
from .directory import ADMINISTRATION
from .models import Holiday, Placement, PrivacyFormText, Steward, Unit, UnitContact

LEAD_ROLE_TYPES = [role_type.code for role_type in ROLE_TYPES] + [ADMINISTRATION]


def _staff(user: User, field: str) -> None:
    if user.record_type != RecordType.STAFF or not user.is_active:
        raise ValidationFailed({field: f"{user.display_name} is not an active staff user."})


@transaction.atomic
def save_unit(
    *, actor: Actor, code: str, name: str, library: Library | None = None, unit: Unit | None = None
) -> Unit:
    require(actor, Permission.DIRECTORY_MANAGE)
    code, name = code.strip().upper(), name.strip()
    errors = {}
    if not code:
        errors["code"] = "Give the unit a code."
    if not name:
        errors["name"] = "Give the unit a name."
    same_code = Unit.objects.filter(code=code)
    if unit is not None:
        same_code = same_code.exclude(pk=unit.pk)
    if code and same_code.exists():
        errors["code"] = f"A unit with the code {code} exists."
    if errors:
        raise ValidationFailed(errors)
    created = unit is None
    unit = unit or Unit()
    before = _unit_fields(unit) if not created else {}
    unit.code, unit.name, unit.library = code, name, library
    unit.save()
    record(
        actor=actor,
        verb="unit.created" if created else "unit.updated",
        obj=unit,
        changes=[] if created else diff(before, _unit_fields(unit)),
        details={"code": code, "name": name, "library": library.code if library else None},
    )
    return unit


def _unit_fields(unit: Unit) -> dict[str, str | None]:
    return {
        "code": unit.code,
        "name": unit.name,
        "library": unit.library.code if unit.library_id and unit.library else None,
    }


@transaction.atomic
def delete_unit(*, actor: Actor, unit: Unit) -> None:
    """Remove a unit nobody works in and no request names (its liaisons and approvers go with
    it, each audited). Staff placed there must be moved first; a unit named by role requests
    stays, since the requests' history refers to it."""
    require(actor, Permission.DIRECTORY_MANAGE)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    placed, requests = unit.placements.count(), unit.requests.count()
    if placed or requests:
        held = [
            f"{placed} staff member{'s' if placed != 1 else ''} placed there" if placed else "",
            f"{requests} role request{'s' if requests != 1 else ''} name it" if requests else "",
        ]
        raise Conflict(
            f"{unit} cannot be deleted: {' and '.join(h for h in held if h)}. "
            "Move its staff to another unit first; a unit named by requests is kept.",
            code="unit_in_use",
        )
    for contact in unit.contacts.select_related("user"):
        remove_unit_contact(actor=actor, contact=contact)
    record(
        actor=actor,
        verb="unit.deleted",
        obj=unit,
        details={"code": unit.code, "name": unit.name},
    )
    unit.delete()


@transaction.atomic
def add_unit_contact(*, actor: Actor, unit: Unit, user: User, duty: str) -> UnitContact:
    require(actor, Permission.DIRECTORY_MANAGE)
    if duty not in UnitDuty.values:
        raise ValidationFailed({"duty": "Choose login liaison or login approver."})
    _staff(user, "user")
    contact, created = UnitContact.objects.get_or_create(unit=unit, user=user, duty=duty)
    if not created:
        raise ValidationFailed({"user": f"{user.display_name} is that already."})
    record(
        actor=actor,
        verb="unit_contact.added",
        obj=contact,
        subject=user,
        details={"unit": unit.code, "duty": duty},
    )
    return contact


@transaction.atomic
def remove_unit_contact(*, actor: Actor, contact: UnitContact) -> None:
    require(actor, Permission.DIRECTORY_MANAGE)
    record(
        actor=actor,
        verb="unit_contact.removed",
        obj=contact,
        subject=contact.user,
        details={"unit": contact.unit.code, "duty": contact.duty},
    )
    contact.delete()


@transaction.atomic
def add_steward(*, actor: Actor, user: User, duty: str, role_type: str = "") -> Steward:
    """Make ``user`` a functional-area lead of ``role_type``, or a system administrator."""
    require(actor, Permission.DIRECTORY_MANAGE)
    _staff(user, "user")
    if duty == Duty.AREA_LEAD and role_type not in LEAD_ROLE_TYPES:
        raise ValidationFailed({"role_type": "Choose the role type the lead owns."})
    if duty == Duty.SYSTEM_ADMINISTRATOR:
        role_type = ""
    elif duty != Duty.AREA_LEAD:
        raise ValidationFailed({"duty": "Choose functional-area lead or system administrator."})
    try:
        with transaction.atomic():
            steward = Steward.objects.create(user=user, duty=duty, role_type=role_type)
    except IntegrityError:
        raise ValidationFailed({"user": f"{user.display_name} is that already."}) from None
    record(
        actor=actor,
        verb="steward.added",
        obj=steward,
        subject=user,
        details={"duty": duty, "role_type": role_type},
    )
    return steward


@transaction.atomic
def remove_steward(*, actor: Actor, steward: Steward) -> None:
    require(actor, Permission.DIRECTORY_MANAGE)
    record(
        actor=actor,
        verb="steward.removed",
        obj=steward,
        subject=steward.user,
        details={"duty": steward.duty, "role_type": steward.role_type},
    )
    steward.delete()


@transaction.atomic
def place(
    *,
    actor: Actor,
    user: User,
    unit: Unit,
    supervisor: User | None,
    since: datetime.date | None = None,
) -> Placement:
    """Record (or correct) a staff member's unit and supervisor. A move to another unit that
    should remove the old unit's grants is a transfer (``removal_actions.transfer``)."""
    require(actor, Permission.DIRECTORY_MANAGE)
    if user.record_type != RecordType.STAFF:
        raise ValidationFailed({"user": f"{user.display_name} is not a staff user."})
    if supervisor is not None:
        if supervisor.pk == user.pk:
            raise ValidationFailed({"supervisor": "Nobody supervises themself."})
        _staff(supervisor, "supervisor")
    placement = Placement.objects.select_for_update().filter(user=user).first()
    before = (str(placement.unit), str(placement.supervisor or "")) if placement else (None, None)
    placement = placement or Placement(user=user)
    placement.unit, placement.supervisor = unit, supervisor
    placement.since = since or placement.since or timezone.localdate()
    placement.save()
    record(
        actor=actor,
        verb="placement.saved",
        obj=placement,
        subject=user,
        changes=[
            {"field": "unit", "old": before[0], "new": str(unit)},
            {"field": "supervisor", "old": before[1], "new": str(supervisor or "")},
        ],
    )
    return placement


@transaction.atomic
def add_holiday(*, actor: Actor, date: datetime.date, name: str) -> Holiday:
    require(actor, Permission.DIRECTORY_MANAGE)
    if not name.strip():
        raise ValidationFailed({"name": "Name the holiday."})
    if Holiday.objects.filter(date=date).exists():
        raise ValidationFailed({"date": f"{date} is a holiday already."})
    holiday = Holiday.objects.create(date=date, name=name.strip())
    record(actor=actor, verb="holiday.added", obj=holiday, details={"date": str(date)})
    return holiday


@transaction.atomic
def remove_holiday(*, actor: Actor, holiday: Holiday) -> None:
    require(actor, Permission.DIRECTORY_MANAGE)
    record(actor=actor, verb="holiday.removed", obj=holiday, details={"date": str(holiday.date)})
    holiday.delete()


@transaction.atomic
def publish_privacy_form(*, actor: Actor, variant: str, title: str, text: str) -> PrivacyFormText:
    """A new version of the privacy & security form: signatures of older versions no longer
    count for new requests, and an outdated version cannot be signed."""
    require(actor, Permission.DIRECTORY_MANAGE)
    errors = {}
    if variant not in FormVariant.values:
        errors["variant"] = "Choose the staff or the student form."
    if not title.strip():
        errors["title"] = "Give the form a title."
    if not text.strip():
        errors["text"] = "The form needs its text."
    if errors:
        raise ValidationFailed(errors)
    latest = (
        PrivacyFormText.objects.select_for_update().filter(variant=variant).order_by("-version")
    ).first()
    form = PrivacyFormText.objects.create(
        variant=variant,
        version=(latest.version + 1) if latest else 1,
        title=title.strip(),
        text=text.strip(),
        published_at=timezone.now(),
        published_by=actor.user,
    )
    record(
        actor=actor,
        verb="privacy_form.published",
        obj=form,
        details={"variant": variant, "version": form.version},
    )
    return form
