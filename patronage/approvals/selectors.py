"""Reading role requests: who may see which, what waits for whom (the approver's inbox), what
is overdue. A request the viewer may not see is a 404, as everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from patronage.access.checks import can
from patronage.access.permissions import Permission
from patronage.accounts.models import User
from patronage.errors import NotFound

from . import directory
from .actions import approved_additions, training_recorded
from .choices import CLOSED_STATUSES, LineAction, LineDecision, RequestStatus, UnitDuty
from .models import RequestLine, RoleRequest, Unit

LINES = Prefetch(
    "lines",
    queryset=RequestLine.objects.select_related(
        "role",
        "library",
        "circulation_desk__library",
        "department__library",
        "acquisitions_unit__library",
        "lead_decided_by",
        "admin_approved_by",
    ).order_by("id"),
)


def _with_relations(requests: QuerySet[RoleRequest]) -> QuerySet[RoleRequest]:
    return requests.select_related(
        "subject", "filed_by", "on_behalf_of", "unit", "signed_off_by", "copied_from"
    ).prefetch_related(LINES, "training")


def visible_requests(viewer: User) -> QuerySet[RoleRequest]:
    """Library IT sees every request; others those they filed, are the subject of, supervise,
    are a liaison or approver of the unit of, or must decide (lead of a requested role type,
    system administrator for administrator roles)."""
    requests = RoleRequest.objects.all()
    if can(viewer, Permission.REQUESTS_PROCESS):
        return _with_relations(requests)
    led = directory.led_role_types(viewer)
    mine = (
        Q(filed_by=viewer)
        | Q(subject=viewer)
        | Q(on_behalf_of=viewer)
        | Q(subject__placement__supervisor=viewer)
        | Q(unit__contacts__user=viewer)
    )
    if led:
        owned = [role_type for role_type in led if role_type != directory.ADMINISTRATION]
        mine |= Q(lines__role__role_type__in=owned)
        if directory.ADMINISTRATION in led or "FULFILLMENT" in led:
            mine |= Q(lines__role__role_type="", lines__role__is_admin=True)
    if directory.is_system_administrator(viewer):
        mine |= Q(lines__role__is_admin=True)
    ids = requests.filter(mine).values("pk")
    return _with_relations(RoleRequest.objects.filter(pk__in=ids))


def get_request(viewer: User, pk: int) -> RoleRequest:
    found = visible_requests(viewer).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if found is None:
        raise NotFound("No such role request.", code="request_not_found")
    return found


def get_line(viewer: User, pk: int) -> RequestLine:
    request_id = (
        RequestLine.objects.filter(pk=pk).values_list("request_id", flat=True).first()
        if 0 < pk < 2**63
        else None
    )
    if request_id is None:
        raise NotFound("No such request line.", code="line_not_found")
    try:
        request = get_request(viewer, request_id)
    except NotFound:
        raise NotFound("No such request line.", code="line_not_found") from None
    return next(line for line in request.lines.all() if line.pk == pk)


@dataclass
class Task:
    """Something a request waits for from the viewer."""

    request: RoleRequest
    step: str

    @property
    def overdue(self) -> bool:
        return self.request.due_at < timezone.now()


def inbox(viewer: User) -> list[Task]:
    """The approver's inbox: open requests that wait for the viewer, oldest due first."""
    processor = can(viewer, Permission.REQUESTS_PROCESS)
    led = directory.led_role_types(viewer)
    sysadmin = directory.is_system_administrator(viewer)
    tasks = []
    open_requests = visible_requests(viewer).exclude(status__in=CLOSED_STATUSES).order_by("due_at")
    for request in open_requests:
        own = viewer.pk in (request.subject_id, request.filed_by_id, request.on_behalf_of_id)
        step = _step_for(request, viewer, own, processor, led, sysadmin)
        if step:
            tasks.append(Task(request, step))
    return tasks


def _step_for(
    request: RoleRequest,
    viewer: User,
    own: bool,
    processor: bool,
    led: set[str],
    sysadmin: bool,
) -> str:
    status = request.status
    if status == RequestStatus.AWAITING_SIGNOFF and viewer.pk != request.subject_id:
        placement = directory.placement_of(request.subject)
        if placement is not None and viewer.pk in directory.managers_of(placement):
            return "Sign off as the staff manager"
    if status == RequestStatus.AWAITING_DECISION and not own:
        for line in request.lines.all():
            if line.decision != LineDecision.PENDING:
                continue
            if line.lead_decided_by_id is None and directory.owning_role_type(line.role) in led:
                return "Decide as functional-area lead"
            if (
                sysadmin
                and line.role.is_admin
                and line.action == LineAction.ADD
                and line.admin_approved_by_id is None
                and line.lead_decided_by_id != viewer.pk
            ):
                return "Co-approve as system administrator"
    if status == RequestStatus.AWAITING_FORM and viewer.pk == request.subject_id:
        return "Sign the data privacy & security form"
    if status == RequestStatus.IN_TRAINING and not own:
        recorded = training_recorded(request)
        for line in approved_additions(request):
            if line.training_area in recorded:
                continue
            if processor or directory.owning_role_type(line.role) in led:
                return "Record the training"
    if processor and status in (
        RequestStatus.AWAITING_SANDBOX,
        RequestStatus.AWAITING_PRODUCTION,
    ):
        return (
            "Grant in the sandbox"
            if status == RequestStatus.AWAITING_SANDBOX
            else "Grant in production"
        )
    return ""


def overdue(viewer: User) -> QuerySet[RoleRequest]:
    """Open requests past their due date (processing-time target), oldest first."""
    return (
        visible_requests(viewer)
        .exclude(status__in=CLOSED_STATUSES)
        .filter(due_at__lt=timezone.now())
        .order_by("due_at")
    )


def filable_subjects(viewer: User) -> QuerySet[User]:
    """People the viewer may file for: themself, staff they supervise, staff of the units they
    are a login liaison of."""
    liaison_units = Unit.objects.filter(
        contacts__user=viewer, contacts__duty=UnitDuty.LIAISON
    ).values("pk")
    return (
        User.objects.filter(
            Q(pk=viewer.pk) | Q(placement__supervisor=viewer) | Q(placement__unit__in=liaison_units)
        )
        .distinct()
        .order_by("sort_name", "pk")
    )
