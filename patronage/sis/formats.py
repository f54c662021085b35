"""Reading SIS files as a stream of records, and writing users in the same formats.

Two formats: Alma's user XML (``<users><user>...</user></users>``, ``rest_users.xsd``) and
CSV with a column mapping. Either may come zipped (every ``.xml``/``.csv`` member is read,
in name order). Reading streams: one ``<user>`` element or one CSV row is in memory at a
time, whatever the size of the file.

A record is a plain dict (it is stored compressed in a chunk, see ``models.ImportChunk``)::

    {"source": "students.xml", "line": 12, "general": {field: raw value, ...},
     "pin": "1234" | None, "identifiers": [{"id_type", "value", "note"}],
     "email": [...], "phone": [...], "address": [...],   # as accounts.actions.add_contact
     "notes": [{"note_type", "text", "user_viewable", "popup"}],
     "statistics": [{"category", "category_type", "note"}],
     "blocks": [{"block_type", "note", "expiry_date"}]}

Values are raw strings; ``sis.sync`` checks them with the same rules as every other way in.
"""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from lxml import etree

from patronage.accounts.external import SIS_OWNED

from .models import FileFormat

Record = dict[str, Any]

SIS_FIELDS = SIS_OWNED
LIST_FIELDS = ("library_notices", "rs_libraries")
ADDRESS_PARTS = (
    "line1",
    "line2",
    "line3",
    "line4",
    "line5",
    "city",
    "state_province",
    "postal_code",
    "country",
    "address_note",
    "start_date",
    "end_date",
)


class FileProblem(Exception):
    """A file that cannot be read as a whole (malformed XML, a missing CSV column...)."""

    def __init__(
        self, source: str, message: str, line: int | None = None, column: int | None = None
    ):
        where = f" (line {line}" + (f", position {column}" if column else "") + ")" if line else ""
        super().__init__(f"{source}{where}: {message}")
        self.source, self.line, self.column = source, line, column


def empty_record(source: str, line: int | None) -> Record:
    return {
        "source": source,
        "line": line,
        "general": {},
        "pin": None,
        "identifiers": [],
        "email": [],
        "phone": [],
        "address": [],
        "notes": [],
        "statistics": [],
        "blocks": [],
    }


# --- opening files ---------------------------------------------------------------------------


def open_members(path: str, suffix: str) -> Iterator[tuple[str, IO[bytes]]]:
    """(name shown in reports, binary stream) for a plain file or each member of a zip."""
    name = Path(path).name
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                m for m in archive.namelist() if m.lower().endswith(suffix) and not m.endswith("/")
            )
            if not members:
                raise FileProblem(name, f"the zip file holds no {suffix} file.")
            for member in members:
                with archive.open(member) as stream:
                    yield f"{name}:{member}", stream
        return
    with open(path, "rb") as stream:
        yield name, stream


def read_records(
    paths: list[str], file_format: str, mapping: Mapping[str, str], delimiter: str = ","
) -> Iterator[Record]:
    """Every record of every file, in order. Raises ``FileProblem`` for a malformed file."""
    suffix = ".xml" if file_format == FileFormat.XML else ".csv"
    for path in paths:
        if not Path(path).is_file():
            raise FileProblem(Path(path).name, "no such file.")
        for source, stream in open_members(path, suffix):
            if file_format == FileFormat.XML:
                yield from read_xml(stream, source)
            else:
                yield from read_csv(stream, source, mapping, delimiter)


