"""Querysets compiled to SQL once, then run many times with new values.

Django compiles a queryset to SQL on every evaluation. For the user record's 41 columns that
costs about a millisecond, ten times the indexed lookup itself on SQLite and several times it
on PostgreSQL (bench/lookup.py). The exact lookups staff and SIP2/API clients make all day
(primary ID, barcode, email) have a fixed shape, so they are compiled once per database
connection and then run straight through the cursor, and their rows are turned into model
instances with the same converters and ``Model.from_db`` as Django's own iterator.

Only plain model querysets are supported (no ``select_related``, annotations or
``values()``); anything else raises at compile time, not silently.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[int, ...]  # where each placeholder value goes in ``params``
    compiler: SQLCompiler
    converters: dict[int, Any]
    init_list: tuple[str, ...]


class PreparedQuery(Generic[M]):
    """``build(*placeholders)`` is compiled once per connection; ``fetch(*values)`` runs it.

    Each placeholder must reach the SQL as exactly one parameter, unchanged: use it in
    exact-match filters (``key=value``), not in lookups that transform it (``iexact``,
    ``startswith``). Compilation checks this.
    """

    def __init__(self, model: type[M], build: Callable[..., models.QuerySet[M]], arity: int):
        self.model = model
        self.build = build
        self.placeholders = tuple(f"\x00prepared-{id(self)}-{n}\x00" for n in range(arity))
        self._compiled: weakref.WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def fetch(self, *values: Any, using: str = "default") -> list[M]:
        connection = connections[using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(connection)
        params = list(compiled.params)
        for slot, value in zip(compiled.slots, values, strict=True):
            params[slot] = value
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return [self.model.from_db(using, compiled.init_list, row) for row in rows]

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        queryset = self.build(*self.placeholders)
        query = queryset.query
        if queryset.model is not self.model or query.select_related or query.annotations:
            raise TypeError("PreparedQuery takes plain querysets of its model only")
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = []
        for placeholder in self.placeholders:
            found = [n for n, param in enumerate(params) if param == placeholder]
            if len(found) != 1:
                raise TypeError(f"a placeholder reached the SQL {len(found)} times, not once")
            slots.append(found[0])
        others = [param for n, param in enumerate(params) if n not in slots]
        if any(isinstance(param, str) and "\x00prepared-" in param for param in others):
            raise TypeError("a placeholder reached the SQL transformed")
        select = compiler.select
        klass_info = compiler.klass_info or {}
        fields = klass_info.get("select_fields", [])
        if klass_info.get("related_klass_infos") or len(fields) != len(select):
            raise TypeError("PreparedQuery takes plain querysets of its model only")
        converters = compiler.get_converters([column for column, _, _ in select])
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            compiler=compiler,
            converters=converters,
            init_list=tuple(column.target.attname for column, _, _ in select),
        )
