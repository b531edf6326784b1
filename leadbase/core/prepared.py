"""`.values()` querysets compiled to SQL once, then run many times with new parameters.

Django compiles a queryset to SQL each time it is evaluated. For a hot read with many columns
and joins that costs several times more than running the query (the API's read of one lead:
about 0.6 ms to compile, 0.1 ms to run on SQLite). A PreparedValues builds its queryset once
per database connection, with stand-in values where the parameters go, remembers the SQL and
where each stand-in landed among the SQL parameters, and then runs that same SQL with the
real values, applying Django's usual converters (dates, JSON, decimals, booleans): rows come
back exactly as `.values()` would give them. The SQL is Django's own, for the database in use.

Only the parameters change between runs, so the queryset must keep the same shape for any
values (no `if value:` branches in the builder; build one PreparedValues per shape).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler


class CannotPrepare(Exception):
    """The builder's queryset does not pass each stand-in exactly once as an SQL parameter."""


@dataclass(frozen=True)
class _Compiled:
    alias: str
    connection: BaseDatabaseWrapper
    sql: str
    params: tuple[Any, ...]
    slots: dict[str, int]  # parameter name -> its index in params
    names: tuple[str, ...]  # the row's keys, in column order
    compiler: SQLCompiler
    converters: dict[int, Any]


class PreparedValues:
    """`build(**stand_ins)` must return a `.values()` queryset of at most one row, e.g.
    `PreparedValues(lambda pk: Thing.objects.filter(pk=pk).values("id", "name")[:1], pk=int)`.
    Each keyword names a parameter and its type (int or str)."""

    def __init__(self, build: Callable[..., QuerySet[Any, dict[str, Any]]], **types: type) -> None:
        self._build = build
        self._stand_ins: dict[str, Any] = {}
        for n, (name, kind) in enumerate(types.items()):
            if kind is int:
                self._stand_ins[name] = -(2**62) - 7919 * (n + 1)
            elif kind is str:
                self._stand_ins[name] = f"\x00prepared:{name}:{n}\x00"
            else:
                raise TypeError(f"parameter {name!r}: only int and str stand-ins are supported")
        self._local = threading.local()  # connections are per thread, and so are the compilers

    def first(self, **values: Any) -> dict[str, Any] | None:
        """The row for these parameter values, or None."""
        compiled = self._compiled()
        if values.keys() != compiled.slots.keys():
            raise TypeError(
                f"expected the parameters {sorted(compiled.slots)}, got {sorted(values)}"
            )
        params = list(compiled.params)  # the values go in as they are: ints and strs only
        for name, value in values.items():
            params[compiled.slots[name]] = value
        with compiled.connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            row = next(compiled.compiler.apply_converters([row], compiled.converters))
        return dict(zip(compiled.names, row, strict=True))

    def _compiled(self) -> _Compiled:
        compiled: _Compiled | None = getattr(self._local, "compiled", None)
        if compiled is None or compiled.connection is not connections[compiled.alias]:
            queryset = self._build(**self._stand_ins)
            compiled = self._local.compiled = self._compile(queryset, connections[queryset.db])
        return compiled

    def _compile(
        self, queryset: QuerySet[Any, dict[str, Any]], connection: BaseDatabaseWrapper
    ) -> _Compiled:
        query = queryset.query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots: dict[str, int] = {}
        for name, stand_in in self._stand_ins.items():
            found = [i for i, param in enumerate(params) if param == stand_in]
            if len(found) != 1:
                raise CannotPrepare(
                    f"parameter {name!r} appears {len(found)} times among the SQL parameters"
                )
            slots[name] = found[0]
        columns = [select[0] for select in compiler.select[: compiler.col_count]]
        return _Compiled(
            alias=queryset.db,
            connection=connection,
            sql=sql,
            params=tuple(params),
            slots=slots,
            names=(*query.extra_select, *query.values_select, *query.annotation_select),
            compiler=compiler,
            converters=compiler.get_converters(columns),
        )
