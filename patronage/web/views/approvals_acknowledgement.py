"""The yearly confidentiality acknowledgement (seed 000): read the current policy and
acknowledge it; the report of holders of patron lookup and whose acknowledgement lapsed."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from patronage.access.decorators import requires, requires_any
from patronage.access.permissions import Permission
from patronage.approvals import acknowledgements
from patronage.approvals.acknowledgement_actions import acknowledge, publish_policy
from patronage.errors import ValidationFailed

from ..common import INVALID, actor, domain_errors, staff


@requires_any(Permission.USERS_SEARCH_BY_NAME, Permission.USERS_VIEW_DETAILS)
@require_http_methods(["GET", "POST"])
@domain_errors
def acknowledgement(request: HttpRequest) -> HttpResponse:
    me = staff(request)
    policy = acknowledgements.current_policy()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            acknowledge(actor=actor(request), version=int(request.POST.get("version") or 0))
        except (ValueError, ValidationFailed) as exc:
            errors = exc.errors if isinstance(exc, ValidationFailed) else {"version": "No version."}
        else:
            messages.success(request, "Thank you: your acknowledgement is recorded.")
            return redirect("web:acknowledgement")
    until = acknowledgements.valid_until(me)
    return render(
        request,
        "web/approvals/acknowledgement.html",
        {
            "nav": "acknowledgement",
            "policy": policy,
            "valid_until": until,
            "required": acknowledgements.acknowledgement_required(me),
            "errors": errors,
        },
        status=INVALID if errors else 200,
    )


@requires(Permission.ACKNOWLEDGEMENTS_REPORT)
@require_GET
def acknowledgement_report(request: HttpRequest) -> HttpResponse:
    rows = acknowledgements.holders_status()
    return render(
        request,
        "web/approvals/acknowledgement_report.html",
        {
            "nav": "acknowledgement_report",
            "policy": acknowledgements.current_policy(),
            "rows": rows,
            "lapsed": sum(row.lapsed for row in rows),
        },
    )


@requires(Permission.DIRECTORY_MANAGE)
@require_http_methods(["GET", "POST"])
def policy_publish(request: HttpRequest) -> HttpResponse:
    values = {"title": "", "text": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            policy = publish_policy(
                actor=actor(request), title=values["title"], text=values["text"]
            )
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            messages.success(request, f"Published {policy}: holders acknowledge it anew.")
            return redirect("web:acknowledgement_report")
    return render(
        request,
        "web/approvals/policy_publish.html",
        {
            "nav": "acknowledgement_report",
            "values": values,
            "errors": errors,
            "policy": acknowledgements.current_policy(),
        },
        status=INVALID if errors else 200,
    )
