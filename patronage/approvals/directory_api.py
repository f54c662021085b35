"""The access-governance directory under /api/v1/directory/: units with their login liaisons
and approvers, the functional-area leads of each role type and the system administrators,
staff placements (unit and supervisor), the holiday calendar, and the privacy & security
forms.

Every staff login (``access:request:file``) may read units, leads and holidays: they say whom
to ask and who decides. Placements (who supervises whom) and every change need
``access:directory:manage``. Thin: parse, call ``directory_actions``, serialise. A unit,
contact, lead, holiday or staff member named in the path that does not exist is a 404; a
person named in the body who is not a staff member a 422."""

from __future__ import annotations

from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Path, Router, Status

from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.accounts.choices import RecordType
from patronage.accounts.models import User
from patronage.api_support import MAX_ID, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel
from patronage.errors import NotFound, ValidationFailed
from patronage.organization.models import Library

from . import directory_actions
from .models import Holiday, Placement, PrivacyFormText, Steward, Unit, UnitContact
from .schemas import (
    ContactIn,
    HolidayIn,
    HolidayOut,
    PlacementIn,
    PlacementOut,
    PrivacyFormIn,
    PublishedFormOut,
    StewardIn,
    StewardOut,
    UnitIn,
    UnitOut,
)

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED, NO_CONTENT = 201, 204


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def _staff_member(user_id: int, field: str) -> User:
    found = User.objects.filter(pk=user_id, record_type=RecordType.STAFF).first()
    if found is None:
        raise ValidationFailed({field: "No such staff member."})
    return found


def _library(library_id: int | None) -> Library | None:
    if library_id is None:
        return None
    found = Library.objects.filter(pk=library_id).first()
    if found is None:
        raise ValidationFailed({"library_id": "No such library."})
    return found


def _person(user: User) -> dict[str, Any]:
    return {"user_id": user.pk, "primary_id": user.primary_id, "name": user.display_name}


def _units() -> QuerySet[Unit]:
    return Unit.objects.select_related("library").prefetch_related("contacts__user")


def _unit(unit_id: int) -> Unit:
    found = _units().filter(pk=unit_id).first()
    if found is None:
        raise NotFound("No such unit.", code="unit_not_found")
    return found


def unit_out(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "code": unit.code,
        "name": unit.name,
        "library_id": unit.library_id,
        "library": unit.library.code if unit.library else None,
        "contacts": [{"id": c.pk, "duty": c.duty, **_person(c.user)} for c in unit.contacts.all()],
    }


# --- units, liaisons and approvers --------------------------------------------------------------


@router.get(
    "/directory/units",
    response={200: list[UnitOut], **error_responses()},
    summary="Units with their login liaisons and approvers",
)
@permission_required(Permission.REQUESTS_FILE)
def list_units(request: HttpRequest) -> Any:
    return [unit_out(unit) for unit in _units()]


@router.get(
    "/directory/units/{unit_id}",
    response={200: UnitOut, **error_responses(404)},
    summary="One unit",
)
@permission_required(Permission.REQUESTS_FILE)
def get_unit(request: HttpRequest, unit_id: Id) -> Any:
    return unit_out(_unit(unit_id))


