"""Retention and the right to be forgotten in the native API (mounted in ``patronage.api``).

Retention (``privacy:retention:manage``): ``GET/PATCH /privacy/retention`` (the settings),
``POST /privacy/retention/run`` (``{"dry_run": true}`` answers the counts without changing
anything; otherwise the run is enqueued as a background task, 202).

Requests to be forgotten (``privacy:forgetting:manage``): ``GET/POST /forgetting-requests``,
``GET /forgetting-requests/{id}`` (with its preconditions), ``POST .../carry-out`` (409
``forgetting_refused`` naming every unmet precondition), ``POST .../withdraw``. A request
about a user outside the caller's scope, or missing, is 404.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from pydantic import Field, StrictBool, StrictInt

from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.api_support import MAX_ID, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel

from . import forgetting, retention
from .models import ForgettingRequest
from .reads import VIEWED, read_subject, reads_patron_data

router = Router()

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED = 201
ACCEPTED = 202


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


# --- retention ---------------------------------------------------------------------------------


class RetentionSettingsOut(Schema):
    anonymise_loans_after_days: int
    record_last_patron_activity: bool


class RetentionSettingsPatch(Schema):
    # The range is checked by the action, so that an out-of-range value gets its reason.
    anonymise_loans_after_days: StrictInt | None = Field(
        None, description="Days after their return (0 to 3650)"
    )
    record_last_patron_activity: StrictBool | None = Field(
        None, description="false deletes the dates stored for every user"
    )


class RunIn(Schema):
    dry_run: bool = False


class RetentionReportOut(Schema):
    dry_run: bool
    anonymise_after_days: int
    loans_anonymised: int
    borrowers_left_alone: dict[str, int]
    users_purged: int
    users_kept: dict[str, int]
    activity_dates_deleted: int


class EnqueuedOut(Schema):
    task_id: str


@router.get(
    "/privacy/retention",
    response={200: RetentionSettingsOut, **error_responses()},
    summary="The retention settings",
)
@permission_required(Permission.PRIVACY_RETENTION)
def get_retention(request: HttpRequest) -> dict[str, Any]:
    return retention.retention_settings()


@router.patch(
    "/privacy/retention",
    response={200: RetentionSettingsOut, **error_responses(400)},
    summary="Change the retention settings",
)
@permission_required(Permission.PRIVACY_RETENTION)
def change_retention(request: HttpRequest, payload: RetentionSettingsPatch) -> dict[str, Any]:
    """Days after which returned loans are anonymised (0 to 3650); whether the last patron
    activity date is recorded -- turning it off deletes the stored dates. An out-of-range
    value is 422 ``invalid_retention_setting`` and nothing is saved or deleted."""
    return retention.update_retention_settings(
        actor=_actor(request), changes=payload.model_dump(exclude_unset=True)
    )


@router.post(
    "/privacy/retention/run",
    response={200: RetentionReportOut, ACCEPTED: EnqueuedOut, **error_responses(400)},
    summary="Run retention (a dry run answers the counts)",
)
@permission_required(Permission.PRIVACY_RETENTION)
def run(request: HttpRequest, payload: RunIn) -> Any:
    if payload.dry_run:
        return retention.run_retention(actor=_actor(request), dry_run=True).as_dict()
    return Status(ACCEPTED, {"task_id": retention.enqueue_retention(actor=_actor(request))})


# --- requests to be forgotten ------------------------------------------------------------------


class ForgettingRequestIn(Schema):
    user_id: int = Field(ge=1, le=MAX_ID)
    received_via: str = Field(max_length=20)
    received_on: datetime.date | None = None
    notes: str = Field("", max_length=4000)


class PreconditionOut(Schema):
    code: str
    label: str
    met: bool
    detail: str


class ForgettingRequestOut(Schema):
    id: int
    reference: str
    user_id: int | None
    received_via: str
    received_on: datetime.date
    notes: str
    state: str
    recorded_by: str
    recorded_at: datetime.datetime
    decided_at: datetime.datetime | None
    outcome: dict[str, int]
    preconditions: list[PreconditionOut]


def _out(request: ForgettingRequest, actor: Actor) -> dict[str, Any]:
    request.refresh_from_db()
    open_ = request.state == forgetting.ForgettingState.RECEIVED
    return {
        "id": request.pk,
        "reference": request.reference,
        "user_id": request.user_id,
        "received_via": request.received_via,
        "received_on": request.received_on,
        "notes": request.notes,
        "state": request.state,
        "recorded_by": request.recorded_by.primary_id if request.recorded_by else "",
        "recorded_at": request.recorded_at,
        "decided_at": request.decided_at,
        "outcome": request.outcome,
        "preconditions": (
            [vars(p) for p in forgetting.preconditions(request, actor=actor)] if open_ else []
        ),
    }


@router.get(
    "/forgetting-requests",
    response={200: list[ForgettingRequestOut], **error_responses()},
    summary="Requests to be forgotten",
)
@permission_required(Permission.PRIVACY_FORGET)
def list_requests(request: HttpRequest, state: str = "") -> list[dict[str, Any]]:
    actor = _actor(request)
    return [_out(r, actor) for r in forgetting.forgetting_requests(acting_user(request), state)]


@router.post(
    "/forgetting-requests",
    response={CREATED: ForgettingRequestOut, **error_responses(400, 404, 409)},
    summary="Record a person's request to be forgotten",
)
@permission_required(Permission.PRIVACY_FORGET)
def record_request(request: HttpRequest, payload: ForgettingRequestIn) -> Status[Any]:
    actor = _actor(request)
    user = accounts.get_user(acting_user(request), payload.user_id)
    created = forgetting.record_forgetting_request(
        actor=actor,
        user=user,
        received_via=payload.received_via,
        received_on=payload.received_on,
        notes=payload.notes,
    )
    return Status(CREATED, _out(created, actor))


@router.get(
    "/forgetting-requests/{request_id}",
    response={200: ForgettingRequestOut, **error_responses(404)},
    summary="A request to be forgotten, with its preconditions",
)
@permission_required(Permission.PRIVACY_FORGET)
@reads_patron_data(VIEWED, Channel.API, subject_in_path=False)
def get_request(request: HttpRequest, request_id: Id) -> dict[str, Any]:
    """Names the person and what stands in the way (loans, fees): a view of their record."""
    found = forgetting.get_forgetting_request(acting_user(request), request_id)
    if found.user_id is not None:
        read_subject(request, found.user_id)
    return _out(found, _actor(request))


@router.post(
    "/forgetting-requests/{request_id}/carry-out",
    response={200: ForgettingRequestOut, **error_responses(404, 409)},
    summary="Anonymise the person (every precondition must hold)",
)
@permission_required(Permission.PRIVACY_FORGET)
def carry_out(request: HttpRequest, request_id: Id) -> dict[str, Any]:
    actor = _actor(request)
    found = forgetting.get_forgetting_request(acting_user(request), request_id)
    return _out(forgetting.carry_out(actor=actor, request=found), actor)


class WithdrawIn(Schema):
    reason: str = Field("", max_length=1000)


@router.post(
    "/forgetting-requests/{request_id}/withdraw",
    response={200: ForgettingRequestOut, **error_responses(400, 404, 409)},
    summary="The person withdrew the request",
)
@permission_required(Permission.PRIVACY_FORGET)
def withdraw(request: HttpRequest, request_id: Id, payload: WithdrawIn) -> dict[str, Any]:
    actor = _actor(request)
    found = forgetting.get_forgetting_request(acting_user(request), request_id)
    done = forgetting.withdraw_forgetting_request(actor=actor, request=found, reason=payload.reason)
    return _out(done, actor)
