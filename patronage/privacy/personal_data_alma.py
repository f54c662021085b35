"""The personal-data export as Alma's ``user_personal_data`` object (``GET
/almaws/v1/users/{user_id}/personal-data``, and the export's XML format): the user object,
loans, fees with their transactions and attachments, as the almaws serializers write them
(``almaws.formats``, ``almaws.schema``), then what Patronage holds beside them -- who may
borrow for the user, and who viewed or exported the record.
"""

from __future__ import annotations

from typing import Any

from patronage.almaws import formats as alma_formats
from patronage.almaws import schema as alma
from patronage.almaws.users import ADDRESS_FIELDS, alma_date, alma_datetime

from .personal_data import RECORD_CHOICES, RECORD_CODES, RECORD_DATES, RECORD_TEXT

PROXY_USER = alma_formats.obj(
    "proxy_user",
    alma_formats.text("primary_id"),
    alma_formats.text("full_name"),
    alma_formats.code("proxy_type"),
    alma_formats.text("start_date"),
    alma_formats.text("end_date"),
)
ACCESS_EVENT = alma_formats.obj(
    "access_event",
    alma_formats.text("event_time"),
    alma_formats.text("accessed_by"),
    alma_formats.text("channel"),
    alma_formats.text("access_type"),
    alma_formats.text("reason"),
)
# Alma's object (the user, loans, fees, attachments), then what Patronage holds beside them:
# who may borrow for the user, and who viewed or exported the record.
ALMA_NODE = alma_formats.obj(
    "user_personal_data",
    alma.USER,
    alma.LOANS,
    alma.FEES,
    alma.ATTACHMENTS,
    alma_formats.listing(PROXY_USER, "proxy_users"),
    alma_formats.listing(ACCESS_EVENT, "access_events"),
)


def _alma_user(data: dict[str, Any]) -> dict[str, Any]:
    rec = data["record"]
    contact = data["contact"]
    value: dict[str, Any] = {name: rec[name] for name in RECORD_TEXT}
    value.update({name: alma_date(rec[name]) for name in RECORD_DATES})
    value.update({name: rec[name] for name in (*RECORD_CHOICES, *RECORD_CODES)})
    value["full_name"] = rec["full_name"]
    value["contact_info"] = {
        "address": [
            {
                **{name: a[name] for name in ADDRESS_FIELDS},
                "country": {"value": a["country"], "desc": ""},
                "address_note": a["address_note"],
                "start_date": alma_date(a["start_date"]),
                "end_date": alma_date(a["end_date"]),
                "address_type": [t for t in a["types"]],
                "preferred": a["preferred"],
            }
            for a in contact["addresses"]
        ],
        "email": [
            {
                "email_address": e["address"],
                "description": e["description"],
                "email_type": [t for t in e["types"]],
                "preferred": e["preferred"],
            }
            for e in contact["emails"]
        ],
        "phone": [
            {
                "phone_number": p["number"],
                "phone_type": [t for t in p["types"]],
                "preferred": p["preferred"],
                "preferred_sms": p["preferred_sms"],
            }
            for p in contact["phones"]
        ],
    }
    value["user_identifier"] = [
        {"id_type": i["type"], "value": i["value"], "note": i["note"]}
        for i in data["identifiers"]
        if not i["primary"]
    ]
    value["user_role"] = [
        {
            "status": {"value": "ACTIVE", "desc": "Active"},
            "scope": {"value": r["scope"], "desc": r["scope"]},
            "role_type": {"value": r["code"], "desc": r["name"]},
            "expiry_date": alma_date(r["valid_until"].date()) if r["valid_until"] else None,
        }
        for r in data["roles"]
    ]
    value["user_block"] = [
        {
            "block_type": b["type"],
            "block_description": b["type"],
            "block_status": b["status"],
            "block_note": b["note"],
            "created_date": alma_datetime(b["created_at"]),
            "expiry_date": alma_date(b["expiry_date"]),
        }
        for b in data["blocks"]
    ]
    value["user_note"] = [
        {
            "note_type": n["type"],
            "note_text": n["text"],
            "user_viewable": True,
            "created_date": alma_datetime(n["created_at"]),
        }
        for n in data["notes"]
    ]
    value["user_statistic"] = [
        {
            "statistic_category": s["category"],
            "category_type": s["category_type"],
            "statistic_note": s["note"],
        }
        for s in data["statistics"]
    ]
    value["proxy_for_user"] = [
        {"primary_id": p["primary_id"], "full_name": p["name"]} for p in data["proxy_for"]
    ]
    value["rs_library"] = [{"code": lib} for lib in rec["resource_sharing_libraries"]]
    value["library_notice"] = [{"code": n, "value": True} for n in rec["library_notices"]]
    return value


