"""E-mail at each step of access governance, sent after the transaction commits (a rolled-back
step sends nothing), through Django's e-mail backend (console by default, SMTP configurable)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import get_script_prefix, reverse

from patronage.accounts.models import User


def address_of(user: User) -> str:
    """The user's preferred e-mail address, else their first, else none."""
    emails = sorted(user.emails.all(), key=lambda e: (not e.preferred, e.pk))
    return emails[0].address if emails else ""


def link(view: str, *args: object) -> str:
    """The absolute address of a staff-UI page for an e-mail: ``PATRONAGE_BASE_URL`` (which
    includes any path prefix the site is served under) and the page's path from the site root
    (a mail reader has no page to resolve a bare path against). Inside a request ``reverse``
    prepends the request's script prefix, in a task it does not: it is cut off either way."""
    path = reverse(f"web:{view}", args=args)[len(get_script_prefix()) :]
    return f"{settings.PATRONAGE_BASE_URL}/{path}"


def notify(recipients: Iterable[User | None], subject: str, body: str) -> None:
    """Mail each distinct recipient with an address, once the current transaction commits."""
    addresses = sorted({address_of(u) for u in recipients if u is not None} - {""})
    if not addresses:
        return

    def send() -> None:
        for address in addresses:
            send_mail(
                f"[Patronage] {subject}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [address],
                fail_silently=False,
            )

    transaction.on_commit(send)
