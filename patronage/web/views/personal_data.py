"""Staff UI of the personal-data export: the *Personal data* tab of a user record, with the
downloads (JSON, XML, HTML letter, PDF) and the Personal Information Letter (seed 002).

The tab opens with either permission: circulation-desk staff, who see only the card, may
send the letter (the patron's own data goes to the patron) without seeing what is in it or
the address it goes to.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from patronage.access.checks import can
from patronage.access.decorators import requires, requires_any
from patronage.access.permissions import Permission
from patronage.accounts import selectors as user_selectors
from patronage.accounts.models import User
from patronage.approvals.notifications import address_of
from patronage.errors import ValidationFailed
from patronage.privacy import personal_data
from patronage.privacy.personal_data_api import download
from patronage.privacy.reads import EXPORTED, VIEWED, note_read, reads_patron_data

from ..common import INVALID, actor, domain_errors, render_page, staff
from .details import available_tabs

TAB = "personal_data"
FORMAT_LABELS = (
    ("html", "Letter (HTML)"),
    ("pdf", "Letter (PDF)"),
    ("xml", "XML (Alma format)"),
    ("json", "JSON"),
)


def _subject(request: HttpRequest, pk: int) -> User:
    return user_selectors.get_user(staff(request), pk)


def _render(request: HttpRequest, user: User, status: int = 200, **extra: Any) -> HttpResponse:
    viewer = staff(request)
    card_only = not user_selectors.may_see_details(viewer)
    context: dict[str, Any] = {
        "nav": "users",
        "subject": user,
        "card_only": card_only,
        "tabs": available_tabs(viewer, user),
        "tab": TAB,
        "formats": FORMAT_LABELS,
        "may_export": can(viewer, Permission.PRIVACY_PERSONAL_DATA_EXPORT),
        "may_send": can(viewer, Permission.PRIVACY_PERSONAL_DATA_LETTER),
        "letter_address": "" if card_only else address_of(user),
        "has_email": user.emails.exists(),
        **extra,
    }
    return render_page(
        request, "web/users/detail.html", "web/users/_tabs.html", "user-tabs", context, status
    )


@requires_any(Permission.PRIVACY_PERSONAL_DATA_EXPORT, Permission.PRIVACY_PERSONAL_DATA_LETTER)
@require_GET
@domain_errors
@reads_patron_data(VIEWED)
def personal_data_tab(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, _subject(request, pk))


@requires(Permission.PRIVACY_PERSONAL_DATA_EXPORT)
@require_GET
@domain_errors
@reads_patron_data(EXPORTED)
def personal_data_download(request: HttpRequest, pk: int) -> HttpResponse:
    user = _subject(request, pk)
    fmt = request.GET.get("format", "json")
    try:
        done = personal_data.export(actor=actor(request), user=user, fmt=fmt)
    except ValidationFailed as refusal:
        return _render(request, user, INVALID, refusal=" ".join(refusal.errors.values()))
    note_read(request, **personal_data.details(fmt))
    return download(done)


@requires(Permission.PRIVACY_PERSONAL_DATA_LETTER)
@require_POST
@domain_errors
def personal_information_letter(request: HttpRequest, pk: int) -> HttpResponse:
    user = _subject(request, pk)
    try:
        personal_data.send_letter(
            actor=actor(request), user=user, reason=request.POST.get("reason", "")
        )
    except ValidationFailed as refusal:
        return _render(request, user, INVALID, refusal=" ".join(refusal.errors.values()))
    return _render(request, user, flash="The Personal Information Letter is on its way.")
