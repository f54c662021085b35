"""Read-only lists the forms offer: code-table values for a record type, roles, libraries.

These are configuration reads (no personal data), kept here so views stay thin and so the
same "allowed for this record type" rule (``CodeTableEntry.allows``) is applied everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from patronage.access.models import Role
from patronage.accounts.choices import CodeTable, RecordType
from patronage.accounts.models import CodeTableEntry
from patronage.organization.models import Library

Options = list[tuple[str, str]]


def code_options(table: str, record_type: str = "") -> Options:
    """Enabled values of a code table; limited to those allowed for ``record_type`` if given."""
    entries = CodeTableEntry.objects.filter(table=table, enabled=True)
    return [
        (entry.code, entry.description)
        for entry in entries
        if not record_type or entry.allows(record_type)
    ]


def code_labels(table: str) -> dict[str, str]:
    """Code → description for showing stored codes (disabled values included)."""
    return dict(CodeTableEntry.objects.filter(table=table).values_list("code", "description"))


def code_labels_of(tables: Iterable[str]) -> dict[str, dict[str, str]]:
    """Table → (code → description) for several tables in one query (disabled included)."""
    labels: dict[str, dict[str, str]] = {}
    rows = CodeTableEntry.objects.filter(table__in=list(tables))
    for table, code, description in rows.values_list("table", "code", "description"):
        labels.setdefault(table, {})[code] = description
    return labels


def table_entries(table: str) -> QuerySet[CodeTableEntry]:
    return CodeTableEntry.objects.filter(table=table)


def role_options() -> Options:
    return list(Role.objects.order_by("name").values_list("code", "name"))


def library_options() -> Options:
    return [(str(pk), name) for pk, name in Library.objects.values_list("pk", "name")]


def record_type_options() -> Options:
    return [(str(value), str(label)) for value, label in RecordType.choices]


def group_and_category_options(record_type: str) -> dict[str, Options]:
    return {
        "user_group_options": code_options(CodeTable.USER_GROUP, record_type),
        "job_category_options": code_options(CodeTable.JOB_CATEGORY, record_type),
    }
