"""Querysets compiled to SQL once, then run many times with new values.

Django compiles a queryset to SQL on every evaluation. For the user record's 41 columns that
costs about a millisecond, ten times the indexed lookup itself on SQLite and several times it
on PostgreSQL (bench/lookup.py). The exact lookups staff and SIP2/API clients make all day
(primary ID, barcode, email) and the entries of one user's record (the Alma API's user
object, bench/api.py) have a fixed shape, so they are compiled once per database connection
and then run straight through the cursor, and their rows are turned into model instances
with the same converters and ``Model.from_db`` as Django's own iterator.

``PreparedQuery`` takes plain model querysets (no ``select_related``, annotations or
``values()``); ``PreparedRows`` takes ``values_list()`` querysets and returns their tuples.
Anything else raises at compile time, not silently.

``fetch_together`` runs several of them at once: on PostgreSQL as one statement, each query's
rows coming back as one JSON array (a statement costs the server and the driver about as
much as a small query's work, and a user record is ten small queries); elsewhere one by one.

On PostgreSQL the statements are also prepared on the server once per connection, so they
are planned once too (``_cursor``): the plan of a user record's statement cost more than
running it (bench/api.py, docs/almaws.md).
"""

from __future__ import annotations

import datetime
import itertools
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler
from django.utils.dateparse import parse_date, parse_datetime

M = TypeVar("M", bound=models.Model)
# Placeholder values no real parameter takes, distinct for every placeholder: texts with NUL
# characters, negative numbers no row id takes, instants in 1901.
_SERIAL = itertools.count(1)
_EPOCH = datetime.datetime(1901, 2, 3, tzinfo=datetime.UTC)


def _placeholder(kind: type) -> Any:
    serial = next(_SERIAL)
    if kind is str:
        return f"\x00prepared-{serial}\x00"
    if kind is int:
        return -(2**31) + serial
    if kind is datetime.datetime:
        return _EPOCH + datetime.timedelta(microseconds=serial)
    raise TypeError(f"no placeholder for {kind.__name__} values")


def _as_param(kind: type, value: Any, connection: BaseDatabaseWrapper) -> Any:
    """A value as it reaches the SQL's parameters (instants as the backend stores them)."""
    if kind is datetime.datetime:
        return connection.ops.adapt_datetimefield_value(value)
    return value


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, ...], ...]  # where each placeholder's value goes in ``params``
    compiler: SQLCompiler
    converters: dict[int, Any]
    init_list: tuple[str, ...]
    names: tuple[str, ...]  # the output columns' names (keys of a row as JSON)
    decoders: tuple[Callable[[Any], Any], ...] | None  # a JSON value to the column's value


def _cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor for these queries. On PostgreSQL, one that has the server prepare each of
    them once per connection (with psycopg's server-side binding), so the server plans them
    once as well: planning a user record's statement cost more than running it."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    driver = connection.connection
    if driver.prepare_threshold is None:
        # Django turns psycopg's prepared statements off unless told; switched on here only
        # for the statements asked for explicitly (this cursor's), never automatically.
        driver.prepare_threshold = _NEVER_AUTOMATICALLY
    raw = _preparing_cursor_class()(driver)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def _preparing_cursor_class() -> type:
    global _PREPARING_CURSOR
    if _PREPARING_CURSOR is None:
        from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
            ServerBindingCursor,
        )

        class PreparingCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
            def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
                return super().execute(query, params, prepare=True)

        _PREPARING_CURSOR = PreparingCursor
    return _PREPARING_CURSOR


_PREPARING_CURSOR: type | None = None
_NEVER_AUTOMATICALLY = 2**31


def _same(value: Any) -> Any:
    return value


