"""The personal-data export as a readable letter: the data as sections of plain-text tables,
rendered as HTML (``web/privacy/personal_data/letter.html``) and as PDF (fpdf2, pure Python).

The PDF's font is DejaVu Sans, shipped with the app (``fonts/``, Bitstream Vera licence), so
any name or note prints, in any script DejaVu covers, without system fonts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone
from fpdf import FPDF
from fpdf.fonts import FontFace

from patronage.accounts.models import User

FONT = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"
FAMILY = "DejaVu"


@dataclass(frozen=True)
class Section:
    """One part of the letter: a table (``columns`` + ``rows``) of plain text."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    empty: str = "None."


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dict):  # a code with its description
        return value["desc"] or value["value"]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if hasattr(value, "hour"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _rows(entries: list[dict[str, Any]], names: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [tuple(_text(entry[name]) for name in names) for entry in entries]


def _record_rows(record: dict[str, Any]) -> list[tuple[str, ...]]:
    labels = {field.name: str(field.verbose_name) for field in User._meta.concrete_fields}
    labels |= {field.name: str(field.verbose_name) for field in User._meta.many_to_many}
    labels |= {"full_name": "name", "resource_sharing_libraries": "resource sharing libraries"}
    rows: list[tuple[str, ...]] = []
    for name, value in record.items():
        shown = _text(value)
        if shown:
            label = labels.get(name, name.replace("_", " "))
            rows.append((label[:1].upper() + label[1:], shown))
    return rows


def _fee_rows(fees: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for fee in fees:
        rows.append(
            (
                _text(fee["created_at"]),
                _text(fee["type"]),
                f"{fee['original_amount']} {fee['currency']}",
                f"{fee['balance']} {fee['currency']}",
                _text(fee["status"]),
                "; ".join(
                    f"{_text(t['created_at'])} {_text(t['kind'])} {t['amount']}"
                    + (f" ({_text(t['method'])})" if t["method"]["value"] else "")
                    for t in fee["transactions"]
                ),
            )
        )
    return rows


# The parts of the letter after the record: title, where the entries are in the data, and
# (column heading, entry key) for each column.
TABLES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Identifiers", "identifiers", (("Type", "type"), ("Value", "value"), ("Note", "note"))),
    (
        "Addresses",
        "contact.addresses",
        (("Address", "text"), ("Types", "types"), ("Preferred", "preferred")),
    ),
    (
        "E-mail addresses",
        "contact.emails",
        (("Address", "address"), ("Types", "types"), ("Preferred", "preferred")),
    ),
    (
        "Phone numbers",
        "contact.phones",
        (("Number", "number"), ("Types", "types"), ("Preferred", "preferred")),
    ),
    (
        "Notes",
        "notes",
        (("Date", "created_at"), ("Type", "type"), ("Note", "text"), ("Library", "library")),
    ),
    (
        "Statistics",
        "statistics",
        (("Category", "category"), ("Type", "category_type"), ("Note", "note")),
    ),
    (
        "Blocks",
        "blocks",
        (
            ("Since", "created_at"),
            ("Type", "type"),
            ("Status", "status"),
            ("Note", "note"),
            ("Until", "expiry_date"),
        ),
    ),
    (
        "Loans and loan history",
        "loans",
        (
            ("Loaned", "loaned_at"),
            ("Title", "title"),
            ("Barcode", "barcode"),
            ("Library", "library"),
            ("Due", "due_at"),
            ("Returned", "returned_at"),
        ),
    ),
    ("You may borrow for", "proxy_for", ()),
    ("May borrow for you", "proxies", ()),
    ("Roles", "roles", (("Role", "name"), ("Scope", "scope"), ("Until", "valid_until"))),
    (
        "Attachments",
        "attachments",
        (("Date", "created_at"), ("Name", "name"), ("Note", "note")),
    ),
    (
        "Who looked at your record",
        "access_log",
        (
            ("When", "occurred_at"),
            ("Who", "by"),
            ("What", "what"),
            ("Channel", "channel"),
            ("Reason", "reason"),
        ),
    ),
)
PROXY_COLUMNS = (
    ("Primary ID", "primary_id"),
    ("Name", "name"),
    ("Kind", "kind"),
    ("From", "valid_from"),
    ("Until", "valid_until"),
)
FEE_COLUMNS = ("Date", "Type", "Amount", "Balance", "Status", "Transactions")


def _entries(data: dict[str, Any], where: str) -> list[dict[str, Any]]:
    value: Any = data
    for key in where.split("."):
        value = value[key]
    return value  # type: ignore[no-any-return]


def letter_sections(data: dict[str, Any]) -> list[Section]:
    sections = [
        Section("Your record", ("Field", "Value"), _record_rows(data["record"])),
        Section("Fines and fees", FEE_COLUMNS, _fee_rows(data["fees"])),
    ]
    for title, where, columns in TABLES:
        columns = columns or PROXY_COLUMNS
        names = tuple(name for _, name in columns)
        sections.append(
            Section(title, tuple(h for h, _ in columns), _rows(_entries(data, where), names))
        )
    return sections


def render_pdf(data: dict[str, Any]) -> bytes:
    record = data["record"]
    pdf = FPDF(format="A4")
    pdf.set_title("Personal information")
    pdf.set_creator("Patronage")
    pdf.add_font(FAMILY, fname=str(FONT))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FAMILY, size=16)
    pdf.multi_cell(0, 9, f"Personal information of {record['full_name']}", new_x="LMARGIN")
    pdf.set_font(FAMILY, size=9)
    generated = timezone.localtime(data["generated_at"]).strftime("%Y-%m-%d %H:%M")
    pdf.multi_cell(
        0,
        5,
        f"Everything the library holds about you ({record['primary_id']}), as of {generated}.",
        new_x="LMARGIN",
    )
    heading = FontFace(emphasis=None, fill_color=(230, 230, 230))
    for section in letter_sections(data):
        pdf.ln(4)
        pdf.set_font(FAMILY, size=12)
        pdf.multi_cell(0, 7, section.title, new_x="LMARGIN")
        pdf.set_font(FAMILY, size=8)
        if not section.rows:
            pdf.multi_cell(0, 5, section.empty, new_x="LMARGIN")
            continue
        with pdf.table(headings_style=heading, line_height=4.5) as table:
            table.row(section.columns)
            for row in section.rows:
                table.row(row)
    return bytes(pdf.output())
