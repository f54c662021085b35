"""Staff UI of SIS synchronisation: runs (start, progress, report), and on a user record
Open for Update and Toggle account type."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import selectors
from patronage.errors import NotFound, ValidationFailed
from patronage.privacy.reads import SEARCHED, note_read, reads_patron_data
from patronage.sis import actions as sis_actions
from patronage.sis.models import ImportProfile, ImportRun, Outcome

from ..common import INVALID, actor, domain_errors, is_partial, staff
from .details import render_details


def _back(request: HttpRequest, user_id: int, message: str) -> HttpResponse:
    user = selectors.get_user(staff(request), user_id)
    if is_partial(request, "user-tabs"):
        return render_details(request, user, "general", flash=message)
    messages.success(request, message)
    return redirect(reverse("web:user_detail", args=[user.pk]) + "?tab=general")


@requires(Permission.USERS_EDIT)
@require_POST
@domain_errors
def open_for_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Open (or close) an external user's SIS fields for staff edits until the next sync."""
    user = selectors.get_user(staff(request), pk)
    opened = request.POST.get("open") == "1"
    try:
        sis_actions.set_open_for_update(actor=actor(request), user=user, open_for_update=opened)
    except ValidationFailed as exc:
        message = " ".join(exc.errors.values())
        return render_details(request, user, "general", status=INVALID, sis_error=message)
    return _back(
        request,
        pk,
        "Open for update: the fields from the SIS can be changed until the next sync."
        if opened
        else "The fields from the SIS are read-only again.",
    )


@requires(Permission.USERS_CHANGE_ACCOUNT_TYPE)
@require_POST
@domain_errors
def toggle_account_type(request: HttpRequest, pk: int) -> HttpResponse:
    """Internal → external (the next sync takes the user over), or back."""
    user = selectors.get_user(staff(request), pk)
    user = sis_actions.toggle_account_type(actor=actor(request), user=user)
    return _back(request, pk, f"The account is now {user.get_account_type_display().lower()}.")


# --- runs: start one, follow it, read its report ---------------------------------------------

REPORT_ROWS = 200


@requires(Permission.SIS_IMPORT_RUN)
@require_http_methods(["GET", "POST"])
@domain_errors
def runs(request: HttpRequest) -> HttpResponse:
    """The latest runs, and the form that starts one from uploaded files."""
    context: dict[str, Any] = {
        "nav": "sis",
        "runs": sis_actions.imports().select_related("profile")[:50],
        "profiles": ImportProfile.objects.all(),
        "values": {},
    }
    if request.method == "POST":
        profile = request.POST.get("profile", "")
        uploads = request.FILES.getlist("files")
        try:
            if not uploads:
                raise ValidationFailed({"files": "Choose at least one SIS file."})
            sis_actions.get_profile(profile)
            paths = sis_actions.store_uploads([(f.name or "upload", f) for f in uploads])
            run = sis_actions.start_import(
                actor=actor(request),
                profile_code=profile,
                paths=paths,
                dry_run=bool(request.POST.get("dry_run")),
            )
            sis_actions.enqueue_run(run=run)
        except (ValidationFailed, NotFound) as exc:
            errors = exc.errors if isinstance(exc, ValidationFailed) else {"profile": exc.message}
            context.update(errors=errors, values={"profile": profile})
            return render(request, "web/sis/runs.html", context, status=INVALID)
        return redirect("web:sis_run", run_id=run.pk)
    return render(request, "web/sis/runs.html", context)


@requires(Permission.SIS_IMPORT_RUN)
@reads_patron_data(SEARCHED)
@require_GET
@domain_errors
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's counters and the first report rows: the users it created, changed or rejected
    (a read of patron data, logged like a search)."""
    run = sis_actions.get_run(run_id)
    note_read(request, run=run.job)
    return _render(request, run)


@requires(Permission.SIS_IMPORT_RUN)
@require_GET
@domain_errors
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """Only the counters, polled every 2 s while the run goes on (no user is named)."""
    return _render(request, sis_actions.get_run(run_id))


def _render(request: HttpRequest, run: ImportRun) -> HttpResponse:
    return render_run(request, run, ("web/sis/run.html", "web/sis/_progress.html"), nav="sis")


def render_run(
    request: HttpRequest, run: ImportRun, templates: tuple[str, str], **extra: Any
) -> HttpResponse:
    """A run's page (imports and bulk updates: ``templates`` is the page and its progress
    part), or only the progress part when htmx polls it."""
    items = run.items.order_by("record", "id")
    context = {
        "run": run,
        "rejected": items.filter(outcome=Outcome.REJECTED)[:REPORT_ROWS],
        "changed": items.exclude(outcome=Outcome.REJECTED)[:REPORT_ROWS],
        "limit": REPORT_ROWS,
        **extra,
    }
    page, progress = templates
    return render(request, progress if is_partial(request, "run-progress") else page, context)


@requires(Permission.SIS_IMPORT_RUN)
@reads_patron_data(SEARCHED)
@require_GET
def run_report(request: HttpRequest, run_id: int) -> HttpResponse:
    """The whole report as CSV (streamed; logged like a search)."""
    try:
        run = sis_actions.get_run(run_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    note_read(request, run=run.job, report="csv")
    # A streamed response; the access decorators are typed for plain responses.
    return sis_actions.report_response(run)  # type: ignore[return-value]
