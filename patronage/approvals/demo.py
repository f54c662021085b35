"""Access governance for ``patronage demo``: units with their login liaisons and approvers,
every demo staff member's unit and supervisor, the functional-area leads and system
administrators, the holidays of the coming year-end, the privacy & security forms, and one
role request waiting for a lead's decision (the demo administrator is one of the Fulfillment
leads, so it is in their inbox). Written through the actions, once: a second run finds the
units and adds nothing."""

from __future__ import annotations

import datetime
import importlib

from django.db import transaction
from django.utils import timezone

from patronage.access.models import Role, RoleGrant
from patronage.accounts.choices import RecordType, UserStatus
from patronage.accounts.models import User
from patronage.audit.context import Actor, Channel
from patronage.organization.models import Library

from . import actions, directory_actions
from .actions import LineSpec
from .choices import Duty, FormVariant, LineAction, RequestKind, UnitDuty
from .models import PrivacyFormText, Unit

# code, name, library code (None: the whole institution)
UNITS: list[tuple[str, str, str | None]] = [
    ("ACCESS", "Access Services", "MAIN"),
    ("HSL_ACCESS", "Health Sciences Access Services", "HSL"),
    ("TECH", "Technical Services", "MAIN"),
    ("LIBRARY_IT", "Library IT", None),
]
ACCESS_JOBS = {"CIRC_MANAGER", "CIRC_OPERATOR", "STUDENT_WORKER", "USER_MANAGER"}
TECH_JOBS = {"CATALOGER", "ACQ_OPERATOR"}


def _staff(job: str) -> list[User]:
    return list(
        User.objects.filter(
            record_type=RecordType.STAFF, job_category=job, status=UserStatus.ACTIVE
        ).order_by("pk")
    )


def _library_code(user: User) -> str:
    """The library the staff member's grants are in (desk grants name the desk's)."""
    grant = (
        RoleGrant.objects.active()
        .filter(user=user)
        .select_related("library", "circulation_desk__library")
        .exclude(library__isnull=True, circulation_desk__isnull=True)
        .first()
    )
    if grant is None:
        return "MAIN"
    library = grant.library or grant.circulation_desk.library  # type: ignore[union-attr]
    return library.code


def _forms(actor: Actor) -> None:
    """Both variants of the privacy form are published (a fresh database has them from the
    data migration; a flushed one gets the same texts again)."""
    texts = importlib.import_module("patronage.approvals.migrations.0002_privacy_form_texts")
    for variant, title, text in (
        (FormVariant.STAFF, "Data privacy & security responsibilities (staff)", texts.STAFF_TEXT),
        (
            FormVariant.STUDENT,
            "Data privacy & security responsibilities (student employees)",
            texts.STUDENT_TEXT,
        ),
    ):
        if not PrivacyFormText.objects.filter(variant=variant).exists():
            directory_actions.publish_privacy_form(
                actor=actor, variant=variant, title=title, text=text
            )


def load(*, actor: Actor, admin: User) -> bool:
    """Load the governance demo data; ``False`` when it is there already."""
    if Unit.objects.filter(code=UNITS[0][0]).exists():
        return False
    with transaction.atomic():
        units = {
            code: directory_actions.save_unit(
                actor=actor,
                code=code,
                name=name,
                library=Library.objects.get(code=library) if library else None,
            )
            for code, name, library in UNITS
        }
        managers, systems = _staff("MANAGER"), _staff("SYSTEMS")
        circ_managers = _staff("CIRC_MANAGER")
        heads = {"ACCESS": managers[0], "HSL_ACCESS": managers[2], "TECH": managers[1]}
        for code, head in heads.items():
            directory_actions.place(actor=actor, user=head, unit=units[code], supervisor=None)
            directory_actions.add_unit_contact(
                actor=actor, unit=units[code], user=head, duty=UnitDuty.APPROVER
            )
        directory_actions.place(
            actor=actor, user=managers[3], unit=units["ACCESS"], supervisor=managers[0]
        )
        for person in (admin, *systems):
            directory_actions.place(
                actor=actor, user=person, unit=units["LIBRARY_IT"], supervisor=None
            )
        # Each access unit's desks are run by its circulation managers.
        desk_heads: dict[str, User] = {}
        for manager in circ_managers:
            unit = "ACCESS" if _library_code(manager) == "MAIN" else "HSL_ACCESS"
            desk_heads.setdefault(unit, manager)
            directory_actions.place(
                actor=actor, user=manager, unit=units[unit], supervisor=heads[unit]
            )
        for job in sorted(ACCESS_JOBS - {"CIRC_MANAGER"}):
            for person in _staff(job):
                unit = "ACCESS" if _library_code(person) == "MAIN" else "HSL_ACCESS"
                directory_actions.place(
                    actor=actor,
                    user=person,
                    unit=units[unit],
                    supervisor=desk_heads.get(unit, heads[unit]),
                )
        for job in sorted(TECH_JOBS):
            for person in _staff(job):
                directory_actions.place(
                    actor=actor, user=person, unit=units["TECH"], supervisor=heads["TECH"]
                )
        user_managers = _staff("USER_MANAGER")
        for code, liaison in zip(("ACCESS", "HSL_ACCESS", "TECH"), user_managers, strict=False):
            directory_actions.add_unit_contact(
                actor=actor, unit=units[code], user=liaison, duty=UnitDuty.LIAISON
            )
        leads = [
            ("FULFILLMENT", desk_heads["ACCESS"]),
            ("FULFILLMENT", admin),
            ("ANALYTICS", managers[0]),
            ("RESOURCE_MANAGEMENT", managers[1]),
            ("ACQUISITIONS", managers[1]),
            ("ADMINISTRATION", systems[0]),
        ]
        for role_type, lead in leads:
            directory_actions.add_steward(
                actor=actor, user=lead, duty=Duty.AREA_LEAD, role_type=role_type
            )
        for person in (admin, systems[1]):
            directory_actions.add_steward(actor=actor, user=person, duty=Duty.SYSTEM_ADMINISTRATOR)
        year_end = datetime.date(timezone.localdate().year, 12, 25)
        for day, name in (
            (year_end, "Christmas Day"),
            (year_end + datetime.timedelta(days=7), "New Year's Day"),
        ):
            directory_actions.add_holiday(actor=actor, date=day, name=name)
        _forms(actor)
        _pending_request(desk_heads["ACCESS"])
    return True


def _pending_request(supervisor: User) -> None:
    """The supervisor asks for Fulfillment Operator Extended for one of their desk operators,
    at the desk they work at: it waits for a Fulfillment lead's decision."""
    operator = (
        User.objects.filter(placement__supervisor=supervisor, job_category="CIRC_OPERATOR")
        .order_by("pk")
        .first()
    )
    grant = (
        RoleGrant.objects.active()
        .filter(user=operator, circulation_desk__isnull=False)
        .select_related("circulation_desk")
        .first()
    )
    if operator is None or grant is None:
        return
    actions.file_request(
        actor=Actor(user=supervisor, channel=Channel.CLI, job="demo"),
        subject=operator,
        kind=RequestKind.UPDATE,
        rationale="Evening shifts alone at the desk: collecting fines and disputing fees.",
        lines=[
            LineSpec(
                LineAction.ADD,
                Role.objects.get(code="FULFILLMENT_OPERATOR_EXTENDED"),
                grant.circulation_desk,
            )
        ],
        start_date=timezone.localdate() + datetime.timedelta(days=21),
    )
