"""Role requests in the staff UI (seeds 001, 003): the inbox (what waits for me, what is
overdue, the requests I may see), the request form, and a request's page with the step it
waits for. Each POST calls one action of ``patronage.approvals.actions``; a refusal shows the
page again with the message (422 for bad input, 409 for a step out of order, 403 for a step
that is not the viewer's)."""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patronage.access import selectors as access_selectors
from patronage.access.checks import can
from patronage.access.decorators import public, requires
from patronage.access.models import LoginModel, Role, RoleGrant, ScopeType
from patronage.access.permissions import Permission
from patronage.accounts import selectors as accounts
from patronage.accounts.models import User
from patronage.approvals import actions, directory, selectors
from patronage.approvals.actions import LineSpec
from patronage.approvals.choices import RequestKind, RequestStatus, TrainingArea
from patronage.approvals.models import RoleRequest
from patronage.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from patronage.organization.models import Department, DepartmentKind

from ..common import INVALID, actor, domain_errors, staff

LINE_ROWS = 5
LINE_KEY = re.compile(r"lines\[(\d+)\]")
CONFLICT = 409


# --- the inbox ------------------------------------------------------------------------------


@requires(Permission.REQUESTS_FILE)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    viewer = staff(request)
    return render(
        request,
        "web/approvals/inbox.html",
        {
            "nav": "approvals",
            "now": timezone.now(),
            "tasks": selectors.inbox(viewer),
            "overdue": list(selectors.overdue(viewer)[:200]),
            "requests": list(
                selectors.visible_requests(viewer).order_by("-submitted_at", "-id")[:200]
            ),
        },
    )


# --- filing -------------------------------------------------------------------------------------


def _role_options() -> list[tuple[str, str]]:
    roles = Role.objects.filter(retired=False, login_model="").order_by("role_type", "name")
    return [(role.code, role.name) for role in roles]


