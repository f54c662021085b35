"""Multi-row INSERTs for jobs that write hundreds of thousands of rows (SIS imports, their
audit batches).

Django's ``bulk_create`` prepares every value through the field machinery and, on SQLite,
sends batches of a few dozen rows (it assumes the old 999-parameter limit); for an import
that writes fifteen rows per user that costs several times the database's own work. Here the
values are given as the database stores them (dict per row, keyed by column ``attname``),
only JSON, date and time values are adapted, and each statement carries as many rows as the
database's parameter limit allows. For tables without ``save()`` logic only: no signals, no
``auto_now`` (give those values).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection, models

_ADAPTED = (models.JSONField, models.DateField, models.DateTimeField)


def _max_params() -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) - 1
    return 65535


def _column(field: models.Field[Any, Any]) -> tuple[str, Any, Callable[[Any], Any] | None]:
    """(attname, default or a callable making one, value adapter or None)."""
    if field.has_default():
        default: Any = field.default
    elif field.null:
        default = None
    else:
        default = ""
    adapt = (
        (lambda value, f=field: f.get_db_prep_save(value, connection))
        if isinstance(field, _ADAPTED)
        else None
    )
    return field.attname, default, adapt


def insert_rows(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, returning_ids: bool = False
) -> list[int]:
    """Insert ``rows``; with ``returning_ids``, the new primary keys in the rows' order."""
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = [_column(f) for f in fields]
    quote = connection.ops.quote_name
    # Table and column names come from the model, never from input; values are parameters.
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {quote(model._meta.pk.column)}" if returning_ids else ""  # type: ignore[union-attr]
    per_statement = max(1, min(2000, _max_params() // len(fields)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            params: list[Any] = []
            for row in batch:
                for name, default, adapt in columns:
                    value = (
                        row[name] if name in row else (default() if callable(default) else default)
                    )
                    params.append(adapt(value) if adapt is not None else value)
            cursor.execute(head + ", ".join([one] * len(batch)) + tail, params)
            if returning_ids:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids
