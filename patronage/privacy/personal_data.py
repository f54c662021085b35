"""The personal-data export (seed 002, "Personal Information Letter"; data portability):
everything held about one user, built once (``build``) and rendered as JSON, as Alma's
``user_personal_data`` XML (``personal_data_alma``, written by the almaws serializers), and
as a readable letter in HTML and PDF (``personal_data_letter``).

What is in it: the record, identifiers, contact information, the notes the user may see
(``user_viewable``; internal notes are staff's working notes, not part of the letter),
statistics, blocks, fees with every transaction, loans and loan history, proxy relations
both ways, roles, attachments (described, not their content), and the read-access log of
who viewed or exported the record. Never passwords, PINs or second-factor secrets.

The content does not depend on who asks: it is the user's own copy, whether staff download
it, e-mail it as the Personal Information Letter, or the user downloads it from ``/my/``.
Who may ask is decided here (``export_data``, ``send_letter``, ``export_own``), and every export
is a ``user.exported`` event in the read-access log with the actor, channel and format.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from patronage.access.checks import require
from patronage.access.models import RoleGrant
from patronage.access.permissions import Permission
from patronage.accounts.actions import require_change
from patronage.accounts.choices import CodeTable
from patronage.accounts.models import User
from patronage.almaws.formats import to_xml
from patronage.almaws.users import (
    ADDRESS_FIELDS,
    CHOICE_FIELDS,
    CODE_FIELDS,
    DATE_FIELDS,
    TEXT_FIELDS,
    Descriptions,
)
from patronage.almaws.users import _choice as choice
from patronage.approvals.acknowledgements import require_acknowledgement
from patronage.approvals.notifications import address_of
from patronage.audit.actions import record
from patronage.audit.context import Actor
from patronage.audit.models import AuditEvent
from patronage.circulation.choices import EntryKind, FeeStatus, PaymentMethod, ProxyKind
from patronage.circulation.models import Fee, Loan, ProxyRelation
from patronage.circulation.selectors import money, with_balance
from patronage.errors import ValidationFailed

from .reads import EXPORTED, READ_VERBS, record_read

FORMATS = ("json", "xml", "html", "pdf")
CONTENT_TYPES = {
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
LETTER = "personal_information_letter"
LETTER_SUBJECT = "Your personal information held by the library"
# The general fields of the record, as the Alma user object has them (``almaws.users``):
# code-table fields carry their description, fixed-choice fields their label.
RECORD_CODES = CODE_FIELDS
RECORD_CHOICES = CHOICE_FIELDS
RECORD_TEXT = TEXT_FIELDS
RECORD_DATES = (*DATE_FIELDS, "status_date", "last_patron_activity_date")


def _record(user: User, codes: Descriptions) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: getattr(user, name)
        for name in (*RECORD_TEXT, *RECORD_DATES, "created_at", "updated_at")
    }
    out["full_name"] = user.display_name
    out.update({name: choice(enum, getattr(user, name)) for name, enum in RECORD_CHOICES.items()})
    out.update({name: codes(table, getattr(user, name)) for name, table in RECORD_CODES.items()})
    out["library_notices"] = [codes(CodeTable.PATRON_LETTER, c) for c in user.library_notices]
    out["keep_loan_history"] = user.keep_loan_history  # the opt-in (privacy.retention)
    out["resource_sharing_libraries"] = [
        {"value": lib.code, "desc": lib.name} for lib in user.rs_libraries.order_by("code")
    ]
    return out


def _contact(user: User, codes: Descriptions) -> dict[str, Any]:
    def common(entry: Any, table: str) -> dict[str, Any]:
        return {
            "types": [codes(table, t) for t in entry.types],
            "preferred": entry.preferred,
            "start_date": entry.start_date,
            "end_date": entry.end_date,
        }

    return {
        "addresses": [
            {
                **{name: getattr(a, name) for name in (*ADDRESS_FIELDS, "country", "address_note")},
                "text": str(a),
                **common(a, CodeTable.ADDRESS_TYPE),
            }
            for a in user.addresses.order_by("-preferred", "id")
        ],
        "emails": [
            {"address": e.address, "description": e.description, **common(e, CodeTable.EMAIL_TYPE)}
            for e in user.emails.order_by("-preferred", "id")
        ],
        "phones": [
            {
                "number": p.number,
                "preferred_sms": p.preferred_sms,
                **common(p, CodeTable.PHONE_TYPE),
            }
            for p in user.phones.order_by("-preferred", "id")
        ],
    }


def _owner(entry: Any) -> str:
    return entry.owner.name if entry.owner_id else ""


def _library_entries(user: User, codes: Descriptions) -> dict[str, list[dict[str, Any]]]:
    return {
        "notes": [
            {
                "type": codes(CodeTable.NOTE_TYPE, n.note_type),
                "text": n.text,
                "library": _owner(n),
                "created_at": n.created_at,
            }
            for n in user.notes.filter(user_viewable=True).select_related("owner").order_by("id")
        ],
        "statistics": [
            {
                "category": codes(CodeTable.STATISTIC_CATEGORY, s.category),
                "category_type": codes(CodeTable.STATISTIC_CATEGORY_TYPE, s.category_type),
                "note": s.note,
                "library": _owner(s),
            }
            for s in user.statistics.select_related("owner").order_by("id")
        ],
        "blocks": [
            {
                "type": codes(CodeTable.BLOCK_TYPE, b.block_type),
                "status": b.status,
                "note": b.note,
                "library": _owner(b),
                "created_at": b.created_at,
                "expiry_date": b.expiry_date,
            }
            for b in user.blocks.select_related("owner").order_by("id")
        ],
    }


def _fees(user: User) -> list[dict[str, Any]]:
    fees = with_balance(Fee.objects.filter(user=user)).select_related("fee_type", "owner", "item")
    return [
        {
            "id": fee.pk,
            "type": {"value": fee.fee_type.code, "desc": fee.fee_type.description},
            "status": choice(FeeStatus, fee.status),
            "original_amount": fee.original_amount,
            "balance": money(fee.balance),  # type: ignore[attr-defined]
            "currency": fee.currency,
            "created_at": fee.created_at,
            "status_date": fee.status_date,
            "comment": fee.comment,
            "library": _owner(fee),
            "item": fee.item.title if fee.item else "",
            "barcode": fee.item.barcode if fee.item else "",
            "transactions": [
                {
                    "kind": choice(EntryKind, entry.kind),
                    "amount": entry.amount,
                    "method": choice(PaymentMethod, entry.method),
                    "reason": entry.reason,
                    "comment": entry.comment,
                    "created_at": entry.created_at,
                }
                for entry in fee.entries.all()
            ],
        }
        for fee in fees.prefetch_related("entries").order_by("created_at", "id")
    ]


def _loans(user: User) -> list[dict[str, Any]]:
    loans = Loan.objects.filter(user=user).select_related("item", "library", "desk", "proxy")
    return [
        {
            "id": loan.pk,
            "title": loan.item.title,
            "barcode": loan.item.barcode,
            "library": loan.library.name,
            "desk": loan.desk.name,
            "loaned_at": loan.loaned_at,
            "due_at": loan.due_at,
            "returned_at": loan.returned_at,
            "renewals": loan.renewals,
            "borrowed_by_proxy": loan.proxy.display_name if loan.proxy else "",
        }
        for loan in loans.order_by("loaned_at", "id")
    ]


def _proxies(user: User) -> dict[str, list[dict[str, Any]]]:
    def relation(other: User, r: ProxyRelation) -> dict[str, Any]:
        return {
            "primary_id": other.primary_id,
            "name": other.display_name,
            "kind": choice(ProxyKind, r.kind),
            "valid_from": r.valid_from,
            "valid_until": r.valid_until,
        }

    relations = ProxyRelation.objects.select_related("proxy", "sponsor").order_by("id")
    return {
        "proxy_for": [relation(r.sponsor, r) for r in relations.filter(proxy=user)],
        "proxies": [relation(r.proxy, r) for r in relations.filter(sponsor=user)],
    }


def _roles(user: User) -> list[dict[str, Any]]:
    grants = (
        RoleGrant.objects.active()
        .filter(user=user)
        .select_related("role", "library", "circulation_desk", "department", "acquisitions_unit")
        .order_by("id")
    )
    return [
        {
            "code": g.role.code,
            "name": g.role.name,
            "scope": g.scope_label,
            "valid_from": g.valid_from,
            "valid_until": g.valid_until,
        }
        for g in grants
    ]


def _attachments(user: User) -> list[dict[str, Any]]:
    return [
        {
            "name": a.name,
            "content_type": a.content_type,
            "size": a.size,
            "note": a.note,
            "created_at": a.created_at,
        }
        for a in user.attachments.order_by("id")
    ]


def _access_log(user: User) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(subject_id=user.pk, verb__in=READ_VERBS)
    return [
        {
            "occurred_at": e.occurred_at,
            # The person's name while their record exists; the label recorded at the time
            # (a primary ID, "System") otherwise.
            "by": e.actor.display_name if e.actor else e.actor_label,
            "channel": e.channel,
            "what": "exported" if e.verb == EXPORTED else "viewed",
            "reason": e.reason,
        }
        for e in events.select_related("actor").order_by("occurred_at", "id")
    ]


def build(user: User) -> dict[str, Any]:
    """Everything held about ``user``, as Python values (dates, decimals): the one source of
    every format."""
    codes = Descriptions()
    return {
        "generated_at": timezone.now(),
        "record": _record(user, codes),
        "identifiers": [
            {
                "type": codes(CodeTable.IDENTIFIER_TYPE, i.id_type),
                "value": i.value,
                "note": i.note,
                "primary": i.is_primary,
            }
            for i in user.identifiers.order_by("-is_primary", "id")
        ],
        "contact": _contact(user, codes),
        **_library_entries(user, codes),
        "fees": _fees(user),
        "loans": _loans(user),
        **_proxies(user),
        "roles": _roles(user),
        "attachments": _attachments(user),
        "access_log": _access_log(user),
    }


# --- the formats ------------------------------------------------------------------------------


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def as_xml(data: dict[str, Any]) -> bytes:
    from .personal_data_alma import ALMA_NODE, alma_value

    return to_xml(ALMA_NODE, alma_value(data))


def as_html(data: dict[str, Any]) -> bytes:
    from .personal_data_letter import letter_sections

    return render_to_string(
        "web/privacy/personal_data/letter.html",
        {"data": data, "sections": letter_sections(data)},
    ).encode()


def as_pdf(data: dict[str, Any]) -> bytes:
    from .personal_data_letter import render_pdf  # fpdf2 is loaded only for a PDF

    return render_pdf(data)


RENDERERS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "json": as_json,
    "xml": as_xml,
    "html": as_html,
    "pdf": as_pdf,
}


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    filename: str


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed(
            {"format": f"Choose one of {', '.join(FORMATS)}."}, code="invalid_format"
        )
    return fmt


def _render(user: User, fmt: str, data: dict[str, Any]) -> Export:
    content = RENDERERS[check_format(fmt)](data)
    stamp = timezone.localdate().isoformat()
    return Export(content, CONTENT_TYPES[fmt], f"personal-data-{user.primary_id}-{stamp}.{fmt}")


def record_export(actor: Actor, user: User, fmt: str, reason: str = "") -> None:
    """The export's event in the read-access log, for callers that are not routes marked
    ``@reads_patron_data`` (the CLI, the Alma-compatible API, ``/my/``)."""
    record_read(actor, EXPORTED, user.pk, reason, details(fmt))


def details(fmt: str) -> dict[str, str]:
    return {"export": "personal_data", "format": fmt}


def export_data(*, actor: Actor, user: User) -> dict[str, Any]:
    """Everything held about ``user``, for staff (or an API key) holding the permission and,
    like every reader of patron details, a current confidentiality acknowledgement. ``user``
    must be visible to the actor (callers find them with the selectors: 404 otherwise). The
    caller logs the export: routes with ``@reads_patron_data(EXPORTED)``, others with
    ``record_export``."""
    require(actor, Permission.PRIVACY_PERSONAL_DATA_EXPORT)
    require_acknowledgement(actor.user)
    return build(user)


def export(*, actor: Actor, user: User, fmt: str) -> Export:
    """``export_data`` rendered in ``fmt``, as a file to download."""
    check_format(fmt)
    return _render(user, fmt, export_data(actor=actor, user=user))


@transaction.atomic
def export_own(*, actor: Actor, fmt: str) -> Export:
    """The signed-in user's own data (``/my/``): no permission needed, nobody else's."""
    check_format(fmt)
    assert actor.user is not None
    result = _render(actor.user, fmt, build(actor.user))
    record_export(actor, actor.user, fmt)
    return result


def _send(address: str, letter: str, attachment: Export) -> None:
    message = EmailMessage(subject=LETTER_SUBJECT, body=letter, to=[address])
    message.attach(attachment.filename, attachment.content, "application/xml")
    message.send()


@transaction.atomic
def send_letter(*, actor: Actor, user: User, reason: str = "") -> str:
    """The Personal Information Letter (seed 002): the complete XML record, attached to a
    letter e-mailed to the user's preferred address after the commit. Staff never see the
    content. Refused when the user has no e-mail address, and (seed 002) for a user restricted
    for editing unless the sender may edit them. Returns the address."""
    require_change(actor, Permission.PRIVACY_PERSONAL_DATA_LETTER, user)
    address = address_of(user)
    if not address:
        raise ValidationFailed(
            {"email": f"{user.display_name} has no e-mail address to send the letter to."},
            code="no_email",
        )
    attachment = _render(user, "xml", build(user))
    letter = render_to_string(
        "web/privacy/personal_data/letter_email.txt",
        {"user": user, "date": timezone.localdate()},
    )
    record(
        actor=actor,
        verb=EXPORTED,
        object_type="user",
        object_id=str(user.pk),
        subject=user,
        reason=reason,
        details={"export": LETTER, "format": "xml"},
        sealed_details={"to": address},
    )
    transaction.on_commit(lambda: _send(address, letter, attachment))
    return address
