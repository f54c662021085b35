"""Retention of patron data and requests to be forgotten (the Privacy Officer's pages).

Retention (``privacy:retention:manage``): the settings, a dry run that shows what a run
would do, a run started in the background, and the counts of the last runs. Requests to be
forgotten (``privacy:forgetting:manage``): record one for a user, see its preconditions,
carry it out or withdraw it. A request about a user outside the viewer's scope, or missing,
is 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.errors import Conflict, NotFound, ValidationFailed
from patronage.privacy import forgetting, retention
from patronage.privacy.models import ForgettingRequest, ForgettingState, RequestChannel
from patronage.privacy.reads import VIEWED, read_subject, reads_patron_data

from ..common import INVALID, actor, domain_errors, staff


def _words(counts: dict[str, int]) -> list[tuple[str, int]]:
    """``{"loans_anonymised": 3}`` as ``[("loans anonymised", 3)]``, for the page."""
    return [(name.replace("_", " "), count) for name, count in counts.items() if count]


def _retention_page(
    request: HttpRequest,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    report: retention.RetentionReport | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "nav": "retention",
        "values": values or retention.retention_settings(),
        "errors": errors or {},
        "report": report,
        "left_alone": _words(report.borrowers_left_alone) if report else [],
        "kept": _words(report.users_kept) if report else [],
        "runs": retention.recent_runs(),
    }
    return render(request, "web/privacy/retention.html", context, status=status)


@requires(Permission.PRIVACY_RETENTION)
@domain_errors
def retention_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _retention_page(request)
    what = request.POST.get("action", "")
    if what == "dry_run":
        report = retention.run_retention(actor=actor(request), dry_run=True)
        return _retention_page(request, report=report)
    if what == "run":
        task_id = retention.enqueue_retention(actor=actor(request))
        messages.success(request, f"Retention started in the background (task {task_id}).")
        return redirect("web:privacy_retention")
    values = {
        "anonymise_loans_after_days": request.POST.get("anonymise_loans_after_days", "").strip(),
        "record_last_patron_activity": request.POST.get("record_last_patron_activity") == "on",
    }
    try:
        retention.update_retention_settings(actor=actor(request), changes=values)
    except ValidationFailed as exc:
        return _retention_page(request, values=values, errors=exc.errors, status=INVALID)
    messages.success(request, "The retention settings were saved.")
    return redirect("web:privacy_retention")


@requires(Permission.PRIVACY_FORGET)
@require_GET
@domain_errors
def forgetting_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    state = state if state in ForgettingState.values else ""
    context = {
        "nav": "forgetting",
        "requests": forgetting.forgetting_requests(staff(request), state),
        "state": state,
        "state_options": ForgettingState.choices,
    }
    return render(request, "web/privacy/forgetting_list.html", context)


@requires(Permission.PRIVACY_FORGET)
@domain_errors
def forgetting_new(request: HttpRequest) -> HttpResponse:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {
            name: request.POST.get(name, "").strip()
            for name in ("primary_id", "received_via", "received_on", "notes")
        }
        try:
            user = accounts.get_user_by_primary_id(staff(request), values["primary_id"])
            created = forgetting.record_forgetting_request(
                actor=actor(request),
                user=user,
                received_via=values["received_via"],
                received_on=values["received_on"],
                notes=values["notes"],
            )
        except NotFound:
            errors = {"primary_id": f"No user with primary ID '{values['primary_id']}'."}
        except ValidationFailed as exc:
            errors = dict(exc.errors)
            if "user_id" in errors:  # the form names the person by primary ID
                errors["primary_id"] = errors.pop("user_id")
        except Conflict as exc:
            errors = {"primary_id": exc.message}
        else:
            return redirect("web:forgetting_detail", request_id=created.pk)
    context = {
        "nav": "forgetting",
        "values": values,
        "errors": errors,
        "channel_options": RequestChannel.choices,
    }
    status = INVALID if errors else 200
    return render(request, "web/privacy/forgetting_new.html", context, status=status)


def _detail(
    request: HttpRequest, found: ForgettingRequest, error: str = "", status: int = 200
) -> HttpResponse:
    is_open = found.state == ForgettingState.RECEIVED
    checks = forgetting.preconditions(found, actor=actor(request)) if is_open else []
    context = {
        "nav": "forgetting",
        "req": found,
        "is_open": is_open,
        "preconditions": checks,
        "may_carry_out": is_open and all(p.met for p in checks),
        "outcome": _words(found.outcome),
        "error": error,
    }
    return render(request, "web/privacy/forgetting_detail.html", context, status=status)


@requires(Permission.PRIVACY_FORGET)
@reads_patron_data(VIEWED, subject_in_path=False)
@require_GET
@domain_errors
def forgetting_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    """Names the person and what stands in the way (loans, fees): a view of their record."""
    found = forgetting.get_forgetting_request(staff(request), request_id)
    if found.user_id is not None:
        read_subject(request, found.user_id)
    return _detail(request, found)


@requires(Permission.PRIVACY_FORGET)
@require_POST
@domain_errors
def forgetting_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    found = forgetting.get_forgetting_request(staff(request), request_id)
    what = request.POST.get("action", "")
    try:
        if what == "carry_out":
            forgetting.carry_out(actor=actor(request), request=found)
            messages.success(request, f"{found.reference}: the person has been forgotten.")
        elif what == "withdraw":
            forgetting.withdraw_forgetting_request(
                actor=actor(request), request=found, reason=request.POST.get("reason", "")[:1000]
            )
            messages.success(request, f"{found.reference} was withdrawn.")
        else:
            return _detail(request, found, "Choose carry out or withdraw.", 400)
    except Conflict as exc:
        found.refresh_from_db()
        return _detail(request, found, exc.message, 409)
    return redirect("web:forgetting_detail", request_id=found.pk)
