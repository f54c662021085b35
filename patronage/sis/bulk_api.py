"""Bulk update and messaging in the native API (mounted in ``patronage.api``).

Saved searches (``/bulk/searches``: the caller's own), and runs (``/bulk/runs``): start one
on a saved search or a list of IDs with one operation (202; the task worker applies it),
poll its progress, read its report (JSON pages or CSV), resume it. Runs and searches of
other staff are 404. Every operation needs ``users:bulk:update``; each kind of change also
the permission of the single edit (``users:user:edit``, ``users:block:manage``,
``users:user:email``), and every user is checked as a single edit would be.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Path, Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from patronage.access.permissions import Permission
from patronage.api_support import MAX_ID, NO_NUL, acting_user, error_responses, permission_required
from patronage.audit.context import Actor, Channel
from patronage.privacy.reads import SEARCHED, note_read, reads_patron_data
from patronage.sis import actions, bulk_update
from patronage.sis.models import ImportRun, SavedSearch

from .api import CSV, ItemsQuery, items_page, run_out
from .schemas import ItemPage, RunOut

router = Router(tags=["Bulk update"])

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED, ACCEPTED, NO_CONTENT = 201, 202, 204
Text = Annotated[str, Field(max_length=255), NO_NUL]
Filters = dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200), NO_NUL]]


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


class SearchIn(Input):
    name: Annotated[str, Field(max_length=100), NO_NUL]
    filters: Filters = Field(
        default_factory=dict,
        description="The Find Users filters: query, field, record_type, account_type, "
        "user_group, job_category, status, role",
        examples=[{"user_group": "UNDERGRAD", "status": "active"}],
    )


class SearchPatch(Input):
    name: Annotated[str, Field(max_length=100), NO_NUL] | None = None
    filters: Filters | None = None


class SearchOut(Schema):
    id: int
    name: str
    filters: dict[str, str]
    updated_at: datetime.datetime


class OperationIn(Input):
    """What to do to each selected user; the fields of the chosen ``type`` only."""

    type: Literal["set_field", "add_note", "add_block", "send_email"]
    field: Text | None = Field(
        default=None, description="set_field: " + ", ".join(bulk_update.BULK_FIELDS)
    )
    value: Text | list[Text] | None = Field(
        default=None, description="set_field: the new value ('' clears)"
    )
    note_type: Text | None = None
    text: Annotated[str, Field(max_length=1000), NO_NUL] | None = None
    user_viewable: bool = False
    popup: bool = False
    owner: Text | int | None = Field(default=None, description="Owning library (id or code)")
    block_type: Text | None = None
    note: Annotated[str, Field(max_length=1000), NO_NUL] | None = None
    expiry_date: Text | None = None
    subject: Annotated[str, Field(max_length=255), NO_NUL] | None = Field(
        default=None, description="send_email; placeholders such as {{ first_name }}"
    )
    body: Annotated[str, Field(max_length=10_000), NO_NUL] | None = None


class BulkRunIn(Input):
    saved_search: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    ids: list[Text] | None = Field(
        default=None,
        max_length=bulk_update.MAX_IDS,
        description="Primary IDs (or identifiers, with match_by any_identifier)",
    )
    match_by: Literal["primary_id", "any_identifier"] = "primary_id"
    operation: OperationIn
    dry_run: bool = False


class BulkRunOut(RunOut):
    selection: str
    operation: str
    parameters: dict[str, Any]


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def bulk_run_out(run: ImportRun) -> dict[str, Any]:
    return {
        **run_out(run),
        "selection": bulk_update.selection_text(run),
        "operation": bulk_update.operation_text(run),
        "parameters": run.parameters,
    }


def _run(request: HttpRequest, run_id: int) -> ImportRun:
    return bulk_update.get_bulk_run(acting_user(request), run_id)


# --- saved searches ------------------------------------------------------------------------------


@router.get("/bulk/searches", response={200: list[SearchOut], **error_responses()})
@permission_required(Permission.USERS_BULK_UPDATE)
def list_searches(request: HttpRequest) -> list[SavedSearch]:
    """Your saved searches, by name."""
    return list(bulk_update.visible_searches(acting_user(request)))


@router.post("/bulk/searches", response={CREATED: SearchOut, **error_responses(400)})
@permission_required(Permission.USERS_BULK_UPDATE)
def create_search(request: HttpRequest, payload: SearchIn) -> Status[SavedSearch]:
    """Save a user search under a name (422 for an unknown filter or value)."""
    search = bulk_update.save_search(
        actor=_actor(request), name=payload.name, filters=payload.filters
    )
    return Status(CREATED, search)


@router.get("/bulk/searches/{search_id}", response={200: SearchOut, **error_responses(404)})
@permission_required(Permission.USERS_BULK_UPDATE)
def get_search(request: HttpRequest, search_id: Id) -> SavedSearch:
    return bulk_update.get_search(acting_user(request), search_id)


@router.patch("/bulk/searches/{search_id}", response={200: SearchOut, **error_responses(400, 404)})
@permission_required(Permission.USERS_BULK_UPDATE)
def update_search(request: HttpRequest, search_id: Id, payload: SearchPatch) -> SavedSearch:
    search = bulk_update.get_search(acting_user(request), search_id)
    return bulk_update.save_search(
        actor=_actor(request),
        name=search.name if payload.name is None else payload.name,
        filters=search.filters if payload.filters is None else payload.filters,
        search=search,
    )


@router.delete("/bulk/searches/{search_id}", response={NO_CONTENT: None, **error_responses(404)})
@permission_required(Permission.USERS_BULK_UPDATE)
def delete_search(request: HttpRequest, search_id: Id) -> Status[None]:
    search = bulk_update.get_search(acting_user(request), search_id)
    bulk_update.delete_search(actor=_actor(request), search=search)
    return Status(NO_CONTENT, None)


# --- runs ----------------------------------------------------------------------------------------


class RunsQuery(Schema):
    limit: Annotated[int, Field(ge=1, le=200)] = 50


@router.get("/bulk/runs", response={200: list[BulkRunOut], **error_responses()})
@permission_required(Permission.USERS_BULK_UPDATE)
def list_runs(request: HttpRequest, query: Query[RunsQuery]) -> list[dict[str, Any]]:
    """Your bulk runs, the latest first."""
    runs = bulk_update.visible_runs(acting_user(request))[: query.limit]
    return [bulk_run_out(run) for run in runs]


@router.post("/bulk/runs", response={ACCEPTED: BulkRunOut, **error_responses(400, 404)})
@permission_required(Permission.USERS_BULK_UPDATE)
def start_run(request: HttpRequest, payload: BulkRunIn) -> Status[dict[str, Any]]:
    """Start a bulk update on a saved search (evaluated when the run starts) or a list of
    IDs (IDs that find nobody are reported as rejected): 202 and the run, which the task
    worker applies. ``dry_run``: the full report, nothing written or sent."""
    run = bulk_update.start_bulk(
        actor=_actor(request),
        operation=payload.operation.model_dump(exclude_none=True),
        saved_search=payload.saved_search,
        ids=payload.ids,
        match_by=payload.match_by,
        dry_run=payload.dry_run,
    )
    bulk_update.enqueue_bulk(run=run)
    return Status(ACCEPTED, bulk_run_out(run))


@router.get("/bulk/runs/{run_id}", response={200: BulkRunOut, **error_responses(404)})
@permission_required(Permission.USERS_BULK_UPDATE)
def get_run(request: HttpRequest, run_id: Id) -> dict[str, Any]:
    """A run's status and counters (poll it: ``records_done`` of ``records_read``)."""
    return bulk_run_out(_run(request, run_id))


