"""Access reports (seed 003 "Requesting information on existing roles"): a user's roles, who
holds a permission or role, and who can see a given user. Each is a page and, with
``?format=csv``, a CSV download of the same columns (``access.reports``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from patronage.access import reports, selectors
from patronage.access.decorators import requires, requires_any
from patronage.access.models import Role
from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.accounts.models import User
from patronage.errors import ValidationFailed
from patronage.organization.models import Library

from ..common import INVALID, domain_errors, staff
from ..options import library_options


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format", "").lower() == "csv"


def _permission_options() -> list[tuple[str, str]]:
    return [(str(p.value), f"{p.label} ({p.value})") for p in Permission]


def _role_options() -> list[tuple[str, str]]:
    return [
        (code, f"{name} (retired)" if retired else name)
        for code, name, retired in Role.objects.order_by("name").values_list(
            "code", "name", "retired"
        )
    ]


def _find(request: HttpRequest, query: str) -> User | None:
    """The user an identifier, primary ID or email names exactly (seed 000: no name search)."""
    query = query.strip()
    if not query:
        return None
    viewer = staff(request)
    found = accounts.find_by_identifier(viewer, query)
    if found is None and "@" in query:
        matches = accounts.find_by_email(viewer, query)
        found = matches[0] if len(matches) == 1 else None
    return found


@requires(Permission.REPORTS_ACCESS)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/reports/index.html", _index_context())


def _index_context(**extra: Any) -> dict[str, Any]:
    return {
        "nav": "reports",
        "permission_options": _permission_options(),
        "role_options": _role_options(),
        "library_options": library_options(),
        "values": {},
        "errors": {},
        **extra,
    }


# --- a user's roles -----------------------------------------------------------------------------


@requires_any(Permission.ROLES_VIEW, Permission.REPORTS_ACCESS)
@require_GET
@domain_errors
def user_roles_lookup(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    user = _find(request, query)
    if user is None:
        errors = {"q": "No user has exactly this identifier, primary ID or email."}
        context = _index_context(values={"q": query}, errors=errors, form="user")
        return render(request, "web/reports/index.html", context, status=INVALID)
    return redirect("web:report_user_roles", pk=user.pk)


@requires_any(Permission.ROLES_VIEW, Permission.REPORTS_ACCESS)
@require_GET
@domain_errors
def user_roles(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = staff(request)
    user = accounts.get_user(viewer, pk)
    grants = list(selectors.current_grants(viewer, user))
    table = reports.user_roles_table(user, grants)
    if _wants_csv(request):
        return reports.csv_response(table, reports.csv_filename("roles", user.primary_id))
    context = {
        "nav": "reports",
        "subject": user,
        "grants": grants,
        "login_model_label": reports.login_model_label(user) or "No staff login",
    }
    return render(request, "web/reports/user_roles.html", context)


# --- who holds a permission or role -------------------------------------------------------------


@requires(Permission.REPORTS_ACCESS)
@require_GET
@domain_errors
def permission_holders(request: HttpRequest) -> HttpResponse:
    values = {name: request.GET.get(name, "").strip() for name in ("permission", "role", "library")}
    context = _index_context(values=values, form="holders")
    if not any(values.values()):
        return render(request, "web/reports/holders.html", context)
    try:
        role = selectors.get_role(values["role"]) if values["role"] else None
        library = _library(values["library"])
        grants = selectors.permission_holders(
            staff(request), permission=values["permission"], role=role, library=library
        )
    except ValidationFailed as exc:
        context["errors"] = exc.errors
        return render(request, "web/reports/holders.html", context, status=INVALID)
    table = reports.holders_table(grants)
    if _wants_csv(request):
        name = reports.csv_filename(
            "holders", values["permission"] or values["role"], library.code if library else ""
        )
        return reports.csv_response(table, name)
    context.update(
        grants=grants,
        people=len({grant.user_id for grant in grants}),
        shown=True,
        permission_label=(Permission(values["permission"]).label if values["permission"] else ""),
        role=role,
        library=library,
        query=request.GET.urlencode(),
    )
    return render(request, "web/reports/holders.html", context)


def _library(value: str) -> Library | None:
    if not value:
        return None
    library = Library.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if library is None or len(value) > 18:
        raise ValidationFailed({"library": "Choose an existing library."})
    return library


# --- who can see a user -------------------------------------------------------------------------


@requires(Permission.REPORTS_ACCESS)
@require_GET
@domain_errors
def who_can_see_lookup(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    user = _find(request, query)
    if user is None:
        errors = {"q": "No user has exactly this identifier, primary ID or email."}
        context = _index_context(values={"q": query}, errors=errors, form="who")
        return render(request, "web/reports/index.html", context, status=INVALID)
    return redirect("web:report_who_can_see", pk=user.pk)


@requires(Permission.REPORTS_ACCESS)
@require_GET
@domain_errors
def who_can_see(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = staff(request)
    subject = accounts.get_user(viewer, pk)
    viewers = selectors.who_can_see(viewer, subject)
    if _wants_csv(request):
        table = reports.who_can_see_table(viewers)
        return reports.csv_response(table, reports.csv_filename("who-can-see", subject.primary_id))
    context = {
        "nav": "reports",
        "subject": subject,
        "viewers": viewers,
        "columns": [Permission(p).label for p in selectors.SEEING_A_USER],
        "summary": [
            (Permission(p).label, sum(1 for v in viewers if v.by(p)))
            for p in selectors.SEEING_A_USER
        ],
    }
    return render(request, "web/reports/who_can_see.html", context)
