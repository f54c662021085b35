"""E-mail to a user (seed 002, "Send Message → General mail"): a message composed by staff,
sent to the user's preferred address. Bulk messaging (``patronage.sis.bulk_update``) sends
the same message to each selected user through ``send_general_mail``.

Messages are templates: ``{{ first_name }}`` and the other names in ``PLACEHOLDERS`` are
replaced with the user's values; any other ``{{ … }}`` is refused before anything is sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.core.mail import EmailMessage
from django.db import transaction

from patronage.approvals.notifications import address_of
from patronage.audit.actions import record
from patronage.audit.context import Actor
from patronage.errors import ValidationFailed

from .actions import require_may_email
from .models import User

logger = logging.getLogger(__name__)

SUBJECT_MAX = 255
BODY_MAX = 10_000
PLACEHOLDERS: dict[str, Callable[[User], str]] = {
    "first_name": lambda user: user.pref_first_name or user.first_name,
    "last_name": lambda user: user.pref_last_name or user.last_name,
    "display_name": lambda user: user.display_name,
    "primary_id": lambda user: user.primary_id,
    "user_group": lambda user: user.user_group,
    "expiry_date": lambda user: user.expiry_date.isoformat() if user.expiry_date else "",
    "purge_date": lambda user: user.purge_date.isoformat() if user.purge_date else "",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def check_message(subject: str, body: str) -> None:
    """Refuse (422 ``bad_message``) an empty or over-long subject or body, or a placeholder
    that is not one of ``PLACEHOLDERS``."""
    errors: dict[str, str] = {}
    for field, text, limit in (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)):
        if not (text or "").strip():
            errors[field] = f"Enter the {field} of the message."
        elif len(text) > limit:
            errors[field] = f"The {field} has at most {limit:,} characters."
        elif unknown := sorted(
            {name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS}
        ):
            names = ", ".join("{{ %s }}" % name for name in unknown)  # noqa: UP031 (braces)
            known = ", ".join("{{ %s }}" % name for name in PLACEHOLDERS)  # noqa: UP031
            errors[field] = f"Unknown placeholder {names}; use {known}."
    if errors:
        raise ValidationFailed(errors, code="bad_message")


def render(text: str, user: User) -> str:
    return _PLACEHOLDER.sub(lambda match: PLACEHOLDERS[match.group(1)](user), text)


@transaction.atomic
def send_general_mail(*, actor: Actor, user: User, subject: str, body: str) -> str:
    """Send the message to the user's preferred e-mail address; the address it went to.

    Refused for users restricted for editing unless the sender may edit them, and for users
    without an e-mail address (422 ``no_email``). The message is handed to the mail server
    once the transaction commits; the audit event names the subject, not the text."""
    require_may_email(actor=actor, user=user)
    check_message(subject, body)
    address = address_of(user)
    if not address:
        raise ValidationFailed({"email": "This user has no e-mail address."}, code="no_email")
    message = EmailMessage(
        subject=render(subject, user).replace("\n", " "), body=render(body, user), to=[address]
    )
    record(
        actor=actor,
        verb="user.emailed",
        obj=user,
        subject=user,
        details={"subject": subject},
        sealed_details={"to": address},
    )
    # A mail server that refuses must not undo the commit: the failure is logged.
    transaction.on_commit(lambda: _send(message), robust=True)
    return address


def _send(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:
        logger.exception("E-mail to %s could not be sent", message.to)
        raise