def scope_groups(role: Role | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The scopes a line may name, grouped by kind: only those that fit ``role`` (a role
    scoped by circulation desk offers desks, a department-kind role only that kind of
    department...); before a role is chosen, none."""
    if role is None:
        return []
    groups: dict[str, list[tuple[str, str]]] = {}
    for scope_type, unit in access_selectors.units_for(role):
        label = "Whole institution" if unit is None else str(unit)
        kind = ScopeType(scope_type).label
        groups.setdefault(kind, []).append((access_selectors.scope_choice(unit), label))
    return list(groups.items())


def _requestable(code: str) -> Role | None:
    """The role a line names, if it is one that can be requested (else no scopes fit)."""
    code = (code or "").strip()
    return Role.objects.filter(code=code, retired=False, login_model="").first() if code else None


def _person(viewer: User, value: str, field: str) -> User | None:
    """A person named by primary ID, identifier or e-mail, or by id (select boxes)."""
    value = (value or "").strip()
    if not value:
        return None
    found = (
        User.objects.filter(pk=int(value)).first() if value.isdigit() and len(value) < 18 else None
    )
    found = found or accounts.find_by_identifier(viewer, value)
    if found is None:
        raise ValidationFailed({field: f"No user '{value}'."})
    return found


def _date(value: str, field: str) -> datetime.date | None:
    if not (value or "").strip():
        return None
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed({field: "Enter a date as YYYY-MM-DD."}) from None


def _lines(post: Any, subject: User, rows: list[int | None]) -> list[LineSpec]:
    """The form's lines as ``LineSpec``s; ``rows`` gets, for each, the form row it came from
    (``None`` for a removal), so the action's ``lines[k]`` messages go back to their row."""
    specs: list[LineSpec] = []
    for n in range(LINE_ROWS):
        code = post.get(f"role_{n}", "").strip()
        if not code:
            continue
        try:
            role = access_selectors.get_role(code)
            scope = access_selectors.parse_scope_choice(post.get(f"scope_{n}", ""))
        except ValidationFailed as exc:
            raise ValidationFailed({f"role_{n}": exc.message}) from None
        specs.append(LineSpec("ADD", role, scope))
        rows.append(n)
    for grant_id in post.getlist("remove"):
        grant = (
            RoleGrant.objects.select_related("role").filter(pk=grant_id, user=subject).first()
            if str(grant_id).isdigit()
            else None
        )
        if grant is None:
            raise ValidationFailed({"remove": "Choose grants of this person."})
        specs.append(LineSpec("REMOVE", grant.role, grant.unit, grant))
        rows.append(None)
    return specs


def _on_rows(errors: dict[str, str], rows: list[int | None]) -> dict[str, str]:
    """The action's ``lines[k]`` messages under the form row each line came from (a removal's
    under the removals)."""
    placed = {}
    for key, message in errors.items():
        match = LINE_KEY.fullmatch(key)
        if match is None:
            placed[key] = message
            continue
        k = int(match[1])
        row = rows[k] if k < len(rows) else None
        placed["remove" if row is None else f"role_{row}"] = message
    return placed


@requires(Permission.REQUESTS_FILE)
@require_GET
def request_scopes(request: HttpRequest) -> HttpResponse:
    """The scope field of one line of the request form, offering only the scopes that fit the
    role chosen there (htmx, when the role changes: ``n``, and ``role_<n>``)."""
    n = request.GET.get("n", "")
    if not (n.isdigit() and int(n) < LINE_ROWS):
        return HttpResponse(f"Lines are numbered 0 to {LINE_ROWS - 1}.", status=INVALID)
    code = request.GET.get(f"role_{n}", "").strip()
    role = _requestable(code)
    error = f"'{code}' is not a role that can be requested." if code and role is None else ""
    row = {"n": int(n), "scope": "", "scope_groups": scope_groups(role), "error": error}
    return render(
        request, "web/approvals/_scope_field.html", {"row": row}, status=INVALID if error else 200
    )


@requires(Permission.REQUESTS_FILE)
@require_http_methods(["GET", "POST"])
@domain_errors
def request_new(request: HttpRequest) -> HttpResponse:
    """The login request form. Choose the person first; the form then offers their current
    roles to remove (an update holds only the changes)."""
    viewer = staff(request)
    source = request.POST if request.method == "POST" else request.GET
    values: dict[str, Any] = {k: source.get(k, "") for k in source if k != "csrfmiddlewaretoken"}
    errors: dict[str, str] = {}
    subjects = list(selectors.filable_subjects(viewer))
    subject = None
    if values.get("subject", "").isdigit():
        subject = next((s for s in subjects if s.pk == int(values["subject"])), None)
        if subject is None:
            errors["subject"] = "You may file for yourself, your staff and your units' staff."
    if request.method == "POST" and subject is not None:
        rows: list[int | None] = []
        try:
            filed = actions.file_request(
                actor=actor(request),
                subject=subject,
                kind=values.get("kind", ""),
                rationale=values.get("rationale", ""),
                lines=_lines(request.POST, subject, rows),
                login_type=values.get("login_type", ""),
                copy_from=_person(viewer, values.get("copy_from", ""), "copy_from"),
                on_behalf_of=_person(viewer, values.get("on_behalf_of", ""), "on_behalf_of"),
                start_date=_date(values.get("start_date", ""), "start_date"),
                end_date=_date(values.get("end_date", ""), "end_date"),
                work_order_department=_department(values.get("work_order_department", "")),
                additional_role=values.get("additional_role", ""),
                additional_role_agreed_by=_person(
                    viewer, values.get("additional_role_agreed_by", ""), "additional_role_agreed_by"
                ),
                business_need=values.get("business_need", ""),
            )
        except ValidationFailed as exc:
            errors = _on_rows(exc.errors, rows)
        else:
            messages.success(request, f"Request {filed.pk} filed.")
            return redirect("web:approvals_request", pk=filed.pk)
    elif request.method == "POST":
        errors.setdefault("subject", "Choose the person the request is for.")
    placement = directory.placement_of(subject) if subject else None
    return render(
        request,
        "web/approvals/request_new.html",
        {
            "nav": "approvals",
            "values": values,
            "errors": errors,
            "subject": subject,
            "subject_options": [(str(s.pk), str(s)) for s in subjects],
            "kind_options": RequestKind.choices,
            "login_options": [
                (code, label)
                for code, label in LoginModel.choices
                if code and code != LoginModel.SYSTEMS
            ],
            "role_options": _role_options(),
            "rows": [
                {
                    "n": n,
                    "role": values.get(f"role_{n}", ""),
                    "scope": values.get(f"scope_{n}", ""),
                    "scope_groups": scope_groups(_requestable(values.get(f"role_{n}", ""))),
                    "error": errors.get(f"role_{n}", ""),
                }
                for n in range(LINE_ROWS)
            ],
            "held": (
                RoleGrant.objects.active().filter(user=subject, role__login_model="")
                if subject
                else []
            ),
            "managers": (
                [
                    (str(u.pk), str(u))
                    for u in User.objects.filter(pk__in=directory.managers_of(placement))
                ]
                if placement
                else []
            ),
            "department_options": [
                (str(d.pk), str(d))
                for d in Department.objects.filter(kind=DepartmentKind.WORK_ORDER).select_related(
                    "library"
                )
            ],
        },
        status=INVALID if errors and request.method == "POST" else 200,
    )


def _department(value: str) -> Department | None:
    if not value:
        return None
    found = Department.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if found is None:
        raise ValidationFailed({"work_order_department": "Choose a work-order department."})
    return found


# --- one request --------------------------------------------------------------------------------


def _page(
    request: HttpRequest,
    found: RoleRequest,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    viewer = staff(request)
    found = selectors.get_request(viewer, found.pk)
    own = viewer.pk in (found.subject_id, found.filed_by_id, found.on_behalf_of_id)
    tasks = [t for t in selectors.inbox(viewer) if t.request.pk == found.pk]
    led = directory.led_role_types(viewer)
    return render(
        request,
        "web/approvals/request.html",
        {
            "nav": "approvals",
            "req": found,
            "step": tasks[0].step if tasks else "",
            "own": own,
            "led": {
                line.pk
                for line in found.lines.all()
                if directory.owning_role_type(line.role) in led
            },
            "sysadmin": directory.is_system_administrator(viewer),
            "processor": can(viewer, Permission.REQUESTS_PROCESS),
            "form": actions.current_form(found.form_variant)
            if found.status == RequestStatus.AWAITING_FORM
            else None,
            "training_required": sorted(actions.training_required(found)),
            "training_recorded": actions.training_recorded(found),
            "area_options": TrainingArea.choices,
            "errors": errors or {},
            "overdue": found.is_open and found.due_at < timezone.now(),
            "closed": not found.is_open,
        },
        status=status,
    )


@requires(Permission.REQUESTS_FILE)
@require_GET
@domain_errors
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, selectors.get_request(staff(request), pk))


def _step(request: HttpRequest, pk: int, run: Any) -> HttpResponse:
    """Run one step; a refusal shows the request again with the reason."""
    found = selectors.get_request(staff(request), pk)
    try:
        run(found)
    except ValidationFailed as exc:
        return _page(request, found, exc.errors, INVALID)
    except Conflict as exc:
        return _page(request, found, {"step": exc.message}, CONFLICT)
    except Forbidden as exc:
        return _page(request, found, {"step": exc.message}, 403)
    except NotFound:
        raise
    except DomainError as exc:
        return _page(request, found, {"step": exc.message}, exc.status)
    messages.success(request, "Done.")
    return redirect("web:approvals_request", pk=pk)


def _line_of(found: RoleRequest, post: Any) -> Any:
    line_id = post.get("line", "")
    line = next((line for line in found.lines.all() if str(line.pk) == line_id), None)
    if line is None:
        raise ValidationFailed({"line": "Choose a line of this request."})
    return line


@requires(Permission.REQUESTS_FILE)
@require_POST
@domain_errors
def request_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, lambda r: actions.sign_off(actor=actor(request), request=r))


