"""Set-based writes for jobs that write hundreds of thousands of rows (SIS imports, their
audit batches, bulk updates).

Django's ``bulk_create`` prepares every value through the field machinery; on PostgreSQL
Django's client-side binding then quotes every parameter of a multi-row INSERT in Python,
and on SQLite it sends batches of a few dozen rows (it assumes the old 999-parameter limit).
For an import that writes fifteen rows per user that costs several times the database's own
work. Here the values are given as the database stores them (dict per row, keyed by column
``attname``) and only JSON (and, on SQLite, date and time) values are adapted:

* PostgreSQL: ``COPY … FROM STDIN`` (new primary keys, when asked for, are drawn from the
  table's sequence beforehand, in one query);
* SQLite (and rows that may clash with a unique constraint, and a single row): multi-row
  INSERTs as long as the parameter limit allows.

``update_rows`` is the matching bulk UPDATE. For tables without ``save()`` logic only: no
signals, no ``auto_now`` (give those values).

On PostgreSQL the statements that carry thousands of values (INSERT … ON CONFLICT, bulk
UPDATE, and ``field__any_of=values``, an ``__in`` lookup) send them as one array parameter
per column (``unnest``, ``= ANY``): with one placeholder per value, psycopg's client-side
binding spends longer splitting the statement than the server spends running it.
"""

from __future__ import annotations

import datetime
import functools
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models.lookups import In

Adapter = Callable[[Any], Any]


class AnyOf(In):
    """``field__any_of=values``: ``__in`` with the values as one array (PostgreSQL). On a
    foreign key, the values are the related rows' keys."""

    lookup_name = "any_of"

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)  # a subquery: IN (SELECT …)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        if not values:
            raise EmptyResultSet
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


# Related fields keep lookups of their own, apart from other fields'.
models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)


def _max_params() -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) - 1
    return 65535


