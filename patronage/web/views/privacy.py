"""The privacy officer's pages (seed 000): the read-access log -- who looked at patron X,
what staff member Y looked at, unusual volume -- each a page and, with ``?format=csv``, a CSV
download; and the privacy settings (the access-reason prompt, the unusual-volume threshold).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.access.reports import csv_filename, csv_response
from patronage.accounts import selectors as accounts
from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent
from patronage.errors import ValidationFailed
from patronage.privacy import actions, selectors
from patronage.privacy.models import AccessReason, PrivacySettings

from ..common import INVALID, domain_errors, staff
from .reports import _find

PAGE = 100
EVENT_COLUMNS = ["Time", "Staff member", "Channel", "What", "Patron", "Reason", "Details"]


def _date(request: HttpRequest, name: str) -> datetime.date | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({name: "Give a date as YYYY-MM-DD."}) from None


def _period(request: HttpRequest) -> selectors.Period:
    return selectors.Period.of(_date(request, "start"), _date(request, "end"))


def bad_period(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A malformed or impossible period: the lookup page again, with the error (422)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ValidationFailed as exc:
            return _index(request, INVALID, errors=exc.errors)

    return wrapper


def _index(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    context = {"nav": "privacy", "values": request.GET, "errors": {}, **extra}
    return render(request, "web/privacy/access_log.html", context, status=status)


@requires(Permission.PRIVACY_ACCESS_LOG)
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    """The lookup forms: a patron or a staff member (exact identifier), a period."""
    return _index(request)


@requires(Permission.PRIVACY_ACCESS_LOG)
@require_GET
@domain_errors
@bad_period
def access_log_lookup(request: HttpRequest) -> HttpResponse:
    kind = "staff" if request.GET.get("kind") == "staff" else "patron"
    found = _find(request, request.GET.get("q", ""))
    _period(request)
    if found is None:
        errors = {"q": "No user has exactly this identifier, primary ID or email."}
        return _index(request, INVALID, errors=errors)
    target = "web:privacy_views_of" if kind == "patron" else "web:privacy_views_by"
    query = request.GET.copy()
    for name in ("q", "kind"):
        query.pop(name, None)
    response = redirect(target, pk=found.pk)
    if query:
        response["Location"] += "?" + query.urlencode()
    return response


def _channel(code: str) -> str:
    return str(dict(Channel.choices).get(code, code))


def _event_rows(events: QuerySet[AuditEvent] | list[AuditEvent]) -> list[list[str]]:
    return [
        [
            event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
            event.actor_label,
            _channel(event.channel),
            event.verb,
            event.object_id,
            event.reason,
            ", ".join(f"{k}: {v}" for k, v in sorted((event.details or {}).items())),
        ]
        for event in events
    ]


def _events_page(
    request: HttpRequest, events: QuerySet[AuditEvent], title: str, csv_stem: str, **extra: Any
) -> HttpResponse:
    if request.GET.get("format", "").lower() == "csv":
        return csv_response((EVENT_COLUMNS, _event_rows(events)), csv_filename(csv_stem))
    page = Paginator(events.select_related("subject"), PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav": "privacy",
        "title": title,
        "page": page,
        "rows": [(event, _channel(event.channel)) for event in page.object_list],
        "query": query.urlencode(),
        "csv_query": (query.urlencode() + "&" if query else "") + "format=csv",
        **extra,
    }
    return render(request, "web/privacy/access_events.html", context)


@requires(Permission.PRIVACY_ACCESS_LOG)
@require_GET
@domain_errors
@bad_period
def views_of(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = staff(request)
    patron = accounts.get_user(viewer, pk)
    events = selectors.views_of(viewer, patron.pk, _period(request))
    title = f"Who looked at {patron.display_name}"
    return _events_page(request, events, title, f"views-of-{patron.primary_id}", person=patron)


@requires(Permission.PRIVACY_ACCESS_LOG)
@require_GET
@domain_errors
@bad_period
def views_by(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = staff(request)
    member = accounts.get_user(viewer, pk)
    events = selectors.views_by(viewer, member.pk, _period(request))
    title = f"What {member.display_name} looked at"
    return _events_page(request, events, title, f"views-by-{member.primary_id}", person=member)


@requires(Permission.PRIVACY_ACCESS_LOG)
@require_GET
@domain_errors
@bad_period
def unusual_volume(request: HttpRequest) -> HttpResponse:
    report = selectors.unusual_volume(staff(request), _period(request))
    if request.GET.get("format", "").lower() == "csv":
        header = ["Staff member", "Patrons viewed", "Views", "Times the median"]
        rows = [[r.actor_label, str(r.patrons), str(r.views), str(r.ratio)] for r in report.unusual]
        return csv_response((header, rows), csv_filename("unusual-volume"))
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "nav": "privacy",
        "report": report,
        "values": request.GET,
        "csv_query": (query.urlencode() + "&" if query else "") + "format=csv",
    }
    return render(request, "web/privacy/unusual.html", context)


# --- settings -----------------------------------------------------------------------------------


@requires(Permission.CONFIG_USER_SETTINGS)
@domain_errors
def privacy_settings(request: HttpRequest) -> HttpResponse:
    config = PrivacySettings.current()
    status = 200
    errors: dict[str, str] = {}
    saved = False
    values: dict[str, Any] = {
        "access_reason": config.access_reason,
        "unusual_volume_factor": config.unusual_volume_factor,
        "unusual_volume_minimum": config.unusual_volume_minimum,
    }
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in values}
        try:
            actions.update_settings(
                actor=Actor.from_request(request), changes=_parse_settings(values, errors)
            )
            saved = True
        except ValidationFailed as exc:
            errors = exc.errors
            status = INVALID
    context = {
        "nav": "privacy_settings",
        "values": values,
        "errors": errors,
        "saved": saved,
        "reason_options": AccessReason.choices,
    }
    return render(request, "web/privacy/settings.html", context, status=status)


def _parse_settings(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {"access_reason": values["access_reason"]}
    try:
        changes["unusual_volume_factor"] = Decimal(values["unusual_volume_factor"])
    except (InvalidOperation, ValueError):
        errors["unusual_volume_factor"] = "Give a number, e.g. 3 or 2.5."
    try:
        changes["unusual_volume_minimum"] = int(values["unusual_volume_minimum"])
    except ValueError:
        errors["unusual_volume_minimum"] = "Give a whole number."
    if errors:
        raise ValidationFailed(errors)
    return changes