@requires(Permission.REQUESTS_APPROVE)
@require_POST
@domain_errors
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _step(
        request,
        pk,
        lambda r: actions.decide_line(
            actor=actor(request),
            line=_line_of(r, post),
            approve=post.get("decision") == "approve",
            training_area=post.get("training_area", ""),
            comment=post.get("comment", ""),
        ),
    )


@requires(Permission.REQUESTS_APPROVE)
@require_POST
@domain_errors
def request_co_approve(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _step(
        request,
        pk,
        lambda r: actions.approve_as_administrator(
            actor=actor(request),
            line=_line_of(r, post),
            approve=post.get("decision") == "approve",
            comment=post.get("comment", ""),
        ),
    )


@requires(Permission.REQUESTS_PROCESS)
@require_POST
@domain_errors
def request_sandbox(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(request, pk, lambda r: actions.grant_in_sandbox(actor=actor(request), request=r))


@requires(Permission.REQUESTS_APPROVE)
@require_POST
@domain_errors
def request_training(request: HttpRequest, pk: int) -> HttpResponse:
    post = request.POST
    return _step(
        request,
        pk,
        lambda r: actions.record_training(
            actor=actor(request),
            request=r,
            area=post.get("area", ""),
            completed_on=_date(post.get("completed_on", ""), "completed_on"),
            note=post.get("note", ""),
        ),
    )


@requires(Permission.REQUESTS_PROCESS)
@require_POST
@domain_errors
def request_production(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request, pk, lambda r: actions.grant_in_production(actor=actor(request), request=r)
    )


@requires(Permission.REQUESTS_FILE)
@require_POST
@domain_errors
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _step(
        request, pk, lambda r: actions.withdraw(actor=actor(request), request=r, reason=reason)
    )


# --- the person's own form ----------------------------------------------------------------------


def signed_in(view: Any) -> Any:
    """A self-service page: any signed-in person, for their own things only. A new hire's base
    account holds no role yet, and must still be able to sign their form."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return public(wrapper)


@signed_in
@require_http_methods(["GET", "POST"])
def my_privacy_form(request: HttpRequest) -> HttpResponse:
    """The data privacy & security responsibilities form for each of the viewer's requests
    that waits for their signature (seed 003, step 5)."""
    me = staff(request)
    waiting = list(
        RoleRequest.objects.filter(subject=me, status=RequestStatus.AWAITING_FORM).order_by("pk")
    )
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        chosen = next((r for r in waiting if str(r.pk) == request.POST.get("request")), None)
        version = request.POST.get("version", "")
        try:
            if chosen is None:
                raise ValidationFailed({"request": "No request of yours waits for this form."})
            if not version.isdigit():
                raise ValidationFailed({"version": "Sign the form shown."})
            actions.sign_privacy_form(actor=actor(request), request=chosen, version=int(version))
        except DomainError as exc:
            errors = exc.errors if isinstance(exc, ValidationFailed) else {"step": exc.message}
            status = INVALID if isinstance(exc, ValidationFailed) else exc.status
        else:
            messages.success(request, "Thank you: the form is signed.")
            return redirect("web:my_privacy_form")
    return render(
        request,
        "web/approvals/my_privacy_form.html",
        {
            "nav": "my_privacy_form",
            "waiting": [(r, actions.current_form(r.form_variant)) for r in waiting],
            "errors": errors,
        },
        status=status,
    )