def _json(value: Any) -> Any:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_datetime(value: Any) -> Any:
    """What Django's SQLite backend stores for an aware datetime: naive, in the connection's
    time zone, ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (``adapt_datetimefield_value``)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return str(value.astimezone(connection.timezone).replace(tzinfo=None))
    return None if value is None else str(value)


def _adapter(field: models.Field[Any, Any]) -> Adapter | None:
    """How a value reaches the database driver; None when it goes as it is."""
    if isinstance(field, models.JSONField) and field.encoder is None:
        return _json
    if isinstance(field, models.JSONField):
        return functools.partial(_prepared, field)
    if connection.vendor == "postgresql":
        return None  # psycopg sends dates, times, numbers and text as they are
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else str(value)  # ISO, as Django stores it
    return None


def _prepared(field: models.Field[Any, Any], value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


def _default(field: models.Field[Any, Any]) -> Any:
    """The value of a column a row leaves out (a callable default is called per row)."""
    if field.has_default():
        return field.default
    return None if field.null else ""


_MISSING = object()


def _values(
    rows: Iterable[Mapping[str, Any]], fields: Sequence[models.Field[Any, Any]]
) -> Iterable[list[Any]]:
    defaults = [_default(f) for f in fields]
    # Columns whose default is made per row (``dict``, ``list``, ``timezone.now``) and
    # columns whose values need adapting: few, so handled after one pass over the row.
    made = [(i, d) for i, d in enumerate(defaults) if callable(d)]
    adapted = [(i, a) for i, f in enumerate(fields) if (a := _adapter(f)) is not None]
    columns = [
        (f.attname, _MISSING if callable(d) else d) for f, d in zip(fields, defaults, strict=True)
    ]
    for row in rows:
        get = row.get
        values = [get(name, default) for name, default in columns]
        for i, make in made:
            if values[i] is _MISSING:
                values[i] = make()
        for i, adapt in adapted:
            values[i] = adapt(values[i])
        yield values


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning_ids: bool = False,
    ignore_conflicts: bool = False,
) -> list[int]:
    """Insert ``rows``; with ``returning_ids``, the new primary keys in the rows' order.
    ``ignore_conflicts`` skips rows that clash with a unique constraint (the keys returned
    are then those of the rows inserted)."""
    if not rows:
        return []
    pk = model._meta.pk
    assert pk is not None
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    # COPY costs a round trip more than an INSERT: worth it from two rows on (a read
    # event of the access log is one row, on every page view).
    if connection.vendor == "postgresql" and not ignore_conflicts and len(rows) > 1:
        return _copy_rows(model, rows, fields, returning_ids)
    quote = connection.ops.quote_name
    # Table and column names come from the model, never from input; values are parameters.
    head = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
    )
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    tail += f" RETURNING {quote(pk.column)}" if returning_ids else ""
    if connection.vendor == "postgresql" and len(rows) > 1:
        source, params = _unnest(fields, _values(rows, fields))
        with connection.cursor() as cursor:
            cursor.execute(f"{head}SELECT * FROM {source}{tail}", params)  # noqa: S608
            return [row[0] for row in cursor.fetchall()] if returning_ids else []
    head += "VALUES "
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(2000, _max_params() // len(fields)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            params = [value for values in _values(batch, fields) for value in values]
            cursor.execute(head + ", ".join([one] * len(batch)) + tail, params)
            if returning_ids:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _unnest(
    fields: Sequence[models.Field[Any, Any]], rows: Iterable[list[Any]]
) -> tuple[str, list[list[Any]]]:
    """PostgreSQL: ``unnest(%s::type[], …)``, the rows as one typed array per column."""
    columns: list[list[Any]] = [[] for _ in fields]
    for values in rows:
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    return f"unnest({arrays})", columns


def _copy_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    fields: list[models.Field[Any, Any]],
    returning_ids: bool,
) -> list[int]:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning_ids:
            # COPY returns nothing: take the keys from the table's sequence first, so that
            # callers get them in the rows' order.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            fields = [pk, *fields]
            rows = [{pk.attname: id_, **row} for id_, row in zip(ids, rows, strict=True)]
        names = ", ".join(quote(f.column) for f in fields)
        # COPY goes through psycopg's own cursor: its errors are turned into Django's (a
        # unique clash is an IntegrityError to callers, as from any other statement).
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
        ):
            for values in _values(rows, fields):
                copy.write_row(values)
    return ids


def update_rows(
    model: type[models.Model], updates: Sequence[tuple[int, Mapping[str, Any]]]
) -> None:
    """Apply ``(primary key, {column attname: value})`` pairs: one statement per set of
    columns (PostgreSQL: ``UPDATE … FROM unnest(…)``; SQLite: one prepared UPDATE run for
    every row)."""
    groups: dict[tuple[str, ...], list[tuple[int, Mapping[str, Any]]]] = {}
    for pk, values in updates:
        groups.setdefault(tuple(sorted(values)), []).append((pk, values))
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk_column = quote(meta.pk.column)  # type: ignore[union-attr]
    with connection.cursor() as cursor:
        for names, group in groups.items():
            fields: list[models.Field[Any, Any]] = [
                meta.get_field(name)  # type: ignore[misc]
                for name in names
            ]
            columns = [quote(f.column) for f in fields]
            pairs = [
                [pk, *values]
                for (pk, _), values in zip(
                    group, _values((v for _, v in group), fields), strict=True
                )
            ]
            if connection.vendor != "postgresql":
                sets = ", ".join(f"{c} = %s" for c in columns)
                cursor.executemany(
                    f"UPDATE {table} SET {sets} WHERE {pk_column} = %s",  # noqa: S608
                    [[*values, pk] for pk, *values in pairs],
                )
                continue
            pk_field: models.Field[Any, Any] = meta.pk  # type: ignore[assignment]
            source, params = _unnest([pk_field, *fields], pairs)
            sets = ", ".join(f"{column} = v.c{i}" for i, column in enumerate(columns))
            aliases = ", ".join(f"c{i}" for i in range(len(fields)))
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM {source} AS v(id, {aliases}) "  # noqa: S608
                f"WHERE {table}.{pk_column} = v.id",
                params,
            )