@router.post(
    "/directory/units",
    response={CREATED: UnitOut, **error_responses()},
    summary="Add a unit",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def add_unit(request: HttpRequest, payload: UnitIn) -> Any:
    unit = directory_actions.save_unit(
        actor=_actor(request),
        code=payload.code,
        name=payload.name,
        library=_library(payload.library_id),
    )
    return Status(CREATED, unit_out(_unit(unit.pk)))


@router.put(
    "/directory/units/{unit_id}",
    response={200: UnitOut, **error_responses(404)},
    summary="Change a unit's code, name or library",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def change_unit(request: HttpRequest, unit_id: Id, payload: UnitIn) -> Any:
    directory_actions.save_unit(
        actor=_actor(request),
        code=payload.code,
        name=payload.name,
        library=_library(payload.library_id),
        unit=_unit(unit_id),
    )
    return unit_out(_unit(unit_id))


@router.delete(
    "/directory/units/{unit_id}",
    response={NO_CONTENT: None, **error_responses(404, 409)},
    summary="Delete a unit nobody is placed in and no request names",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def delete_unit(request: HttpRequest, unit_id: Id) -> Status[None]:
    """Its liaisons and approvers go with it; a unit in use is a 409 ``unit_in_use``."""
    directory_actions.delete_unit(actor=_actor(request), unit=_unit(unit_id))
    return Status(NO_CONTENT, None)


@router.post(
    "/directory/units/{unit_id}/contacts",
    response={CREATED: UnitOut, **error_responses(404)},
    summary="Name a login liaison or login approver of a unit",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def add_contact(request: HttpRequest, unit_id: Id, payload: ContactIn) -> Any:
    directory_actions.add_unit_contact(
        actor=_actor(request),
        unit=_unit(unit_id),
        user=_staff_member(payload.user_id, "user_id"),
        duty=payload.duty,
    )
    return Status(CREATED, unit_out(_unit(unit_id)))


@router.delete(
    "/directory/units/{unit_id}/contacts/{contact_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove a login liaison or login approver",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def remove_contact(request: HttpRequest, unit_id: Id, contact_id: Id) -> Status[None]:
    contact = (
        UnitContact.objects.select_related("unit", "user")
        .filter(pk=contact_id, unit_id=unit_id)
        .first()
    )
    if contact is None:
        raise NotFound("No such liaison or approver of this unit.", code="contact_not_found")
    directory_actions.remove_unit_contact(actor=_actor(request), contact=contact)
    return Status(NO_CONTENT, None)


# --- functional-area leads and system administrators -------------------------------------------


def steward_out(steward: Steward) -> dict[str, Any]:
    return {
        "id": steward.pk,
        "duty": steward.duty,
        "role_type": steward.role_type,
        **_person(steward.user),
    }


@router.get(
    "/directory/stewards",
    response={200: list[StewardOut], **error_responses()},
    summary="Functional-area leads per role type, and system administrators",
)
@permission_required(Permission.REQUESTS_FILE)
def list_stewards(request: HttpRequest, role_type: str = "") -> Any:
    """``role_type``: only the leads of that role type (e.g. FULFILLMENT, ADMINISTRATION)."""
    stewards = Steward.objects.select_related("user")
    if role_type:
        stewards = stewards.filter(role_type=role_type.strip().upper())
    return [steward_out(s) for s in stewards]


@router.post(
    "/directory/stewards",
    response={CREATED: StewardOut, **error_responses()},
    summary="Name a functional-area lead or a system administrator",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def add_steward(request: HttpRequest, payload: StewardIn) -> Any:
    steward = directory_actions.add_steward(
        actor=_actor(request),
        user=_staff_member(payload.user_id, "user_id"),
        duty=payload.duty,
        role_type=(payload.role_type or "").strip().upper(),
    )
    return Status(CREATED, steward_out(steward))


@router.delete(
    "/directory/stewards/{steward_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove a lead or system administrator",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def remove_steward(request: HttpRequest, steward_id: Id) -> Status[None]:
    steward = Steward.objects.select_related("user").filter(pk=steward_id).first()
    if steward is None:
        raise NotFound("No such lead or system administrator.", code="steward_not_found")
    directory_actions.remove_steward(actor=_actor(request), steward=steward)
    return Status(NO_CONTENT, None)


# --- placements ---------------------------------------------------------------------------------


def placement_out(placement: Placement) -> dict[str, Any]:
    return {
        **_person(placement.user),
        "unit_id": placement.unit_id,
        "unit": placement.unit.code,
        "supervisor": _person(placement.supervisor) if placement.supervisor else None,
        "since": placement.since,
    }


@router.get(
    "/directory/placements",
    response={200: list[PlacementOut], **error_responses()},
    summary="Each staff member's unit and supervisor",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def list_placements(request: HttpRequest, unit_id: int | None = None) -> Any:
    placements = Placement.objects.select_related("user", "unit", "supervisor").order_by(
        "unit__name", "user__sort_name"
    )
    if unit_id is not None:
        placements = placements.filter(unit_id=unit_id)
    return [placement_out(p) for p in placements]


@router.put(
    "/directory/placements/{user_id}",
    response={200: PlacementOut, **error_responses(404)},
    summary="Record or correct a staff member's unit and supervisor",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def place(request: HttpRequest, user_id: Id, payload: PlacementIn) -> Any:
    """A move that should end the old unit's grants is a transfer (``POST
    /users/{id}/transfer``), not this."""
    user = accounts.get_user(acting_user(request), user_id)
    unit = Unit.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise ValidationFailed({"unit_id": "No such unit."})
    placement = directory_actions.place(
        actor=_actor(request),
        user=user,
        unit=unit,
        supervisor=(
            _staff_member(payload.supervisor_id, "supervisor_id")
            if payload.supervisor_id is not None
            else None
        ),
        since=payload.since,
    )
    return placement_out(placement)


# --- holidays -----------------------------------------------------------------------------------


@router.get(
    "/directory/holidays",
    response={200: list[HolidayOut], **error_responses()},
    summary="The holiday calendar (days that are not business days)",
)
@permission_required(Permission.REQUESTS_FILE)
def list_holidays(request: HttpRequest) -> Any:
    return list(Holiday.objects.all())


@router.post(
    "/directory/holidays",
    response={CREATED: HolidayOut, **error_responses()},
    summary="Add a holiday",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def add_holiday(request: HttpRequest, payload: HolidayIn) -> Any:
    holiday = directory_actions.add_holiday(
        actor=_actor(request), date=payload.date, name=payload.name
    )
    return Status(CREATED, holiday)


@router.delete(
    "/directory/holidays/{holiday_id}",
    response={NO_CONTENT: None, **error_responses(404)},
    summary="Remove a holiday",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def remove_holiday(request: HttpRequest, holiday_id: Id) -> Status[None]:
    holiday = Holiday.objects.filter(pk=holiday_id).first()
    if holiday is None:
        raise NotFound("No such holiday.", code="holiday_not_found")
    directory_actions.remove_holiday(actor=_actor(request), holiday=holiday)
    return Status(NO_CONTENT, None)


# --- the published texts -------------------------------------------------------------------------


@router.get(
    "/privacy-forms",
    response={200: list[PublishedFormOut], **error_responses()},
    summary="Every published version of the privacy & security forms",
)
@permission_required(Permission.REQUESTS_FILE)
def list_privacy_forms(request: HttpRequest, variant: str = "") -> Any:
    """Newest first; ``variant``: STAFF or STUDENT only."""
    forms = PrivacyFormText.objects.order_by("variant", "-version")
    if variant:
        forms = forms.filter(variant=variant.strip().upper())
    return list(forms)


@router.post(
    "/privacy-forms",
    response={CREATED: PublishedFormOut, **error_responses()},
    summary="Publish a new version of a privacy & security form",
)
@permission_required(Permission.DIRECTORY_MANAGE)
def publish_privacy_form(request: HttpRequest, payload: PrivacyFormIn) -> Any:
    """Signatures of older versions no longer count for new requests."""
    form = directory_actions.publish_privacy_form(
        actor=_actor(request), variant=payload.variant, title=payload.title, text=payload.text
    )
    return Status(CREATED, form)
