"""What a legal release contains for one patron, kind by kind (``RecordKind``).

Only the kinds the order names are read at all; nothing else about the patron is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from patronage.accounts.models import User
from patronage.circulation.models import Fee, Loan

RECORD_FIELDS = (
    "primary_id",
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "record_type",
    "user_group",
    "status",
    "expiry_date",
    "created_at",
)


def _text(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _record(user: User) -> Any:
    return {name: _text(getattr(user, name)) for name in RECORD_FIELDS}


def _identifiers(user: User) -> Any:
    return [{"type": i.id_type, "value": i.value} for i in user.identifiers.order_by("id")]


def _contact(user: User) -> Any:
    return {
        "emails": [e.address for e in user.emails.all()],
        "phones": [p.number for p in user.phones.all()],
        "addresses": [str(a) for a in user.addresses.all()],
    }


def _notes(user: User) -> Any:
    return [
        {"type": n.note_type, "text": n.text, "created_at": _text(n.created_at)}
        for n in user.notes.all()
    ]


def _blocks(user: User) -> Any:
    return [
        {
            "type": b.block_type,
            "note": b.note,
            "status": b.status,
            "expiry_date": _text(b.expiry_date),
        }
        for b in user.blocks.all()
    ]


def _loans(user: User) -> Any:
    return [
        {
            "title": loan.item.title,
            "barcode": loan.item.barcode,
            "loaned_at": _text(loan.loaned_at),
            "due_at": _text(loan.due_at),
            "returned_at": _text(loan.returned_at),
        }
        for loan in Loan.objects.filter(user=user).select_related("item")
    ]


def _fees(user: User) -> Any:
    return [
        {
            "type": fee.fee_type.code,
            "status": fee.status,
            "amount": str(fee.original_amount),
            "currency": fee.currency,
            "date": _text(fee.status_date),
        }
        for fee in Fee.objects.filter(user=user).select_related("fee_type")
    ]


PARTS: dict[str, Callable[[User], Any]] = {
    "record": _record,
    "identifiers": _identifiers,
    "contact": _contact,
    "notes": _notes,
    "blocks": _blocks,
    "loans": _loans,
    "fees": _fees,
}


def release_record(user: User, kinds: list[str]) -> dict[str, Any]:
    return {"id": user.pk, **{kind: PARTS[kind](user) for kind in kinds}}