def _alma_fees(data: dict[str, Any]) -> dict[str, Any]:
    fees = data["fees"]
    return {
        "fee": [
            {
                "id": str(f["id"]),
                "type": f["type"],
                "status": f["status"],
                "balance": float(f["balance"]),
                "original_amount": float(f["original_amount"]),
                "creation_time": alma_datetime(f["created_at"]),
                "status_time": alma_datetime(f["status_date"]),
                "comment": f["comment"],
                "owner": {"value": f["library"], "desc": f["library"]},
                "title": f["item"],
                "barcode": {"value": f["barcode"]} if f["barcode"] else None,
                "transaction": [
                    {
                        "type": t["kind"],
                        "amount": float(abs(t["amount"])),
                        "reason": {"value": t["reason"], "desc": ""},
                        "comment": t["comment"],
                        "transaction_time": alma_datetime(t["created_at"]),
                        "payment_method": t["method"],
                    }
                    for t in f["transactions"]
                ],
            }
            for f in fees
        ],
        "total_record_count": len(fees),
        "total_sum": float(sum(f["balance"] for f in fees if f["status"]["value"] != "CLOSED")),
        "currency": fees[0]["currency"] if fees else None,
    }


def alma_value(data: dict[str, Any]) -> dict[str, Any]:
    """``build``'s data as Alma's ``user_personal_data`` object (XML and JSON alike)."""
    loans = data["loans"]
    return {
        "user": _alma_user(data),
        "item_loans": {
            "item_loan": [
                {
                    "loan_id": str(loan["id"]),
                    "library": {"value": loan["library"], "desc": loan["library"]},
                    "circ_desk": {"value": loan["desk"], "desc": loan["desk"]},
                    "user_id": data["record"]["primary_id"],
                    "item_barcode": loan["barcode"],
                    "title": loan["title"],
                    "loan_date": alma_datetime(loan["loaned_at"]),
                    "due_date": alma_datetime(loan["due_at"]),
                    "return_date": alma_datetime(loan["returned_at"]),
                    "loan_status": "ACTIVE" if loan["returned_at"] is None else "COMPLETE",
                }
                for loan in loans
            ],
            "total_record_count": len(loans),
        },
        "fees": _alma_fees(data),
        "attachments": {
            "attachment": [
                {
                    "file_name": a["name"],
                    "type": a["content_type"],
                    "notes": a["note"],
                    "creation_date": alma_datetime(a["created_at"]),
                }
                for a in data["attachments"]
            ],
            "total_record_count": len(data["attachments"]),
        },
        "proxy_user": [
            {
                "primary_id": p["primary_id"],
                "full_name": p["name"],
                "proxy_type": p["kind"],
                "start_date": alma_date(p["valid_from"]),
                "end_date": alma_date(p["valid_until"]),
            }
            for p in data["proxies"]
        ],
        "access_event": [
            {
                "event_time": alma_datetime(e["occurred_at"]),
                "accessed_by": e["by"],
                "channel": e["channel"],
                "access_type": e["what"],
                "reason": e["reason"],
            }
            for e in data["access_log"]
        ],
    }
