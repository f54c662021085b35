"""The sis synchronisation part of the native API (mounted in ``patronage.api``).

Profiles, runs (upload files to start one; it runs as a background job), their progress and
their reports (JSON pages or the CSV download).
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from patronage.access.permissions import Permission
from patronage.api_support import MAX_ID, error_responses, permission_required
from patronage.audit.context import Actor, Channel
from patronage.errors import NotFound
from patronage.privacy.reads import SEARCHED, note_read, reads_patron_data

from . import actions
from .models import ImportProfile, ImportRun, Outcome
from .schemas import ItemPage, ProfileCreateIn, ProfileIn, ProfileOut, RunOut

router = Router(tags=["SIS synchronisation"])

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
CREATED, ACCEPTED = 201, 202
CSV = {
    "responses": {
        200: {
            "description": "The report as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, Channel.API)


def run_out(run: ImportRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "job": run.job,
        "kind": run.kind,
        "profile": run.profile.code if run.profile else None,
        "files": [FilePath(path).name for path in run.files],
        "dry_run": run.dry_run,
        "status": run.status,
        "error": run.error,
        "started_by": run.started_by_label,
        **{name: getattr(run, name) for name in ("records_read", *actions.COUNTERS)},
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


# --- profiles ----------------------------------------------------------------------------------


@router.get("/sis/profiles", response={200: list[ProfileOut], **error_responses()})
@permission_required(Permission.SIS_IMPORT_RUN)
def list_profiles(request: HttpRequest) -> list[ImportProfile]:
    """The import profiles, by name."""
    return list(ImportProfile.objects.all())


@router.post("/sis/profiles", response={CREATED: ProfileOut, **error_responses(400)})
@permission_required(Permission.SIS_PROFILE_MANAGE)
def create_profile(request: HttpRequest, payload: ProfileCreateIn) -> Status[ImportProfile]:
    """Add an import profile; its code is written into the users it creates."""
    values = payload.model_dump(exclude_unset=True, exclude={"code"})
    profile = actions.save_profile(
        actor=_actor(request), code=payload.code, values=values, create=True
    )
    return Status(CREATED, profile)


def _profile(profile_id: int) -> ImportProfile:
    profile = ImportProfile.objects.filter(pk=profile_id).first()
    if profile is None:
        raise NotFound(f"There is no SIS import profile {profile_id}.", code="profile_not_found")
    return profile


@router.get("/sis/profiles/{profile_id}", response={200: ProfileOut, **error_responses(404)})
@permission_required(Permission.SIS_IMPORT_RUN)
def get_profile(request: HttpRequest, profile_id: Id) -> ImportProfile:
    return _profile(profile_id)


@router.patch("/sis/profiles/{profile_id}", response={200: ProfileOut, **error_responses(400, 404)})
@permission_required(Permission.SIS_PROFILE_MANAGE)
def update_profile(request: HttpRequest, profile_id: Id, payload: ProfileIn) -> ImportProfile:
    """Change a profile's settings; only the settings given are touched (not the code)."""
    values = payload.model_dump(exclude_unset=True)
    code = _profile(profile_id).code
    return actions.save_profile(actor=_actor(request), code=code, values=values)


# --- runs --------------------------------------------------------------------------------------


class RunsQuery(Schema):
    limit: Annotated[int, Field(ge=1, le=200)] = 50


@router.get("/sis/runs", response={200: list[RunOut], **error_responses()})
@permission_required(Permission.SIS_IMPORT_RUN)
def list_runs(request: HttpRequest, query: Query[RunsQuery]) -> list[dict[str, Any]]:
    """The latest runs first."""
    runs = actions.imports().select_related("profile")[: query.limit]
    return [run_out(run) for run in runs]


@router.post("/sis/runs", response={ACCEPTED: RunOut, **error_responses(400, 404)})
@permission_required(Permission.SIS_IMPORT_RUN)
def start_run(
    request: HttpRequest,
    profile: Annotated[str, Form(max_length=100)],
    files: list[UploadedFile] = File(...),  # noqa: B008 (ninja's way of declaring uploads)
    dry_run: Annotated[bool, Form()] = False,
    workers: Annotated[int, Form(ge=1, le=16)] = 1,
) -> Status[dict[str, Any]]:
    """Upload the SIS files (XML, CSV or zip) and start a run with the profile: 202, and the
    run, read and applied by the task worker (``workers`` > 1: parallel, PostgreSQL)."""
    actions.get_profile(profile)  # an unknown profile is refused before storing anything
    paths = actions.store_uploads([(upload.name or "upload", upload.file) for upload in files])
    run = actions.start_import(
        actor=_actor(request), profile_code=profile, paths=paths, dry_run=dry_run
    )
    actions.enqueue_run(run=run, workers=workers)
    return Status(ACCEPTED, run_out(run))


@router.get("/sis/runs/{run_id}", response={200: RunOut, **error_responses(404)})
@permission_required(Permission.SIS_IMPORT_RUN)
def get_run(request: HttpRequest, run_id: Id) -> dict[str, Any]:
    """A run's status and counters (poll it for progress: ``records_done`` of
    ``records_read``)."""
    return run_out(actions.get_run(run_id))


@router.post("/sis/runs/{run_id}/resume", response={ACCEPTED: RunOut, **error_responses(404, 409)})
@permission_required(Permission.SIS_IMPORT_RUN)
def resume_run(request: HttpRequest, run_id: Id) -> Status[dict[str, Any]]:
    """Hand an interrupted run to the task worker again: it carries on where it stopped."""
    run = actions.resume_run(actor=_actor(request), run_id=run_id)
    return Status(ACCEPTED, run_out(run))


class ItemsQuery(Schema):
    outcome: Annotated[str, Field(examples=list(Outcome.values))] | None = None
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    page_size: Annotated[int, Field(ge=1, le=500)] = 100


@router.get("/sis/runs/{run_id}/items", response={200: ItemPage, **error_responses(404)})
@permission_required(Permission.SIS_IMPORT_RUN)
@reads_patron_data(SEARCHED, Channel.API)
def run_items(request: HttpRequest, run_id: Id, query: Query[ItemsQuery]) -> dict[str, Any]:
    """The report's rows: created, updated (with the changes), rejected (file, line, reason)
    and deactivated users, in file order; ``outcome`` narrows to one kind. Logged in the
    read-access log, like a search."""
    run = actions.get_run(run_id)
    note_read(request, run=run.job)
    return items_page(run, query)


def items_page(run: ImportRun, query: ItemsQuery) -> dict[str, Any]:
    """One page of a run's report rows (imports and bulk updates alike)."""
    items = run.items.order_by("record", "id")
    if query.outcome:
        items = items.filter(outcome=query.outcome)
    start = (query.page - 1) * query.page_size
    return {
        "items": list(items[start : start + query.page_size]),
        "count": items.count(),
        "page": query.page,
        "page_size": query.page_size,
    }


@router.get("/sis/runs/{run_id}/report", response=error_responses(404), openapi_extra=CSV)
@permission_required(Permission.SIS_IMPORT_RUN)
@reads_patron_data(SEARCHED, Channel.API)
def run_report(request: HttpRequest, run_id: Id) -> StreamingHttpResponse:
    """The whole report as a CSV download (streamed; logged like a search)."""
    run = actions.get_run(run_id)
    note_read(request, run=run.job, report="csv")
    return actions.report_response(run)
