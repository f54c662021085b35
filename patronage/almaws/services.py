"""A user's fines and fees, loans, attachments and the staff login report as Alma's objects,
read through the selectors and changed through the actions of ``circulation``, ``accounts``
and ``access``."""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from patronage.accounts import actions as account_actions
from patronage.accounts import selectors
from patronage.accounts.models import User, UserAttachment
from patronage.accounts.validation import parse_date
from patronage.audit.models import AuditEvent
from patronage.circulation import actions as circulation
from patronage.circulation.choices import EntryKind, FeeStatus, PaymentMethod
from patronage.circulation.models import CirculationSettings, Fee, Loan
from patronage.circulation.selectors import fee_balance, visible_fees, visible_loans
from patronage.errors import DomainError, ValidationFailed
from patronage.organization.models import CirculationDesk, Library

from .errors import AlmaError, from_domain, invalid_parameter
from .users import actor_of, alma_datetime, user_link

FEE_NOT_FOUND = "401665"
LOAN_NOT_FOUND = "401823"
ATTACHMENT_NOT_FOUND = "60321"
FEE_STATUSES = {status.value: status.label for status in FeeStatus}
ENTRY_KINDS = dict(EntryKind.choices)
METHODS = dict(PaymentMethod.choices)


def _amount(value: Decimal) -> float:
    return float(value)


# --- fees -------------------------------------------------------------------------------------


def fee_object(request: HttpRequest, user: User, fee: Fee) -> dict[str, Any]:
    link = user_link(request, user.primary_id)
    balance = getattr(fee, "balance", None)
    balance = fee_balance(fee) if balance is None else Decimal(str(balance))
    return {
        "id": str(fee.pk),
        "type": {"value": fee.fee_type.code, "desc": fee.fee_type.description},
        "status": {"value": fee.status, "desc": FEE_STATUSES.get(fee.status, "")},
        "user_primary_id": {"value": user.primary_id, "link": link},
        "balance": _amount(balance),
        "remaining_vat_amount": 0.0,
        "original_amount": _amount(fee.original_amount),
        "original_vat_amount": _amount(fee.original_vat),
        "creation_time": alma_datetime(fee.created_at),
        "status_time": alma_datetime(fee.status_date),
        "comment": fee.comment,
        "owner": {"value": fee.owner.code, "desc": fee.owner.name}
        if fee.owner
        else {"value": "INSTITUTION", "desc": "Institution"},
        "title": fee.item.title if fee.item else "",
        "barcode": {"value": fee.item.barcode, "link": ""} if fee.item else None,
        "transaction": [
            {
                "type": {"value": entry.kind, "desc": ENTRY_KINDS.get(entry.kind, "")},
                "amount": _amount(abs(entry.amount)),
                "vat_amount": 0.0,
                "reason": {"value": entry.reason, "desc": ""},
                "comment": entry.comment,
                "external_transaction_id": entry.receipt.external_transaction_id
                if entry.receipt
                else "",
                "created_by": entry.created_by.primary_id if entry.created_by else "",
                "transaction_time": alma_datetime(entry.created_at),
                "payment_method": {"value": entry.method, "desc": METHODS.get(entry.method, "")},
            }
            for entry in fee.entries.all()
            if entry.kind != EntryKind.CREATED
        ],
        "link": f"{link}/fees/{fee.pk}",
    }


def fees_object(request: HttpRequest, user: User, fees: QuerySet[Fee]) -> dict[str, Any]:
    listed = list(fees)
    total = Decimal(0)
    for fee in listed:
        balance = Decimal(str(fee.balance))  # type: ignore[attr-defined]  # with_balance
        total += -balance if fee.fee_type.is_credit else balance
    return {
        "fee": [fee_object(request, user, one) for one in listed],
        "total_record_count": len(listed),
        "total_sum": _amount(total),
        "currency": CirculationSettings.current().currency,
    }


def user_fees(viewer: User | None, user: User, status: str) -> QuerySet[Fee]:
    status = status or FeeStatus.ACTIVE
    if status not in FEE_STATUSES:
        raise AlmaError("401666", f"Parameter is not valid: status={status}.")
    return with_entries(visible_fees(viewer, user).filter(status=status))


