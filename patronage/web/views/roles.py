"""The Roles tab of a staff user's details (seed 001, 002) and the role assignment rules.

The tab shows the login model, the grants in force (with Revoke), roles proposed by the
role assignment rules (with Apply), a Grant form and the shared-desk-login form. Each write
calls exactly one action of ``patronage.access.actions``; those enforce delegation, so the
forms only avoid offering what would certainly be refused (``access.selectors``).

Like the other tabs: success → the refreshed tab (htmx) or a redirect back to it; a refusal
→ the tab again, the form open with its input and messages, status 422.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from patronage.access import actions, selectors
from patronage.access.checks import can
from patronage.access.decorators import requires
from patronage.access.models import AssignmentBasis, LoginModel, Role
from patronage.access.permissions import Permission
from patronage.access.reports import login_model_label
from patronage.accounts import selectors as accounts
from patronage.accounts.choices import CodeTable, RecordType
from patronage.accounts.models import User
from patronage.errors import NotFound, ValidationFailed
from patronage.organization.models import CirculationDesk

from ..common import INVALID, actor, domain_errors, is_partial, post_values, render_page, staff
from ..options import code_options
from .details import available_tabs

TAB = "roles"
APPLIED_REASON = "role assignment rule"


# --- reading --------------------------------------------------------------------------------


def staff_subject(request: HttpRequest, pk: int) -> User:
    """The staff user whose roles are shown; patrons and contacts have none (404)."""
    user = accounts.get_user(staff(request), pk)
    if user.record_type != RecordType.STAFF:
        raise NotFound("Only staff users have roles.")
    return user


def roles_context(viewer: User, user: User) -> dict[str, Any]:
    may_grant = can(viewer, Permission.ROLES_GRANT) and viewer.pk != user.pk
    delegating = selectors.delegating_grants(viewer) if may_grant else []
    grantable = selectors.grantable_roles(viewer, delegating)
    grantable_codes = {role.code for role in grantable}
    proposals = [
        {
            "proposal": proposal,
            "form": f"proposal-{proposal.role.code}",
            "may_apply": proposal.role.code in grantable_codes,
            "scope_groups": selectors.grantable_scopes(viewer, proposal.role, delegating)
            if may_grant and proposal.role.code in grantable_codes
            else [],
        }
        for proposal in selectors.proposed_roles(user)
    ]
    return {
        "grants": [
            {"grant": grant, "form": f"revoke-{grant.pk}"}
            for grant in selectors.current_grants(viewer, user)
        ],
        "login_model_label": login_model_label(user) or "No staff login",
        "login_model_options": [(str(v), str(label)) for v, label in LoginModel.choices if v],
        "may_grant": may_grant,
        "is_self": viewer.pk == user.pk,
        "role_groups": selectors.grouped_roles(grantable),
        "proposals": proposals,
        "desk_options": [
            (str(desk.pk), str(desk))
            for desk in CirculationDesk.objects.select_related("library").order_by(
                "library__name", "name"
            )
        ],
        "delegating": delegating,
    }


def render_roles(request: HttpRequest, user: User, status: int = 200, **extra: Any) -> HttpResponse:
    viewer = staff(request)
    context: dict[str, Any] = {
        "nav": "users",
        "subject": user,
        "tabs": available_tabs(viewer, user),
        "tab": TAB,
        "errors": {},
        "form_values": {},
        "form_errors": {},
        "editing": request.GET.get("edit", ""),
        **roles_context(viewer, user),
        **extra,
    }
    editing = context["editing"]
    # Each form shows its own input and messages only when it was the one submitted.
    context["forms"] = {
        name: {
            "values": context["form_values"] if name == editing else {},
            "errors": context["form_errors"] if name == editing else {},
        }
        for name in (
            "login",
            "grant",
            "desk",
            *(row["form"] for row in context["grants"]),
            *(row["form"] for row in context["proposals"]),
        )
    }
    # A refusal for a form no longer on the page (a proposal gone meanwhile) is shown on top.
    context["other_errors"] = {} if editing in context["forms"] else context["form_errors"]
    chosen = str(context["form_values"].get("role", "")) if editing == "grant" else ""
    context["scope_groups"] = _scope_groups(viewer, chosen, context["delegating"])
    context["role_chosen"] = bool(chosen)
    return render_page(
        request, "web/users/detail.html", "web/users/_tabs.html", "user-tabs", context, status
    )


def _scope_groups(viewer: User, code: str, delegating: Any = None) -> list[Any]:
    role = Role.objects.filter(code=code).first() if code else None
    return selectors.grantable_scopes(viewer, role, delegating) if role is not None else []


@requires(Permission.ROLES_VIEW)
@require_GET
@domain_errors
def user_roles(request: HttpRequest, pk: int) -> HttpResponse:
    return render_roles(request, staff_subject(request, pk))


@requires(Permission.ROLES_GRANT)
@require_GET
@domain_errors
def scope_options(request: HttpRequest, pk: int) -> HttpResponse:
    """The Grant form's scope list for the chosen role (htmx, when the role changes)."""
    staff_subject(request, pk)
    code = request.GET.get("role", "")
    context = {
        "scope_groups": _scope_groups(staff(request), code),
        "role_chosen": bool(code),
        "field_id": request.GET.get("field_id", "grant-f-scope"),
        "values": {},
        "errors": {},
    }
    return render(request, "web/users/_grant_scope_field.html", context)


