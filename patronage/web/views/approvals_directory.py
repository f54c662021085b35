"""The directory and removal in the staff UI: units with their login liaisons and approvers,
functional-area leads and system administrators, staff placements, the holiday calendar and
the privacy form (``access:directory:manage``); separations (one, or the CSV from HR) and
transfers (``access:separation:process``)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.accounts.models import User
from patronage.approvals import directory_actions, removal_actions
from patronage.approvals.choices import Duty, FormVariant, UnitDuty
from patronage.approvals.directory_actions import LEAD_ROLE_TYPES
from patronage.approvals.models import (
    Holiday,
    Placement,
    PrivacyFormText,
    Separation,
    Steward,
    Unit,
    UnitContact,
)
from patronage.errors import Conflict, DomainError, ValidationFailed
from patronage.organization.models import Library

from ..common import INVALID, actor, domain_errors, staff

UPLOAD_LIMIT = 5 * 1024 * 1024
CONFLICT = 409


def _person(request: HttpRequest, field: str, required: bool = True) -> User | None:
    value = request.POST.get(field, "").strip()
    if not value:
        if required:
            raise ValidationFailed({field: "Enter a primary ID, identifier or e-mail."})
        return None
    found = accounts.find_by_identifier(staff(request), value)
    if found is None:
        raise ValidationFailed({field: f"No user '{value}'."})
    return found


def _someone(request: HttpRequest, field: str) -> User:
    found = _person(request, field)
    assert found is not None  # required
    return found


def _unit(request: HttpRequest, field: str = "unit") -> Unit:
    value = request.POST.get(field, "")
    found = Unit.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if found is None:
        raise ValidationFailed({field: "Choose a unit."})
    return found


def _date(request: HttpRequest, field: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(request.POST.get(field, "").strip())
    except ValueError:
        raise ValidationFailed({field: "Enter a date as YYYY-MM-DD."}) from None


# --- the directory ------------------------------------------------------------------------------


def _directory(
    request: HttpRequest,
    errors: dict[str, str] | None = None,
    form: str = "",
    status: int | None = None,
    editing_unit: int | None = None,
) -> HttpResponse:
    return render(
        request,
        "web/approvals/directory.html",
        {
            "nav": "directory",
            "units": Unit.objects.select_related("library").prefetch_related("contacts__user"),
            "stewards": Steward.objects.select_related("user"),
            "placements": Placement.objects.select_related("user", "unit", "supervisor").order_by(
                "unit__name", "user__sort_name"
            ),
            "holidays": Holiday.objects.filter(
                date__gte=datetime.date.today().replace(month=1, day=1)
            ),
            "forms": PrivacyFormText.objects.order_by("variant", "-version"),
            "unit_options": [(str(u.pk), str(u)) for u in Unit.objects.all()],
            "library_options": [(str(lib.pk), str(lib)) for lib in Library.objects.all()],
            "duty_options": UnitDuty.choices,
            "steward_options": Duty.choices,
            "role_type_options": [
                (code, code.replace("_", " ").title()) for code in LEAD_ROLE_TYPES
            ],
            "variant_options": FormVariant.choices,
            "errors": errors or {},
            "form": form,
            "editing_unit": editing_unit,
            "values": request.POST if errors else {},
        },
        status=status or (INVALID if errors else 200),
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    return _directory(request)


def _write(
    request: HttpRequest,
    form: str,
    run: Callable[[], Any],
    done: str,
    editing_unit: int | None = None,
) -> HttpResponse:
    try:
        run()
    except ValidationFailed as exc:
        return _directory(request, exc.errors, form, editing_unit=editing_unit)
    except Conflict as exc:
        return _directory(
            request, {"refusal": exc.message}, form, status=CONFLICT, editing_unit=editing_unit
        )
    messages.success(request, done)
    return redirect("web:governance_directory")


def _library(request: HttpRequest) -> Library | None:
    """The form's library: none chosen is none; one that does not exist is refused."""
    library_id = request.POST.get("library", "").strip()
    if not library_id:
        return None
    found = Library.objects.filter(pk=int(library_id)).first() if library_id.isdigit() else None
    if found is None:
        raise ValidationFailed({"library": "Choose one of the libraries."})
    return found