# --- Alma user XML ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _local(tag: Any) -> str:
    """A tag without its namespace (``{ns}user`` → ``user``); a file has few distinct tags."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _children(element: Any) -> dict[str, Any]:
    return {_local(child.tag): child for child in element}


def _part(parts: dict[str, Any], name: str) -> str:
    return _text(parts[name]) if name in parts else ""


def _codes(element: Any, item: str) -> list[str]:
    """``<rs_libraries><rs_library><code>X</code></rs_library>`` and the like."""
    codes = []
    for child in element:
        if _local(child.tag) != item:
            continue
        parts = _children(child)
        if item == "library_notice" and _part(parts, "value").lower() not in ("true", "1", ""):
            continue
        code = parts.get("code")
        codes.append(_text(code) if code is not None else _text(child))
    return codes


def _types(element: Any, container: str) -> list[str]:
    found = next((c for c in element if _local(c.tag) == container), None)
    return [_text(c) for c in found] if found is not None else []


def _flag(element: Any, name: str) -> bool:
    return (element.get(name) or "").strip().lower() in ("true", "1")


def user_from_xml(user: Any, source: str) -> Record:
    record = empty_record(source, user.sourceline)
    general = record["general"]
    for child in user:
        name = _local(child.tag)
        if name in LIST_FIELDS:
            general[name] = _codes(child, name[:-1] if name == "library_notices" else "rs_library")
        elif name in SIS_FIELDS:
            general[name] = _text(child)
        elif name == "pin_number":
            record["pin"] = _text(child) or None
        elif name == "contact_info":
            _contact_info(child, record)
        elif name == "user_identifiers":
            for entry in child:
                parts = _children(entry)
                record["identifiers"].append(
                    {k: _part(parts, k) for k in ("id_type", "value", "note")}
                )
        elif name == "user_notes":
            for entry in child:
                parts = _children(entry)
                record["notes"].append(
                    {
                        "note_type": _part(parts, "note_type"),
                        "text": _part(parts, "note_text"),
                        "user_viewable": _part(parts, "user_viewable").lower() == "true",
                        "popup": _part(parts, "popup_note").lower() == "true",
                    }
                )
        elif name == "user_statistics":
            for entry in child:
                parts = _children(entry)
                record["statistics"].append(
                    {
                        "category": _part(parts, "statistic_category"),
                        "category_type": _part(parts, "category_type"),
                        "note": _part(parts, "statistic_note"),
                    }
                )
        elif name == "user_blocks":
            for entry in child:
                parts = _children(entry)
                record["blocks"].append(
                    {
                        "block_type": _part(parts, "block_type"),
                        "note": _part(parts, "block_note"),
                        "expiry_date": _part(parts, "expiry_date"),
                    }
                )
    return record


def _contact_info(element: Any, record: Record) -> None:
    for group in element:
        kind = _local(group.tag)
        for entry in group:
            parts = _children(entry)
            data: dict[str, Any] = {"preferred": _flag(entry, "preferred")}
            if kind == "addresses":
                for part in ADDRESS_PARTS:
                    if part in parts:
                        data[part] = _text(parts[part])
                data["types"] = _types(entry, "address_types")
                record["address"].append(data)
            elif kind == "emails":
                data["address"] = _part(parts, "email_address")
                if "description" in parts:
                    data["description"] = _text(parts["description"])
                data["types"] = _types(entry, "email_types")
                record["email"].append(data)
            elif kind == "phones":
                data["number"] = _part(parts, "phone_number")
                data["preferred_sms"] = _flag(entry, "preferred_sms")
                data["types"] = _types(entry, "phone_types")
                record["phone"].append(data)


def read_xml(stream: IO[bytes], source: str) -> Iterator[Record]:
    """Stream ``<user>`` elements; each is dropped from the tree once read (flat memory)."""
    events = etree.iterparse(
        stream,
        events=("end",),
        tag="{*}user",
        resolve_entities=False,
        no_network=True,
        huge_tree=True,
    )
    try:
        for _event, user in events:
            yield user_from_xml(user, source)
            user.clear(keep_tail=False)
            parent = user.getparent()
            while user.getprevious() is not None and parent is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise FileProblem(source, f"not well-formed XML: {exc.msg}", line, column) from exc


# --- CSV with a column mapping -------------------------------------------------------------------

CONTACT_KINDS = ("email", "phone", "address")
MAPPABLE_GENERAL = (*SIS_FIELDS, "pin_number")


def _valid_target(target: str) -> bool:
    kind, _, rest = target.partition(":")
    if kind == "address":
        return rest.count(":") == 1 and rest.split(":")[1] in ADDRESS_PARTS
    if kind in ("identifier", "email", "phone", "statistic", "note"):
        return bool(rest)
    return target in MAPPABLE_GENERAL


def check_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """Errors per column of a CSV mapping (empty when it is usable).

    Targets: a General field (``first_name``...; ``library_notices`` and ``rs_libraries`` hold
    codes separated by ``;``), ``pin_number``, ``identifier:TYPE``, ``email:TYPE``,
    ``phone:TYPE``, ``address:TYPE:PART`` (PART: line1..line5, city, state_province,
    postal_code, country), ``statistic:CATEGORY_TYPE`` (the cell is the category) and
    ``note:NOTE_TYPE``.
    """
    errors: dict[str, str] = {}
    if not isinstance(mapping, Mapping) or not mapping:
        return {"csv_mapping": "Map at least the primary ID, first name and last name columns."}
    targets = set()
    for column, target in mapping.items():
        target = str(target).strip()
        if not _valid_target(target):
            errors[str(column)] = f"'{target}' is not a target a column can be mapped to."
            continue
        if target in targets:
            errors[str(column)] = f"Two columns are mapped to '{target}'."
        targets.add(target)
    for needed in ("primary_id", "first_name", "last_name"):
        if needed not in targets:
            errors.setdefault("csv_mapping", f"No column is mapped to '{needed}'.")
    return errors


def read_csv(
    stream: IO[bytes], source: str, mapping: Mapping[str, str], delimiter: str
) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        heading = next(reader)
    except StopIteration:
        raise FileProblem(source, "the file is empty (no heading row).") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileProblem(source, f"unreadable heading: {exc}", 1) from exc
    positions = {name.strip(): i for i, name in enumerate(heading)}
    if missing := [column for column in mapping if column not in positions]:
        raise FileProblem(
            source, f"the mapped column(s) {', '.join(missing)} are not in the heading.", 1
        )
    columns = [(positions[column], str(target).strip()) for column, target in mapping.items()]
    width = len(heading)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise FileProblem(source, f"unreadable row: {exc}", reader.line_num + 1) from exc
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        record = empty_record(source, line)
        if len(row) != width:
            record["error"] = f"the row has {len(row)} cells, the heading {width}."
            yield record
            continue
        _apply_row(record, row, columns)
        yield record


def _apply_row(record: Record, row: list[str], columns: list[tuple[int, str]]) -> None:
    addresses: dict[str, dict[str, Any]] = {}
    for position, target in columns:
        value = row[position].strip()
        if not value:
            continue
        kind, _, rest = target.partition(":")
        if target == "pin_number":
            record["pin"] = value
        elif target in LIST_FIELDS:
            record["general"][target] = [v.strip() for v in value.split(";") if v.strip()]
        elif target in SIS_FIELDS:
            record["general"][target] = value
        elif kind == "identifier":
            record["identifiers"].append({"id_type": rest, "value": value, "note": ""})
        elif kind == "email":
            record["email"].append({"address": value, "types": [rest]})
        elif kind == "phone":
            record["phone"].append({"number": value, "types": [rest]})
        elif kind == "address":
            address_type, part = rest.split(":")
            addresses.setdefault(address_type, {"types": [address_type]})[part] = value
        elif kind == "statistic":
            record["statistics"].append({"category": value, "category_type": rest, "note": ""})
        elif kind == "note":
            record["notes"].append(
                {"note_type": rest, "text": value, "user_viewable": False, "popup": False}
            )
    record["address"].extend(addresses.values())