# --- writing --------------------------------------------------------------------------------


def _done(request: HttpRequest, user: User, message: str) -> HttpResponse:
    if is_partial(request, "user-tabs"):
        return render_roles(request, user, flash=message)
    messages.success(request, message)
    return redirect(reverse("web:user_roles", args=[user.pk]))


def _failed(request: HttpRequest, user: User, form: str, exc: ValidationFailed) -> HttpResponse:
    return render_roles(
        request,
        user,
        status=INVALID,
        editing=form,
        form_values=post_values(request),
        form_errors=exc.errors,
    )


def _valid_until(value: str) -> datetime.datetime | None:
    """A date (the last day the role holds) as the end of that day, local time."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({"valid_until": "Enter a date as YYYY-MM-DD."}) from None
    if day < timezone.localdate():
        raise ValidationFailed({"valid_until": "The last day must be today or later."})
    end = datetime.datetime.combine(day, datetime.time(23, 59, 59))
    return timezone.make_aware(end)


def _role(code: str, field: str = "role") -> Role:
    role = Role.objects.filter(code=(code or "").strip()).first() if code else None
    if role is None:
        raise ValidationFailed({field: "Choose a role."})
    return role


@requires(Permission.ROLES_GRANT)
@require_POST
@domain_errors
def grant_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_subject(request, pk)
    values = post_values(request)
    try:
        role = _role(values.get("role", ""))
        scope = selectors.parse_scope_choice(values.get("scope", ""))
        grant = actions.grant_role(
            actor=actor(request),
            user=user,
            role=role,
            scope=scope,
            valid_until=_valid_until(values.get("valid_until", "")),
            note=str(values.get("note", "")),
            reason=str(values.get("reason", "")).strip(),
        )
    except ValidationFailed as exc:
        return _failed(request, user, "grant", exc)
    return _done(request, user, f"{grant.role.name} was granted ({grant.scope_label}).")


@requires(Permission.ROLES_GRANT)
@require_POST
@domain_errors
def grant_revoke(request: HttpRequest, pk: int, grant_id: int) -> HttpResponse:
    user = staff_subject(request, pk)
    grant = selectors.get_grant(staff(request), user, grant_id)
    reason = str(request.POST.get("reason", "")).strip()
    try:
        if not reason:
            raise ValidationFailed({"reason": "Give the reason for removing the role."})
        actions.revoke_grant(actor=actor(request), grant=grant, reason=reason)
    except ValidationFailed as exc:
        return _failed(request, user, f"revoke-{grant.pk}", exc)
    return _done(request, user, f"{grant.role.name} ({grant.scope_label}) was removed.")


@requires(Permission.ROLES_GRANT)
@require_POST
@domain_errors
def proposal_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Grant a role a rule proposes: still a grant, with every check, and the scope chosen."""
    user = staff_subject(request, pk)
    values = post_values(request)
    code = str(values.get("role", ""))
    form = f"proposal-{code}"
    try:
        proposed = {p.role.code: p for p in selectors.proposed_roles(user)}
        if code not in proposed:
            raise ValidationFailed({"role": "No role assignment rule proposes this role now."})
        grant = actions.grant_role(
            actor=actor(request),
            user=user,
            role=proposed[code].role,
            scope=selectors.parse_scope_choice(values.get("scope", "")),
            note=str(values.get("note", "")),
            reason=APPLIED_REASON,
        )
    except ValidationFailed as exc:
        return _failed(request, user, form, exc)
    return _done(request, user, f"{grant.role.name} was granted ({grant.scope_label}).")


