"""Exporting every user in the import formats, streamed (``patronage export users``).

XML is Alma's user XML (``<users><user>…``), everything the SIS import reads: an export
imports elsewhere (or here again: nothing changes). CSV has one column per General field
and, for identifiers, e-mails, phones, addresses and statistics, one column (or address
part) per type of the code tables, named by its import target (``identifier:BARCODE``,
``address:home:city``…), so the heading is its own column mapping; it holds one entry per
type (the first), the XML all of them.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

from patronage.accounts.choices import CodeTable
from patronage.accounts.models import (
    Address,
    Email,
    Phone,
    User,
    UserBlock,
    UserIdentifier,
    UserNote,
    UserStatistic,
)
from patronage.accounts.validation import code_entries
from patronage.replica import reporting_database

from .formats import ADDRESS_PARTS, SIS_FIELDS

BATCH = 1000
USER_COLUMNS = tuple(name for name in SIS_FIELDS if name != "rs_libraries")
ADDRESS_TEXT = tuple(part for part in ADDRESS_PARTS if part not in ("start_date", "end_date"))
ENTRIES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "identifiers": (UserIdentifier, ("id_type", "value", "note")),
    "email": (Email, ("address", "description", "types", "preferred")),
    "phone": (Phone, ("number", "types", "preferred", "preferred_sms")),
    "address": (Address, (*ADDRESS_PARTS, "types", "preferred")),
    "notes": (UserNote, ("note_type", "text", "user_viewable", "popup")),
    "statistics": (UserStatistic, ("category_type", "category", "note")),
    "blocks": (UserBlock, ("block_type", "note", "expiry_date")),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def user_batches() -> Iterator[list[dict[str, Any]]]:
    """Every user with its entries, a batch at a time (keyset pages: flat memory), read from
    the replica when there is one."""
    db = reporting_database()
    last = 0
    while True:
        users = list(
            User.objects.using(db)
            .filter(pk__gt=last)
            .order_by("pk")
            .values("id", *USER_COLUMNS)[:BATCH]
        )
        if not users:
            return
        last = users[-1]["id"]
        ids = [user["id"] for user in users]
        by_id = {user["id"]: user for user in users}
        for user in users:
            user.update({kind: [] for kind in ENTRIES}, rs_libraries=[])
        for kind, (model, fields) in ENTRIES.items():
            query = model.objects.using(db).filter(user_id__in=ids).order_by("id")
            if kind == "identifiers":
                query = query.filter(is_primary=False)
            for row in query.values("user_id", *fields):
                by_id[row.pop("user_id")][kind].append(row)
        through = User.rs_libraries.through
        for user_id, code in (
            through.objects.using(db)
            .filter(user_id__in=ids)
            .order_by("library__code")
            .values_list("user_id", "library__code")
        ):
            by_id[user_id]["rs_libraries"].append(code)
        yield users


# --- XML -------------------------------------------------------------------------------------


def write_xml(out: IO[bytes]) -> int:
    count = 0
    with etree.xmlfile(out, encoding="UTF-8") as document:
        document.write_declaration()
        with document.element("users"):
            for users in user_batches():
                for user in users:
                    document.write(_user_element(user), pretty_print=True)
                    count += 1
    return count


def _sub(parent: Any, tag: str, text: Any = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, tag, **attributes)
    if text is not None:
        element.text = _text(text)
    return element


def _user_element(user: dict[str, Any]) -> Any:
    root = etree.Element("user")
    for name in USER_COLUMNS:
        if name == "library_notices":
            notices = _sub(root, "library_notices")
            for code in user[name] or []:
                notice = _sub(notices, "library_notice")
                _sub(notice, "code", code)
                _sub(notice, "value", True)
        elif user[name] not in ("", None):
            _sub(root, name, user[name])
    libraries = _sub(root, "rs_libraries")
    for code in user["rs_libraries"]:
        _sub(_sub(libraries, "rs_library"), "code", code)
    contact = _sub(root, "contact_info")
    addresses = _sub(contact, "addresses")
    for entry in user["address"]:
        element = _sub(addresses, "address", preferred=_text(entry["preferred"]))
        for part in ADDRESS_PARTS:
            if entry[part] not in ("", None):
                _sub(element, part, entry[part])
        _types(element, "address_types", "address_type", entry["types"])
    emails = _sub(contact, "emails")
    for entry in user["email"]:
        element = _sub(emails, "email", preferred=_text(entry["preferred"]))
        _sub(element, "email_address", entry["address"])
        if entry["description"]:
            _sub(element, "description", entry["description"])
        _types(element, "email_types", "email_type", entry["types"])
    phones = _sub(contact, "phones")
    for entry in user["phone"]:
        element = _sub(
            phones,
            "phone",
            preferred=_text(entry["preferred"]),
            preferred_sms=_text(entry["preferred_sms"]),
        )
        _sub(element, "phone_number", entry["number"])
        _types(element, "phone_types", "phone_type", entry["types"])
    identifiers = _sub(root, "user_identifiers")
    for entry in user["identifiers"]:
        element = _sub(identifiers, "user_identifier")
        _sub(element, "id_type", entry["id_type"])
        _sub(element, "value", entry["value"])
        if entry["note"]:
            _sub(element, "note", entry["note"])
    notes = _sub(root, "user_notes")
    for entry in user["notes"]:
        element = _sub(notes, "user_note")
        _sub(element, "note_type", entry["note_type"])
        _sub(element, "note_text", entry["text"])
        _sub(element, "user_viewable", entry["user_viewable"])
        _sub(element, "popup_note", entry["popup"])
    statistics = _sub(root, "user_statistics")
    for entry in user["statistics"]:
        element = _sub(statistics, "user_statistic")
        _sub(element, "statistic_category", entry["category"])
        if entry["category_type"]:
            _sub(element, "category_type", entry["category_type"])
        if entry["note"]:
            _sub(element, "statistic_note", entry["note"])
    blocks = _sub(root, "user_blocks")
    for entry in user["blocks"]:
        element = _sub(blocks, "user_block")
        _sub(element, "block_type", entry["block_type"])
        if entry["note"]:
            _sub(element, "block_note", entry["note"])
        if entry["expiry_date"]:
            _sub(element, "expiry_date", entry["expiry_date"])
    return root


def _types(parent: Any, container: str, item: str, codes: list[str]) -> None:
    holder = _sub(parent, container)
    for code in codes:
        _sub(holder, item, code)


# --- CSV -------------------------------------------------------------------------------------


def csv_columns() -> list[str]:
    """The heading: General fields, then one target per type of each entry kind."""
    columns = [*USER_COLUMNS, "rs_libraries"]
    columns += [f"identifier:{code}" for code in code_entries(CodeTable.IDENTIFIER_TYPE)]
    columns += [f"email:{code}" for code in code_entries(CodeTable.EMAIL_TYPE)]
    columns += [f"phone:{code}" for code in code_entries(CodeTable.PHONE_TYPE)]
    columns += [
        f"address:{code}:{part}"
        for code in code_entries(CodeTable.ADDRESS_TYPE)
        for part in ADDRESS_TEXT
    ]
    columns += [f"statistic:{code}" for code in code_entries(CodeTable.STATISTIC_CATEGORY_TYPE)]
    return columns


def write_csv(out: Any) -> int:
    """``out``: anything with ``write(str)`` (a file, a command's stdout)."""
    columns = csv_columns()
    writer = csv.writer(out)
    writer.writerow(columns)
    count = 0
    for users in user_batches():
        for user in users:
            cells = _csv_cells(user)
            writer.writerow([cells.get(column, "") for column in columns])
            count += 1
    return count


def _csv_cells(user: dict[str, Any]) -> dict[str, str]:
    cells = {name: _text(user[name]) for name in USER_COLUMNS}
    cells["library_notices"] = ";".join(user["library_notices"] or [])
    cells["rs_libraries"] = ";".join(user["rs_libraries"])
    for entry in user["identifiers"]:
        cells.setdefault(f"identifier:{entry['id_type']}", entry["value"])
    for kind, field in (("email", "address"), ("phone", "number")):
        for entry in user[kind]:
            for code in entry["types"]:
                cells.setdefault(f"{kind}:{code}", entry[field])
    for entry in user["address"]:
        for code in entry["types"]:
            if f"address:{code}:line1" not in cells:
                for part in ADDRESS_TEXT:
                    cells[f"address:{code}:{part}"] = _text(entry[part])
    for entry in user["statistics"]:
        cells.setdefault(f"statistic:{entry['category_type']}", entry["category"])
    return cells
