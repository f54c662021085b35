"""Staff UI of bulk updates (seed 002, "Editing/Messaging Users in Bulk"): saved searches,
starting a job on a saved search or a list of IDs, its progress and report. Each handler
calls one function of ``patronage.sis.bulk_update``; the job itself runs in the worker."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts.choices import AccountType, CodeTable
from patronage.accounts.selectors import SearchField
from patronage.accounts.validation import GENERAL_FIELDS
from patronage.errors import NotFound, ValidationFailed
from patronage.privacy.reads import SEARCHED, note_read, reads_patron_data
from patronage.sis import actions as sis_actions
from patronage.sis import bulk_update
from patronage.sis.models import ImportRun

from ..common import INVALID, actor, domain_errors, post_values, staff
from ..options import code_options, library_options, record_type_options, role_options
from .sis import render_run


def _options() -> dict[str, Any]:
    return {
        "field": [(name, GENERAL_FIELDS[name].label) for name in bulk_update.BULK_FIELDS],
        "operation": list(bulk_update.OPERATIONS.items()),
        "match_by": list(bulk_update.MATCH_BY.items()),
        "note_type": code_options(CodeTable.NOTE_TYPE),
        "block_type": code_options(CodeTable.BLOCK_TYPE),
        "owner": library_options(),
        "search_field": [(value, value.capitalize()) for value in SearchField.CHOICES],
        "record_type": record_type_options(),
        "account_type": [(str(v), str(label)) for v, label in AccountType.choices],
        "user_group": code_options(CodeTable.USER_GROUP),
        "job_category": code_options(CodeTable.JOB_CATEGORY),
        "status": [("active", "Active and not expired"), ("inactive", "Inactive or expired")],
        "role": role_options(),
    }


def _page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    viewer = staff(request)
    searches = list(bulk_update.visible_searches(viewer))
    # The Find Users page links here with its filters (``q`` is the query) to save them.
    prefilled = {("query" if k == "q" else k): v for k, v in request.GET.items()}
    context: dict[str, Any] = {
        "nav": "bulk",
        "searches": searches,
        "searches_options": [(str(search.pk), search.name) for search in searches],
        "runs": [
            (run, bulk_update.operation_text(run), bulk_update.selection_text(run))
            for run in bulk_update.visible_runs(viewer)[:30]
        ],
        "options": _options(),
        "values": {"operation": "set_field", "match_by": "primary_id"},
        "errors": {},
        "search_values": prefilled,
        "search_errors": {},
        **extra,
    }
    return render(request, "web/sis/bulk.html", context, status=status)


@requires(Permission.USERS_BULK_UPDATE)
@require_http_methods(["GET", "POST"])
@domain_errors
def bulk(request: HttpRequest) -> HttpResponse:
    """Your saved searches and runs, and the form that starts a bulk job."""
    if request.method == "GET":
        return _page(request)
    values = post_values(request)
    try:
        run = bulk_update.start_bulk(actor=actor(request), **_job(request, values))
    except (ValidationFailed, NotFound) as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"saved_search": exc.message}
        return _page(request, INVALID, values=values, errors=errors)
    bulk_update.enqueue_bulk(run=run)
    return redirect("web:bulk_run", run_id=run.pk)


def _job(request: HttpRequest, values: dict[str, Any]) -> dict[str, Any]:
    """The form as ``start_bulk`` takes it: the selection and the chosen operation."""
    kind = values.get("operation", "")
    operation: dict[str, Any] = {"type": kind}
    if kind == "set_field":
        operation.update(field=values.get("field", ""), value=values.get("value", ""))
    elif kind == "add_note":
        operation.update(
            note_type=values.get("note_type", ""),
            text=values.get("note_text", ""),
            user_viewable=bool(values.get("user_viewable")),
            popup=bool(values.get("popup")),
            owner=values.get("note_owner") or None,
        )
    elif kind == "add_block":
        operation.update(
            block_type=values.get("block_type", ""),
            note=values.get("block_note", ""),
            expiry_date=values.get("block_expiry_date") or None,
            owner=values.get("block_owner") or None,
        )
    else:
        operation.update(subject=values.get("subject", ""), body=values.get("body", ""))
    job: dict[str, Any] = {"operation": operation, "dry_run": bool(values.get("dry_run"))}
    if values.get("selection") == "search":
        job["saved_search"] = values.get("saved_search", "")
        if not job["saved_search"]:
            raise ValidationFailed({"saved_search": "Choose one of your saved searches."})
        return job
    upload = request.FILES.get("ids_file")
    try:
        typed = upload.read().decode("utf-8-sig") if upload else ""
    except UnicodeDecodeError as exc:
        raise ValidationFailed({"ids": "The file of IDs is not UTF-8 text."}) from exc
    job["ids"] = "\n".join(part for part in (typed, values.get("ids", "")) if part)
    job["match_by"] = values.get("match_by", "primary_id")
    return job


@requires(Permission.USERS_BULK_UPDATE)
@require_POST
@domain_errors
def search_save(request: HttpRequest) -> HttpResponse:
    """Save the filters under a name (the Find Users page links here with its filters)."""
    values = post_values(request)
    name = values.pop("name", "")
    filters = {key: value for key, value in values.items() if key in bulk_update.FILTERS}
    try:
        search = bulk_update.save_search(actor=actor(request), name=name, filters=filters)
    except ValidationFailed as exc:
        return _page(
            request, INVALID, search_values={**values, "name": name}, search_errors=exc.errors
        )
    messages.success(request, f"The search “{search.name}” was saved.")
    return redirect("web:bulk")


@requires(Permission.USERS_BULK_UPDATE)
@require_POST
@domain_errors
def search_delete(request: HttpRequest, search_id: int) -> HttpResponse:
    search = bulk_update.get_search(staff(request), search_id)
    bulk_update.delete_search(actor=actor(request), search=search)
    messages.success(request, f"The search “{search.name}” was deleted.")
    return redirect("web:bulk")


@requires(Permission.USERS_BULK_UPDATE)
@reads_patron_data(SEARCHED)
@require_GET
@domain_errors
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's counters and the first report rows: the users it changed or rejected (a read
    of patron data, logged like a search)."""
    run = bulk_update.get_bulk_run(staff(request), run_id)
    note_read(request, run=run.job)
    return _render(request, run)


@requires(Permission.USERS_BULK_UPDATE)
@require_GET
@domain_errors
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """Only the counters, polled every 2 s while the run goes on (no user is named)."""
    return _render(request, bulk_update.get_bulk_run(staff(request), run_id))


def _render(request: HttpRequest, run: ImportRun) -> HttpResponse:
    return render_run(
        request,
        run,
        ("web/sis/bulk_run.html", "web/sis/_bulk_progress.html"),
        nav="bulk",
        operation=bulk_update.operation_text(run),
        selection=bulk_update.selection_text(run),
    )


@requires(Permission.USERS_BULK_UPDATE)
@reads_patron_data(SEARCHED)
@require_GET
def run_report(request: HttpRequest, run_id: int) -> HttpResponse:
    """The whole report as CSV (streamed)."""
    try:
        run = bulk_update.get_bulk_run(staff(request), run_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    note_read(request, run=run.job, report="csv")
    # A streamed response; the access decorators are typed for plain responses.
    return sis_actions.report_response(run)  # type: ignore[return-value]
