"""Staff UI of SIS synchronisation on a user record: Open for Update, Toggle account type."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from patronage.access.decorators import requires
from patronage.access.permissions import Permission
from patronage.accounts import selectors
from patronage.errors import ValidationFailed
from patronage.sis import actions

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
        actions.set_open_for_update(actor=actor(request), user=user, open_for_update=opened)
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
    user = actions.toggle_account_type(actor=actor(request), user=user)
    return _back(request, pk, f"The account is now {user.get_account_type_display().lower()}.")