def with_entries(fees: QuerySet[Fee]) -> QuerySet[Fee]:
    return fees.prefetch_related("entries__receipt", "entries__created_by").order_by(
        "created_at", "id"
    )


def entry_id(value: str) -> int | None:
    """An id from the path, or None: only ASCII digits (``str.isdigit`` also takes '³')."""
    return int(value) if value.isascii() and value.isdigit() else None


def get_fee(viewer: User | None, user: User, fee_id: str) -> Fee:
    pk = entry_id(fee_id)
    fee = with_entries(visible_fees(viewer, user)).filter(pk=pk).first() if pk else None
    if fee is None:
        raise AlmaError(FEE_NOT_FOUND, "Fine not found.")
    return fee


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if isinstance(value, Mapping):
        value = value.get("value")
    return str(value or "").strip()


def create_fee(request: HttpRequest, user: User, body: Mapping[str, Any]) -> Fee:
    fee_type, amount = _text(body, "type"), _text(body, "original_amount")
    if not fee_type:
        raise AlmaError("4019991", "User fine/fee type is required.")
    if not amount:
        raise AlmaError("4019994", "User fine/fee original amount is required.")
    owner_code = _text(body, "owner")
    owner = None
    if owner_code and owner_code != "INSTITUTION":
        owner = Library.objects.filter(code=owner_code).first()
        if owner is None:
            raise AlmaError("4019996", f"User fine/fee owner '{owner_code}' is not a library.")
    try:
        return circulation.create_fee(
            actor=actor_of(request),
            user=user,
            fee_type=fee_type,
            amount=amount,
            owner=owner,
            barcode=_text(body, "barcode"),
            comment=_text(body, "comment"),
        )
    except ValidationFailed as exc:
        raise _fee_refusal(exc) from None


def _fee_refusal(exc: ValidationFailed) -> AlmaError:
    if exc.code == "unknown_fee_type":
        return AlmaError("4019992", f"User fine/fee type invalid entry. {exc.message}")
    if exc.code == "item_not_found":
        return AlmaError("4019993", f"User item barcode invalid entry. {exc.message}")
    if "owner" in exc.errors:
        return AlmaError("4019997", exc.message)
    return from_domain(exc)


FEE_OPS = ("pay", "waive", "dispute", "restore")


def fee_operation(request: HttpRequest, fee: Fee, op: str, params: Mapping[str, str]) -> None:
    """``op=pay|waive|dispute|restore`` on one fee, through the ledger's actions (which check
    the permission of each: fines:fee:pay, :waive, :dispute)."""
    actor = actor_of(request)
    amount = params.get("amount") or None
    if op == "pay":
        circulation.pay_fee(
            actor=actor,
            fee=fee,
            method=params.get("method", ""),
            amount=None if amount == "ALL" else amount,
            external_transaction_id=params.get("external_transaction_id", ""),
        )
    elif op == "waive":
        circulation.waive_fees(
            actor=actor,
            fees=[fee],
            reason=params.get("reason", ""),
            comment=params.get("comment", ""),
            amount=None if amount == "ALL" else amount,
        )
    elif op == "dispute":
        circulation.dispute_fee(actor=actor, fee=fee, comment=params.get("comment", ""))
    elif op == "restore":
        circulation.restore_fee(actor=actor, fee=fee, comment=params.get("comment", ""))
    else:
        raise AlmaError("401666", f"Parameter is not valid: op={op}. Use {', '.join(FEE_OPS)}.")


def pay_all(request: HttpRequest, user: User, params: Mapping[str, str]) -> None:
    op = params.get("op", "")
    if op != "pay":
        raise AlmaError("401666", f"Parameter is not valid: op={op}. Only op=pay is supported.")
    amount = params.get("amount", "")
    if not amount:
        raise AlmaError("401666", "Parameter is not valid: amount (a number, or ALL).")
    circulation.pay_all(
        actor=actor_of(request),
        user=user,
        method=params.get("method", ""),
        amount=None if amount == "ALL" else amount,
        external_transaction_id=params.get("external_transaction_id", ""),
    )