@router.post(
    "/bulk/runs/{run_id}/resume", response={ACCEPTED: BulkRunOut, **error_responses(404, 409)}
)
@permission_required(Permission.USERS_BULK_UPDATE)
def resume_run(request: HttpRequest, run_id: Id) -> Status[dict[str, Any]]:
    """Hand an interrupted run to the task worker again: it carries on where it stopped."""
    run = bulk_update.resume_bulk(actor=_actor(request), run_id=run_id)
    return Status(ACCEPTED, bulk_run_out(run))


@router.get("/bulk/runs/{run_id}/items", response={200: ItemPage, **error_responses(404)})
@permission_required(Permission.USERS_BULK_UPDATE)
@reads_patron_data(SEARCHED, Channel.API)
def run_items(request: HttpRequest, run_id: Id, query: Query[ItemsQuery]) -> dict[str, Any]:
    """The report's rows: updated (with the change), sent, and rejected users (with the
    reason); unchanged users are only counted. ``outcome`` narrows to one kind. Logged in
    the read-access log, like a search."""
    run = _run(request, run_id)
    note_read(request, run=run.job)
    return items_page(run, query)


@router.get("/bulk/runs/{run_id}/report", response=error_responses(404), openapi_extra=CSV)
@permission_required(Permission.USERS_BULK_UPDATE)
@reads_patron_data(SEARCHED, Channel.API)
def run_report(request: HttpRequest, run_id: Id) -> StreamingHttpResponse:
    """The whole report as a CSV download (streamed; logged like a search)."""
    run = _run(request, run_id)
    note_read(request, run=run.job, report="csv")
    return actions.report_response(run)
