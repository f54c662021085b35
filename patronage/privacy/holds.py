"""Legal hold: a patron named by a court order that is still being handled in the
legal-process register. Their records are evidence: neither the purge, nor the retention
run, nor a deletion or a request to be forgotten may destroy them until the request is
closed (disclosed, refused or withdrawn)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import LegalRequest, LegalState

HOLDING_STATES = (
    LegalState.RECEIVED,
    LegalState.WITH_COUNSEL,
    LegalState.RESISTED,
    LegalState.ORDER_VALIDATED,
)


def legal_holds(user_id: int) -> list[str]:
    """The references of the open legal requests whose order names this user."""
    return list(
        LegalRequest.objects.filter(order_users=user_id, state__in=HOLDING_STATES)
        .order_by("reference")
        .values_list("reference", flat=True)
    )


def held_users() -> QuerySet[Any]:
    """The ids of every user under a legal hold, as a subquery (``user_id``)."""
    through = LegalRequest.order_users.through
    return through.objects.filter(legalrequest__state__in=HOLDING_STATES).values("user_id")