# --- loans ------------------------------------------------------------------------------------


def loan_object(request: HttpRequest, user: User, loan: Loan) -> dict[str, Any]:
    link = user_link(request, user.primary_id)
    return {
        "loan_id": str(loan.pk),
        "circ_desk": {"value": loan.desk.code, "desc": loan.desk.name},
        "return_circ_desk": {"value": loan.return_desk.code, "desc": loan.return_desk.name}
        if loan.return_desk
        else None,
        "library": {"value": loan.library.code, "desc": loan.library.name},
        "user_id": user.primary_id,
        "item_barcode": loan.item.barcode,
        "due_date": alma_datetime(loan.due_at),
        "loan_status": "ACTIVE" if loan.returned_at is None else "COMPLETE",
        "loan_date": alma_datetime(loan.loaned_at),
        "return_date": alma_datetime(loan.returned_at),
        "process_status": "RENEW" if loan.renewals else "NORMAL",
        "item_id": str(loan.item_id),
        "title": loan.item.title,
        "location_code": {"value": loan.item.location, "name": loan.item.location},
        "renewable": loan.returned_at is None,
        "link": f"{link}/loans/{loan.pk}",
    }


LOAN_ORDERS = {
    "id": "id",
    "loan_date": "loaned_at",
    "due_date": "due_at",
    "barcode": "item__barcode",
    "title": "item__title",
    "return_date": "returned_at",
}


def user_loans(
    viewer: User | None, user: User, *, loan_status: str, order_by: str, direction: str
) -> QuerySet[Loan]:
    loans = visible_loans(viewer, user)
    if loan_status.lower() == "active":
        loans = loans.filter(returned_at__isnull=True)
    elif loan_status.lower() == "complete":
        loans = loans.filter(returned_at__isnull=False)
    else:
        raise invalid_parameter("loan_status", loan_status, "Use Active or Complete.")
    if order_by not in LOAN_ORDERS:
        raise invalid_parameter("order_by", order_by, ", ".join(LOAN_ORDERS))
    if direction.upper() not in ("ASC", "DESC"):
        raise invalid_parameter("direction", direction, "Use ASC or DESC.")
    sign = "-" if direction.upper() == "DESC" else ""
    return loans.order_by(f"{sign}{LOAN_ORDERS[order_by]}", f"{sign}id")


def get_loan(viewer: User | None, user: User, loan_id: str) -> Loan:
    pk = entry_id(loan_id)
    loan = visible_loans(viewer, user).filter(pk=pk).first() if pk else None
    if loan is None:
        raise AlmaError(LOAN_NOT_FOUND, f"Loan ID {loan_id} does not exist.")
    return loan


def _desk(request: HttpRequest, body: Mapping[str, Any]) -> CirculationDesk:
    """The desk a loan is made at: the body's ``circ_desk`` in its ``library``, or the desk of
    a shared desk login."""
    code, library = _text(body, "circ_desk"), _text(body, "library")
    actor_user = actor_of(request).user
    if not code and actor_user is not None and actor_user.shared_desk is not None:
        return actor_user.shared_desk
    if not code:
        raise AlmaError("401664", "Mandatory field is missing: circ_desk")
    desks = CirculationDesk.objects.filter(code=code)
    if library:
        desks = desks.filter(library__code=library)
    desk = desks.select_related("library").first()
    if desk is None:
        raise AlmaError("401153", f"Item cannot be loaned from this circulation desk ({code}).")
    return desk


def create_loan(request: HttpRequest, user: User, barcode: str, body: Mapping[str, Any]) -> Loan:
    if not barcode:
        raise AlmaError("401672", "PID field is empty: give item_barcode.")
    try:
        return circulation.check_out(
            actor=actor_of(request), user=user, barcode=barcode, desk=_desk(request, body)
        )
    except ValidationFailed as exc:
        if exc.code == "item_not_found":
            raise AlmaError("401651", f"Item is not loanable. {exc.message}") from None
        raise