@requires(Permission.ROLES_GRANT)
@require_POST
@domain_errors
def login_model_set(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_subject(request, pk)
    login_model = str(request.POST.get("login_model", ""))
    try:
        if not login_model:
            raise ValidationFailed({"login_model": "Choose a login model."})
        user = actions.set_login_model(
            actor=actor(request),
            user=user,
            login_model=login_model,
            reason=str(request.POST.get("reason", "")).strip(),
        )
    except ValidationFailed as exc:
        return _failed(request, user, "login", exc)
    return _done(request, user, f"The login model is now {login_model_label(user)}.")


@requires(Permission.ROLES_GRANT)
@require_POST
@domain_errors
def shared_desk_set(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff_subject(request, pk)
    values = post_values(request)
    try:
        desk = CirculationDesk.objects.filter(pk=_int(values.get("desk"))).first()
        if desk is None:
            raise ValidationFailed({"desk": "Choose a circulation desk."})
        actions.make_shared_desk_login(
            actor=actor(request),
            user=user,
            desk=desk,
            terminal=str(values.get("terminal", "")),
            reason=str(values.get("reason", "")).strip(),
        )
    except ValidationFailed as exc:
        return _failed(request, user, "desk", exc)
    return _done(request, user, f"This is now a shared login of {desk}.")


def _int(value: Any) -> int:
    try:
        number = int(str(value or "0"))
    except ValueError:
        return 0
    return number if 0 < number < 2**63 else 0


# --- role assignment rules ----------------------------------------------------------------------


def _rule_sources() -> list[tuple[str, list[tuple[str, str]]]]:
    """Job categories and user groups of staff records, as ``BASIS:CODE`` choices."""
    return [
        (
            str(AssignmentBasis(basis).label),
            [(f"{basis}:{code}", text) for code, text in code_options(table, RecordType.STAFF)],
        )
        for basis, table in (
            (AssignmentBasis.JOB_CATEGORY, CodeTable.JOB_CATEGORY),
            (AssignmentBasis.USER_GROUP, CodeTable.USER_GROUP),
        )
    ]


def _rules_page(
    request: HttpRequest,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    roles = Role.objects.filter(retired=False, login_model="").order_by("role_type", "name")
    labels = {
        code: text for _, entries in _rule_sources() for code, text in entries
    }  # "BASIS:CODE" → description
    context = {
        "nav": "role_rules",
        "rules": [
            (rule, labels.get(f"{rule.basis}:{rule.code}", rule.code))
            for rule in selectors.assignment_rules()
        ],
        "sources": _rule_sources(),
        "role_groups": selectors.grouped_roles(roles),
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "web/config/role_rules.html", context, status=status)


@requires(Permission.CONFIG_USER_SETTINGS)
@domain_errors
def assignment_rules(request: HttpRequest) -> HttpResponse:
    """Seed 002 "Configuring Role Assignment Rules": list, and add (POST)."""
    if request.method != "POST":
        return _rules_page(request)
    values = post_values(request)
    basis, _, code = str(values.get("source", "")).partition(":")
    try:
        if not basis:
            raise ValidationFailed({"source": "Choose a job category or a user group."})
        role = Role.objects.filter(code=str(values.get("role", ""))).first()
        errors_key = {"basis": "source", "code": "source"}
        try:
            rule = actions.save_assignment_rule(
                actor=actor(request), basis=basis, code=code, role=role
            )
        except ValidationFailed as exc:
            raise ValidationFailed(
                {errors_key.get(k, k): v for k, v in exc.errors.items()}, code=exc.code
            ) from exc
    except ValidationFailed as exc:
        return _rules_page(request, INVALID, values, exc.errors)
    messages.success(request, f"Rule added: {rule}.")
    return redirect("web:role_rules")


@requires(Permission.CONFIG_USER_SETTINGS)
@require_POST
@domain_errors
def assignment_rule_remove(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = selectors.assignment_rules().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("No such rule.")
    described = str(rule)
    actions.remove_assignment_rule(actor=actor(request), rule=rule)
    messages.success(request, f"Rule removed: {described}.")
    return redirect("web:role_rules")
