"""The start page: where a signed-in person lands after logging in."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from patronage.access.checks import can
from patronage.access.decorators import public
from patronage.access.permissions import Permission
from patronage.accounts.choices import RecordType

from ..common import staff


@public
def home(request: HttpRequest) -> HttpResponse:
    """Send staff to the first page their roles open, patrons to their own account; tell staff
    without any role what to do."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    user = staff(request)
    if can(user, Permission.USERS_VIEW):
        return redirect("web:user_search")
    if can(user, Permission.CONFIG_CODE_TABLES):
        return redirect("web:code_tables")
    if can(user, Permission.CONFIG_USER_SETTINGS):
        return redirect("web:user_settings")
    if user.record_type != RecordType.STAFF:
        return redirect("web:my_account")  # a patron: their own account
    return render(request, "web/home.html")