def renew_loan(request: HttpRequest, loan: Loan, op: str) -> Loan:
    if op != "renew":
        raise invalid_parameter("op", op, "Only op=renew is supported.")
    try:
        return circulation.renew(actor=actor_of(request), loan=loan)
    except DomainError as exc:
        if exc.status == 403:
            raise
        raise AlmaError("401822", f"Cannot renew loan: Loan ID {loan.pk}. {exc.message}") from None


def change_due_date(request: HttpRequest, loan: Loan, body: Mapping[str, Any]) -> Loan:
    due = _text(body, "due_date")
    if not due:
        raise AlmaError("401824", "Due date is not in loan object.")
    try:
        day = parse_date(due.split("T")[0])
    except ValueError:
        raise AlmaError("401824", f"Due date '{due}' is not a date.") from None
    if day is not None and day < datetime.date.today():
        raise AlmaError("401681", "Due date cannot be in the past.")
    return circulation.change_due_date(actor=actor_of(request), loan=loan, due_date=day)


# --- attachments ------------------------------------------------------------------------------


def attachment_object(
    request: HttpRequest, user: User, attachment: UserAttachment, *, content: str = ""
) -> dict[str, Any]:
    link = f"{user_link(request, user.primary_id)}/attachments/{attachment.pk}"
    value: dict[str, Any] = {
        "id": str(attachment.pk),
        "url": link,
        "file_name": attachment.name,
        "type": attachment.content_type,
        "notes": attachment.note,
        "created_by": attachment.created_by.primary_id if attachment.created_by else "",
        "creation_date": alma_datetime(attachment.created_at),
        "link": link,
    }
    if content:
        with attachment.file.open("rb") as handle:
            data = handle.read()
        value["content"] = (
            base64.b64encode(data).decode() if content == "content" else data.decode("latin-1")
        )
    return value


def get_attachment(viewer: User | None, user: User, attachment_id: str) -> UserAttachment:
    pk = entry_id(attachment_id)
    found = selectors.attachments_of(viewer, user).filter(pk=pk).first() if pk else None
    if found is None:
        raise AlmaError(ATTACHMENT_NOT_FOUND, f"Attachment {attachment_id} not found.")
    return found


def add_attachment(request: HttpRequest, user: User, body: Mapping[str, Any]) -> UserAttachment:
    name, content = _text(body, "file_name"), _text(body, "content")
    if not name:
        raise AlmaError("401664", "Mandatory field is missing: file_name")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise AlmaError(
            "60322", "Attachment content could not be processed (base64 expected)."
        ) from None
    return account_actions.add_attachment(
        actor=actor_of(request),
        user=user,
        upload=ContentFile(data, name=name),
        name=name,
        note=_text(body, "notes"),
    )


# --- the staff login report -------------------------------------------------------------------

LOGIN_VERBS = {"true": ("auth.login",), "failed-login-attempts": ("auth.login_failed",)}


def login_events(*, date_from: str, date_to: str, successful: str) -> QuerySet[AuditEvent]:
    """Sign-ins (and failed attempts) of staff users, from the audit trail, newest first."""
    verbs = LOGIN_VERBS.get(successful, ("auth.login", "auth.login_failed"))
    if successful not in (*LOGIN_VERBS, "all"):
        raise invalid_parameter("successful", successful, "Use all, true or failed-login-attempts.")
    events = AuditEvent.objects.filter(verb__in=verbs, subject__record_type="STAFF")
    for name, value, lookup in (
        ("login_date_from", date_from, "occurred_at__date__gte"),
        ("login_date_to", date_to, "occurred_at__date__lte"),
    ):
        if value:
            try:
                events = events.filter(Q(**{lookup: parse_date(value)}))
            except ValueError:
                raise invalid_parameter(name, value, "Use YYYY-MM-DD.") from None
    return events.select_related("subject").order_by("-occurred_at", "-id")


def login_event_object(event: AuditEvent) -> dict[str, Any]:
    subject = event.subject
    return {
        "user_primary_id": subject.primary_id if subject else "",
        "full_name": subject.display_name if subject else "",
        "login_time": alma_datetime(event.occurred_at),
        "ip_address": event.ip,
        "successful": event.verb == "auth.login",
        "failure_reason": str(event.details.get("reason", ""))
        if event.verb != "auth.login"
        else "",
    }
