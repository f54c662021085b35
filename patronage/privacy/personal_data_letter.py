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
        return value["description"] or value["code"]
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
                    + (f" ({_text(t['method'])})" if t["method"]["code"] else "")
                    for t in fee["transactions"]
                ),
            )
        )
    return rows


def letter_sections(data: dict[str, Any]) -> list[Section]:
    contact = data["contact"]
    return [
        Section("Your record", ("Field", "Value"), _record_rows(data["record"])),
        Section(
            "Identifiers",
            ("Type", "Value", "Note"),
            _rows(data["identifiers"], ("type", "value", "note")),
        ),
        Section(
            "Addresses",
            ("Address", "Types", "Preferred"),
            _rows(contact["addresses"], ("text", "types", "preferred")),
        ),
        Section(
            "E-mail addresses",
            ("Address", "Types", "Preferred"),
            _rows(contact["emails"], ("address", "types", "preferred")),
        ),
        Section(
            "Phone numbers",
            ("Number", "Types", "Preferred"),
            _rows(contact["phones"], ("number", "types", "preferred")),
        ),
        Section(
            "Notes",
            ("Date", "Type", "Note", "Library"),
            _rows(data["notes"], ("created_at", "type", "text", "library")),
        ),
        Section(
            "Statistics",
            ("Category", "Type", "Note"),
            _rows(data["statistics"], ("category", "category_type", "note")),
        ),
        Section(
            "Blocks",
            ("Since", "Type", "Status", "Note", "Until"),
            _rows(data["blocks"], ("created_at", "type", "status", "note", "expiry_date")),
        ),
        Section(
            "Fines and fees",
            ("Date", "Type", "Amount", "Balance", "Status", "Transactions"),
            _fee_rows(data["fees"]),
        ),
        Section(
            "Loans and loan history",
            ("Loaned", "Title", "Barcode", "Library", "Due", "Returned"),
            _rows(
                data["loans"], ("loaned_at", "title", "barcode", "library", "due_at", "returned_at")
            ),
        ),
        Section(
            "You may borrow for",
            ("Primary ID", "Name", "Kind", "From", "Until"),
            _rows(data["proxy_for"], ("primary_id", "name", "kind", "valid_from", "valid_until")),
        ),
        Section(
            "May borrow for you",
            ("Primary ID", "Name", "Kind", "From", "Until"),
            _rows(data["proxies"], ("primary_id", "name", "kind", "valid_from", "valid_until")),
        ),
        Section(
            "Roles",
            ("Role", "Scope", "Until"),
            _rows(data["roles"], ("name", "scope", "valid_until")),
        ),
        Section(
            "Attachments",
            ("Date", "Name", "Note"),
            _rows(data["attachments"], ("created_at", "name", "note")),
        ),
        Section(
            "Who looked at your record",
            ("When", "Who", "What", "Channel", "Reason"),
            _rows(data["access_log"], ("occurred_at", "by", "what", "channel", "reason")),
        ),
    ]


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
