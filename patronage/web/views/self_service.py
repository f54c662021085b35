"""The patron's own account (``/my/``, issue 6 item 7): their record, loans, fees, the notes
they may see, and the download of everything held about them.

A separate area with its own layout (no staff menu) behind the same sign-in, session rules
and headers as the staff UI. Every view reads only the signed-in person's own data
(``personal_data.build(request.user)``): there is no id in any ``/my/`` URL, so there is
nobody else's to ask for. No permission is needed (``signed_in``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from patronage.access.decorators import signed_in
from patronage.accounts.models import User
from patronage.errors import ValidationFailed
from patronage.privacy import personal_data
from patronage.privacy.personal_data_api import download

from ..common import INVALID, actor
from .personal_data import FORMAT_LABELS


def _page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    me: User = request.user  # type: ignore[assignment]
    data = personal_data.build(me)
    loans = data["loans"]
    context = {
        "data": data,
        "current_loans": [loan for loan in loans if loan["returned_at"] is None],
        "past_loans": [loan for loan in loans if loan["returned_at"] is not None],
        "formats": FORMAT_LABELS,
        **extra,
    }
    return render(request, "web/self/account.html", context, status=status)


@signed_in
@require_GET
def my_account(request: HttpRequest) -> HttpResponse:
    return _page(request)


@signed_in
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    """Everything held about me, in the format asked for; logged as an export."""
    try:
        done = personal_data.export_own(actor=actor(request), fmt=request.GET.get("format", "json"))
    except ValidationFailed as refusal:
        return _page(request, INVALID, refusal=" ".join(refusal.errors.values()))
    return download(done)
