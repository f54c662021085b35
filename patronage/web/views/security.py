"""Sign-in security of a user, in the staff UI: their API keys (create — the key is shown
once — and revoke), and their two-factor authentication (reset by an administrator).

API keys need ``access:apikey:manage``; resetting the second factor needs
``access:grant:manage`` (the second factor guards what the roles give, so whoever manages
roles manages it; ``users:restricted:edit`` was the alternative, but it is about records,
not about access). A user the actor may not see is a 404, like everywhere else.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from patronage.access import authentication as auth
from patronage.access.api_key_actions import create_api_key, get_api_key, keys_of, revoke_api_key
from patronage.access.checks import coverage_by_permission
from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import selectors
from patronage.accounts.models import User
from patronage.errors import NotFound, ValidationFailed

from ..common import INVALID, actor, domain_errors, post_values, staff


def parse_expiry(value: str) -> datetime.datetime | None:
    """``YYYY-MM-DD``: the key stops working at the start of that day (local time)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({"expires": "Enter the date as YYYY-MM-DD."}) from None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _permission_choices(owner: User) -> list[tuple[str, str]]:
    held = coverage_by_permission(User.objects.get(pk=owner.pk))
    return [(p.value, p.label) for p in Permission if p.value in held]


def _keys_page(
    request: HttpRequest, subject: User, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "subject": subject,
        "keys": keys_of(subject),
        "permission_choices": _permission_choices(subject),
        "values": extra.pop("values", {}),
        **extra,
    }
    return render(request, "web/security/api_keys.html", context, status=status)


@requires(Permission.APIKEYS_MANAGE)
@domain_errors
@never_cache
def api_keys(request: HttpRequest, pk: int) -> HttpResponse:
    """A user's keys; posting the form makes one and shows it, this once."""
    subject = selectors.get_user(staff(request), pk)
    if request.method != "POST":
        return _keys_page(request, subject)
    values = post_values(request, multi=("permissions",))
    try:
        created = create_api_key(
            actor=actor(request),
            owner=subject,
            name=request.POST.get("name", ""),
            permissions=request.POST.getlist("permissions"),
            read_only=bool(request.POST.get("read_only")),
            expires_at=parse_expiry(request.POST.get("expires", "")),
        )
    except ValidationFailed as exc:
        errors = dict(exc.errors)
        if "expires_at" in errors:  # the action's name for the form's date field
            errors["expires"] = errors.pop("expires_at")
        return _keys_page(request, subject, INVALID, errors=errors, values=values)
    # Rendered, not redirected: the key exists in this response only.
    return _keys_page(request, subject, 201, created=created)


@requires(Permission.APIKEYS_MANAGE)
@domain_errors
@require_POST
def api_key_revoke(request: HttpRequest, pk: int, key_id: int) -> HttpResponse:
    subject = selectors.get_user(staff(request), pk)
    api_key = get_api_key(actor(request), key_id)
    if api_key.owner_id != subject.pk:
        raise NotFound("No such API key.", code="api_key_not_found")
    revoke_api_key(actor=actor(request), api_key=api_key, reason=request.POST.get("reason", ""))
    messages.success(request, f"The key “{api_key.name}” ({api_key.prefix}…) was revoked.")
    return redirect("web:api_keys", pk=subject.pk)


@requires(Permission.ROLES_GRANT)
@domain_errors
def two_factor(request: HttpRequest, pk: int) -> HttpResponse:
    subject = selectors.get_user(staff(request), pk)
    context = {
        "subject": subject,
        "required": auth.mfa_required(subject),
        "enrolled": auth.has_confirmed_totp(subject),
    }
    return render(request, "web/security/two_factor.html", context)


@requires(Permission.ROLES_GRANT)
@domain_errors
@require_POST
def two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    subject = selectors.get_user(staff(request), pk)
    try:
        auth.reset_totp(actor=actor(request), user=subject, reason=request.POST.get("reason", ""))
    except ValidationFailed as exc:
        context = {
            "subject": subject,
            "required": auth.mfa_required(subject),
            "enrolled": False,
            "error": next(iter(exc.errors.values())),
        }
        return render(request, "web/security/two_factor.html", context, status=INVALID)
    messages.success(
        request,
        f"Two-factor authentication of {subject.display_name} was reset; they set it up again "
        "at their next sign-in.",
    )
    return redirect("web:two_factor", pk=subject.pk)
