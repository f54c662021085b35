"""The read-access log (seed 000): every view of a patron's record, every search, every export
is an audit event -- who, when, through which channel, and why if the setting asks.

Routes touching patron data say so in one declarative way, ``@reads_patron_data(verb)``,
placed under the permission decorator (a refused request reads nothing): the wrapper records
exactly one event per request that answered successfully, after the view ran, with the
subject taken from the route (``pk`` / ``user_id``) and whatever the view added with
``note_read`` (a search's query and number of results). Routes that name the patron by
something else than our id (the Alma API's ``user_id`` is a primary ID or any identifier)
are marked with ``subject_in_path=False`` and tell the subject with ``read_subject`` once
they have found the patron. ``patron_data_routes`` lists them, and
``tests/privacy/test_read_log.py`` walks every one of them.

The access reason (``PrivacySettings.access_reason``): off, optional or required. Staff give
it once per patron and session in the UI (a prompt, remembered in the session), through the
``X-Access-Reason`` header in the API, and with ``--reason`` on the command line. When it is
required and missing, a patron's record does not open: the UI asks for it, the API answers
422 ``access_reason_required``. Searches record a reason when one is given but never ask.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from patronage.audit.actions import event
from patronage.audit.context import Actor, Channel
from patronage.audit.models import AuditEvent
from patronage.bulk import insert_rows
from patronage.errors import ValidationFailed
from patronage.process_cache import ProcessCached

from .models import AccessReason, PrivacySettings

READ_ATTR = "reads_patron_data"
VIEWED = "user.viewed"
SEARCHED = "users.searched"
EXPORTED = "user.exported"
READ_VERBS = (VIEWED, SEARCHED, EXPORTED)
REASON_PARAM = "access_reason"
REASON_HEADER = "X-Access-Reason"
SESSION_REASONS = "access_reasons"
MAX_REASON = 500

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class ReadNote:
    verb: str
    subject_id: int | None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def note_read(request: HttpRequest, **details: Any) -> None:
    """Add to the read event of this request (a search's query and number of results)."""
    note: ReadNote | None = getattr(request, "patron_read", None)
    if note is not None:
        note.details.update(details)


def read_subject(request: HttpRequest, subject_id: int) -> None:
    """The patron this request reads, on a route marked ``subject_in_path=False``: recorded
    as the event's subject, and the access reason required for them as for any record view
    (before the view reads anything about them)."""
    note: ReadNote | None = getattr(request, "patron_read", None)
    if note is not None:
        require_reason(note.reason, subject_id)
        note.subject_id = subject_id


# Asked before every record view that comes without a reason: kept per process
# (process_cache.py), forgotten by ``actions.update_settings``.
access_reason_setting: ProcessCached[str] = ProcessCached(
    lambda: PrivacySettings.current().access_reason
)


def reason_setting() -> str:
    return access_reason_setting.get()


def _ui_reason(request: HttpRequest, subject_id: int | None) -> str:
    given = request.GET.get(REASON_PARAM, "").strip()[:MAX_REASON]
    if subject_id is None or not hasattr(request, "session"):
        return given
    reasons = request.session.get(SESSION_REASONS, {})
    if given:
        reasons[str(subject_id)] = given
        request.session[SESSION_REASONS] = reasons
    return reasons.get(str(subject_id), "")


def record_read(
    actor: Actor, verb: str, subject_id: int | None, reason: str, details: dict[str, Any]
) -> None:
    """Append the read event. This is paid on every read of patron data, so it is lean:

    * one INSERT through ``patronage.bulk.insert_rows`` (no model instance, no SQL compiled
      by the ORM) -- a read has no sealed values and nothing to return; the row is exactly
      what ``record`` would store, and the chaining step links it like any other event;
    * on PostgreSQL, when the event is the request's only write (no transaction open), its
      commit does not wait for the WAL flush (``synchronous_commit`` off for that
      transaction only): a disk sync per page view was most of the cost. A crash of the
      database server can lose the last fraction of a second of read events -- never a
      write's event, nor a link of the chain, whose commits still wait for the flush (and
      flush the WAL in order, read events included). ``AUDIT_READ_EVENTS_SYNCHRONOUS``
      makes read events wait too.
    """
    row = event(
        actor=actor,
        verb=verb,
        object_type="user" if subject_id is not None else "users",
        object_id=str(subject_id or ""),
        subject_id=subject_id,
        reason=reason,
    )
    rows = [{**row, "details": details, "occurred_at": timezone.now()}]
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or settings.AUDIT_READ_EVENTS_SYNCHRONOUS
    ):
        insert_rows(AuditEvent, rows)
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        insert_rows(AuditEvent, rows)


def require_reason(reason: str, subject_id: int | None) -> None:
    """Refuse a record view without a reason when the setting requires one."""
    if subject_id is not None and not reason and reason_setting() == AccessReason.REQUIRED:
        raise ValidationFailed(
            {REASON_PARAM: "Say why you are opening this patron's record."},
            code="access_reason_required",
        )


def reads_patron_data(
    verb: str, channel: str = Channel.UI, *, subject_in_path: bool = True
) -> Callable[[F], F]:
    """Mark a view or API operation as reading patron data; log one event per success.

    ``subject_in_path=False``: the route's ``user_id`` is not our id, and the view calls
    ``read_subject`` when it has found the patron (API and CLI channels only)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method not in ("GET", "HEAD"):  # a write on the same route
                return view(request, *args, **kwargs)
            raw = kwargs.get("pk", kwargs.get("user_id")) if subject_in_path else None
            subject_id = int(raw) if raw is not None else None
            if channel == Channel.UI:
                reason = _ui_reason(request, subject_id)
                if (
                    subject_id is not None
                    and not reason
                    and reason_setting() == AccessReason.REQUIRED
                ):
                    return render(
                        request,
                        "web/privacy/access_reason.html",
                        {
                            "action": request.path,
                            "param": REASON_PARAM,
                            "kept": [
                                (name, value)
                                for name, value in request.GET.items()
                                if name != REASON_PARAM
                            ],
                        },
                    )
            else:
                reason = request.headers.get(REASON_HEADER, "").strip()[:MAX_REASON]
                require_reason(reason, subject_id)
            note = ReadNote(verb=verb, subject_id=subject_id, reason=reason)
            request.patron_read = note  # type: ignore[attr-defined]
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponse) and response.status_code >= 400:
                return response
            record_read(
                Actor.from_request(request, channel), verb, note.subject_id, reason, note.details
            )
            return response

        # Resolved annotations: django-ninja reads the wrapper's signature, and a module with
        # ``from __future__ import annotations`` leaves names (``Id``) that only it knows.
        wrapper.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
        setattr(wrapper, READ_ATTR, verb)
        return wrapper  # type: ignore[return-value]

    return decorate