def _parsed(parse: Callable[[str], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else parse(value)


# How a column's value looks in PostgreSQL's JSON, back to what the driver would have given.
_JSON_DECODERS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(
        (
            "CharField",
            "TextField",
            "EmailField",
            "URLField",
            "SlugField",
            "AutoField",
            "BigAutoField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "BooleanField",
            "ForeignKey",
            "OneToOneField",
            "JSONField",
        ),
        _same,
    ),
    "DateField": _parsed(parse_date),
    "DateTimeField": _parsed(parse_datetime),
}


def _decoders(select: list[Any]) -> tuple[Callable[[Any], Any], ...] | None:
    """None when a column's type has no exact JSON form here (decimals would become floats):
    such a query is not run together with others."""
    decoders = []
    for column, _, _ in select:
        kind = column.output_field.get_internal_type()
        if kind not in _JSON_DECODERS:
            return None
        decoders.append(_JSON_DECODERS[kind])
    return tuple(decoders)


class _Prepared:
    """``build(*placeholders)`` is compiled once per connection; ``_rows(*values)`` runs it.

    ``kinds``: the type of each placeholder's values (``str``, ``int`` for ids, or
    ``datetime.datetime`` for instants). Each placeholder must reach the SQL unchanged: use it
    in exact-match or comparison filters (``key=value``, ``user_id=value``,
    ``valid_until__gt=now``), not in lookups that transform it (``iexact``, ``startswith``).
    Compilation checks this. A text placeholder must reach the SQL exactly once.
    """

    def __init__(self, build: Callable[..., models.QuerySet[Any]], kinds: int | tuple[type, ...]):
        self.build = build
        self.kinds = (str,) * kinds if isinstance(kinds, int) else kinds
        self.placeholders = tuple(_placeholder(kind) for kind in self.kinds)
        self._compiled: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def _compiled_for(self, connection: BaseDatabaseWrapper) -> _Compiled:
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(connection)
        return compiled

    def _params(
        self, compiled: _Compiled, values: tuple[Any, ...], connection: BaseDatabaseWrapper
    ) -> list[Any]:
        params = list(compiled.params)
        for kind, slots, value in zip(self.kinds, compiled.slots, values, strict=True):
            param = _as_param(kind, value, connection)
            for slot in slots:
                params[slot] = param
        return params

    def _rows(self, values: tuple[Any, ...], using: str) -> tuple[_Compiled, list[Any]]:
        connection = connections[using]
        compiled = self._compiled_for(connection)
        with _cursor(connection) as cursor:
            cursor.execute(compiled.sql, self._params(compiled, values, connection))
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return compiled, rows

    def _from_json(self, compiled: _Compiled, objects: list[dict[str, Any]], using: str) -> Any:
        assert compiled.decoders is not None
        rows = [
            [
                decode(row[name])
                for decode, name in zip(compiled.decoders, compiled.names, strict=True)
            ]
            for row in objects
        ]
        return self._results(compiled, rows, using)

    def _results(self, compiled: _Compiled, rows: list[Any], using: str) -> Any:
        raise NotImplementedError

    def fetch(self, *values: Any, using: str = "default") -> Any:
        compiled, rows = self._rows(values, using)
        return self._results(compiled, rows, using)

    def _check(self, queryset: models.QuerySet[Any], compiler: SQLCompiler) -> None:
        """Refuse querysets this class does not run as Django would."""

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        queryset = self.build(*self.placeholders)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots: list[tuple[int, ...]] = []
        for kind, placeholder in zip(self.kinds, self.placeholders, strict=True):
            expected = _as_param(kind, placeholder, connection)
            found = tuple(n for n, param in enumerate(params) if param == expected)
            if not found or (kind is str and len(found) != 1):
                raise TypeError(f"a placeholder reached the SQL {len(found)} times")
            slots.append(found)
        taken = {n for found in slots for n in found}
        others = [param for n, param in enumerate(params) if n not in taken]
        if any(isinstance(param, str) and "\x00prepared-" in param for param in others):
            raise TypeError("a placeholder reached the SQL transformed")
        self._check(queryset, compiler)
        select = compiler.select
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            compiler=compiler,
            converters=compiler.get_converters([column for column, _, _ in select]),
            # Model instances are built from these columns (values_list rows need none).
            init_list=tuple(column.target.attname for column, _, _ in select)
            if compiler.klass_info
            else (),
            names=tuple(alias or column.target.column for column, _, alias in select),
            decoders=_decoders(select),
        )


class PreparedQuery(_Prepared, Generic[M]):
    """A plain model queryset, compiled once per connection; ``fetch`` returns instances."""

    def __init__(
        self,
        model: type[M],
        build: Callable[..., models.QuerySet[M]],
        kinds: int | tuple[type, ...],
    ):
        super().__init__(build, kinds)
        self.model = model

    def fetch(self, *values: Any, using: str = "default") -> list[M]:
        return super().fetch(*values, using=using)  # type: ignore[no-any-return]

    def _results(self, compiled: _Compiled, rows: list[Any], using: str) -> list[M]:
        return [self.model.from_db(using, compiled.init_list, row) for row in rows]

    def _check(self, queryset: models.QuerySet[Any], compiler: SQLCompiler) -> None:
        query = queryset.query
        if queryset.model is not self.model or query.select_related or query.annotations:
            raise TypeError("PreparedQuery takes plain querysets of its model only")
        klass_info = compiler.klass_info or {}
        fields = klass_info.get("select_fields", [])
        if klass_info.get("related_klass_infos") or len(fields) != len(compiler.select):
            raise TypeError("PreparedQuery takes plain querysets of its model only")


class PreparedRows(_Prepared):
    """A ``values_list()`` queryset (columns of the model and of models it joins), compiled
    once per connection; ``fetch`` returns its tuples, converted as Django converts them."""

    def fetch(self, *values: Any, using: str = "default") -> list[tuple[Any, ...]]:
        return super().fetch(*values, using=using)  # type: ignore[no-any-return]

    def _results(self, compiled: _Compiled, rows: list[Any], using: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in rows]

    def _check(self, queryset: models.QuerySet[Any], compiler: SQLCompiler) -> None:
        query = queryset.query
        if not query.values_select or query.annotations or query.extra:
            raise TypeError("PreparedRows takes values_list() querysets of plain columns only")
        if len(compiler.select) != len(query.values_select):
            raise TypeError("PreparedRows takes values_list() querysets of plain columns only")


def fetch_together(
    calls: list[tuple[_Prepared, tuple[Any, ...]]], using: str = "default"
) -> list[list[Any]]:
    """The results of several prepared queries (each with its values), in their order.

    On PostgreSQL in one statement: ``SELECT (SELECT json_agg(q) FROM (<query>) q), ...``,
    each query's rows in its own order (an aggregate over a sorted subquery takes the rows as
    sorted) and decoded column by column as the driver would have given them. Queries with a
    column that has no exact JSON form, and other databases, run one by one.
    """
    connection = connections[using]
    compiled = [prepared._compiled_for(connection) for prepared, _ in calls]
    if connection.vendor != "postgresql" or any(c.decoders is None for c in compiled):
        return [prepared.fetch(*values, using=using) for prepared, values in calls]
    parts: list[str] = []
    params: list[Any] = []
    for (prepared, values), one in zip(calls, compiled, strict=True):
        # Django's own compiled SQL; every value goes in as a parameter.
        parts.append(f"(SELECT json_agg(q) FROM ({one.sql}) q)")  # noqa: S608
        params.extend(prepared._params(one, values, connection))
    with _cursor(connection) as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        arrays = cursor.fetchone()
    return [
        prepared._from_json(one, array or [], using)
        for (prepared, _), one, array in zip(calls, compiled, arrays, strict=True)
    ]