def _existing_unit(unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise Http404("No such unit.")
    return unit


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def unit_add(request: HttpRequest) -> HttpResponse:
    return _write(
        request,
        "unit",
        lambda: directory_actions.save_unit(
            actor=actor(request),
            code=request.POST.get("code", ""),
            name=request.POST.get("name", ""),
            library=_library(request),
        ),
        "Unit saved.",
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def unit_edit(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _existing_unit(unit_id)
    return _write(
        request,
        "unit-edit",
        lambda: directory_actions.save_unit(
            actor=actor(request),
            code=request.POST.get("code", ""),
            name=request.POST.get("name", ""),
            library=_library(request),
            unit=unit,
        ),
        f"Unit {unit.code} saved.",
        editing_unit=unit.pk,
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def unit_delete(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = _existing_unit(unit_id)
    return _write(
        request,
        "unit-delete",
        lambda: directory_actions.delete_unit(actor=actor(request), unit=unit),
        f"Unit {unit.code} deleted.",
        editing_unit=unit.pk,
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def contact_add(request: HttpRequest) -> HttpResponse:
    return _write(
        request,
        "contact",
        lambda: directory_actions.add_unit_contact(
            actor=actor(request),
            unit=_unit(request),
            user=_someone(request, "user"),
            duty=request.POST.get("duty", ""),
        ),
        "Liaison or approver added.",
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def contact_remove(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = UnitContact.objects.select_related("unit", "user").filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact.")
    directory_actions.remove_unit_contact(actor=actor(request), contact=contact)
    messages.success(request, "Removed.")
    return redirect("web:governance_directory")


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def steward_add(request: HttpRequest) -> HttpResponse:
    return _write(
        request,
        "steward",
        lambda: directory_actions.add_steward(
            actor=actor(request),
            user=_someone(request, "user"),
            duty=request.POST.get("duty", ""),
            role_type=request.POST.get("role_type", ""),
        ),
        "Lead or system administrator added.",
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def steward_remove(request: HttpRequest, steward_id: int) -> HttpResponse:
    steward = Steward.objects.select_related("user").filter(pk=steward_id).first()
    if steward is None:
        raise Http404("No such lead or administrator.")
    directory_actions.remove_steward(actor=actor(request), steward=steward)
    messages.success(request, "Removed.")
    return redirect("web:governance_directory")


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def placement_save(request: HttpRequest) -> HttpResponse:
    return _write(
        request,
        "placement",
        lambda: directory_actions.place(
            actor=actor(request),
            user=_someone(request, "user"),
            unit=_unit(request),
            supervisor=_person(request, "supervisor", required=False),
        ),
        "Placement saved.",
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def holiday_add(request: HttpRequest) -> HttpResponse:
    return _write(
        request,
        "holiday",
        lambda: directory_actions.add_holiday(
            actor=actor(request), date=_date(request, "date"), name=request.POST.get("name", "")
        ),
        "Holiday added.",
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def holiday_remove(request: HttpRequest, holiday_id: int) -> HttpResponse:
    holiday = Holiday.objects.filter(pk=holiday_id).first()
    if holiday is None:
        raise Http404("No such holiday.")
    directory_actions.remove_holiday(actor=actor(request), holiday=holiday)
    messages.success(request, "Removed.")
    return redirect("web:governance_directory")


@requires(Permission.DIRECTORY_MANAGE)
@require_POST
@domain_errors
def privacy_form_publish(request: HttpRequest) -> HttpResponse:
    return _write(
        request,
        "privacy_form",
        lambda: directory_actions.publish_privacy_form(
            actor=actor(request),
            variant=request.POST.get("variant", ""),
            title=request.POST.get("title", ""),
            text=request.POST.get("text", ""),
        ),
        "New version of the form published.",
    )


# --- separations and transfers -----------------------------------------------------------------


def _separations(
    request: HttpRequest,
    errors: dict[str, str] | None = None,
    report: removal_actions.FileReport | None = None,
    transfer: removal_actions.TransferResult | None = None,
) -> HttpResponse:
    return render(
        request,
        "web/approvals/separations.html",
        {
            "nav": "separations",
            "separations": Separation.objects.select_related("user")[:100],
            "unit_options": [(str(u.pk), str(u)) for u in Unit.objects.all()],
            "errors": errors or {},
            "values": request.POST if errors else {},
            "report": report,
            "transfer": transfer,
        },
        status=INVALID if errors else 200,
    )


@requires(Permission.SEPARATIONS_PROCESS)
@require_GET
def separations(request: HttpRequest) -> HttpResponse:
    return _separations(request)


@requires(Permission.SEPARATIONS_PROCESS)
@require_POST
@domain_errors
def separation_add(request: HttpRequest) -> HttpResponse:
    try:
        user = _someone(request, "user")
        removal_actions.separate(
            actor=actor(request),
            user=user,
            separation_date=_date(request, "separation_date"),
            source="staff UI",
        )
    except ValidationFailed as exc:
        return _separations(request, exc.errors)
    messages.success(request, f"Separation of {user.display_name} recorded.")
    return redirect("web:separations")


@requires(Permission.SEPARATIONS_PROCESS)
@require_POST
@domain_errors
def separation_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed({"file": "Choose the CSV file from HR."})
        if upload.size and upload.size > UPLOAD_LIMIT:
            raise ValidationFailed({"file": "The file is larger than 5 MB."})
        report = removal_actions.process_separation_file(
            actor=actor(request), content=upload.read(), source=upload.name or "upload"
        )
    except ValidationFailed as exc:
        return _separations(request, exc.errors)
    return _separations(request, report=report)


@requires(Permission.SEPARATIONS_PROCESS)
@require_POST
@domain_errors
def transfer(request: HttpRequest) -> HttpResponse:
    try:
        user = _someone(request, "user")
        result = removal_actions.transfer(
            actor=actor(request),
            user=user,
            unit=_unit(request),
            supervisor=_person(request, "supervisor", required=False),
            reason=request.POST.get("reason", ""),
        )
    except ValidationFailed as exc:
        return _separations(request, exc.errors)
    except DomainError:
        raise
    return _separations(request, transfer=result)
