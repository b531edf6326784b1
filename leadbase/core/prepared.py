"""`.values()` querysets compiled to SQL once, then run many times with new parameters.

Django compiles a queryset to SQL each time it is evaluated. For a hot read with many columns
and joins that costs several times more than running the query (the API's read of one lead:
about 0.6 ms to compile, 0.1 ms to run on SQLite). A PreparedValues builds its queryset once
per database connection, with stand-in values where the parameters go, remembers the SQL and
where each stand-in landed among the SQL parameters, and then runs that same SQL with the
real values, applying Django's usual converters (dates, JSON, decimals, booleans): rows come
back exactly as `.values()` would give them. The SQL is Django's own, for the database in use.

Running it skips Django's cursor wrappers too (about 50 us a query, as much as SQLite takes to
run it): the SQL goes straight to the driver, already in its parameter style, after the same
connection checks Django makes (health check, thread, broken transaction) and with database
errors translated as usual. On PostgreSQL it runs as a server-side prepared statement, so the
server parses and plans it once per connection (planning the read of one lead costs the
server more than running it). When queries are being logged or wrapped (DEBUG, the test
utilities that count queries, `connection.execute_wrapper`), it goes through Django's cursor
so that they see it.

Only the parameters change between runs, so the queryset must keep the same shape for any
values (no `if value:` branches in the builder; build one PreparedValues per shape), and on
PostgreSQL its SQL must be one that server-side parameters can type (any filter on a column
is).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
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
    # (DB-API connection, params) -> the first row; None: through Django's cursor
    fetch: Callable[[Any, list[Any]], Sequence[Any] | None] | None


class PreparedValues:
    """`build(**stand_ins)` must return a `.values()` queryset (of at most one row for
    `first`, of any number for `all`), e.g.
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
        connection = compiled.connection
        if compiled.fetch is None or connection.queries_logged or connection.execute_wrappers:
            with connection.cursor() as cursor:  # seen by query logging and wrappers
                cursor.execute(compiled.sql, params)
                row = cursor.fetchone()
        else:  # what connection.cursor() and cursor.execute() check, then the driver
            connection.close_if_health_check_failed()
            connection.ensure_connection()
            connection.validate_thread_sharing()
            connection.validate_no_broken_transaction()
            with connection.wrap_database_errors:
                row = compiled.fetch(connection.connection, params)
        if row is None:
            return None
        if compiled.converters:
            row = next(compiled.compiler.apply_converters([row], compiled.converters))
        return dict(zip(compiled.names, row, strict=True))

    def all(self, **values: Any) -> list[dict[str, Any]]:
        """Every row for these parameter values (a builder without a [:1] slice), through
        Django's cursor: the compiling is saved, not the cursor's own small cost."""
        compiled = self._compiled()
        if values.keys() != compiled.slots.keys():
            raise TypeError(
                f"expected the parameters {sorted(compiled.slots)}, got {sorted(values)}"
            )
        params = list(compiled.params)
        for name, value in values.items():
            params[compiled.slots[name]] = value
        with compiled.connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: list[Any] = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return [dict(zip(compiled.names, row, strict=True)) for row in rows]

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
            fetch=_fetcher(connection, sql),
        )


def _fetcher(
    connection: BaseDatabaseWrapper, sql: str
) -> Callable[[Any, list[Any]], Sequence[Any] | None] | None:
    """A function running `sql` (Django's, with %s placeholders) on the driver's connection
    and returning its first row, raw (before Django's converters)."""
    if connection.vendor == "sqlite":
        # what Django's SQLiteCursorWrapper does to every query, done once
        qmark = _FORMAT_PLACEHOLDER.sub("?", sql).replace("%%", "%")

        def fetch_sqlite(driver: Any, params: list[Any]) -> Sequence[Any] | None:
            cursor = driver.execute(qmark, params)
            try:
                row: Sequence[Any] | None = cursor.fetchone()
            finally:
                cursor.close()
            return row

        return fetch_sqlite
    if connection.vendor == "postgresql" and _is_psycopg3():
        from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
        from django.db.backends.postgresql.psycopg_any import register_tzloader
        from psycopg import Cursor
        from psycopg.pq import Format

        timezone = getattr(connection, "timezone", None)
        query = sql.encode()  # psycopg would encode the text on every run
        # One cursor per driver connection, kept: it holds the column loaders it looked up.
        # (A _Compiled belongs to one thread, and so does this.)
        kept: list[Any] = []  # [driver connection, its cursor]

        def fetch_postgresql(driver: Any, params: list[Any]) -> Sequence[Any] | None:
            if not kept or kept[0] is not driver or kept[1].closed:
                cursor = Cursor(driver)
                # as Django's create_cursor: the connection's time zone for timestamptz
                if driver.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone != timezone:
                    register_tzloader(timezone, cursor)
                kept[:] = [driver, cursor]
            cursor = kept[1]
            # Server-side binding (Django's own cursors bind on the client), prepared once
            # per connection by psycopg and reused by name after that.
            cursor.execute(query, params, prepare=True)
            row: Sequence[Any] | None = cursor.fetchone()
            return row

        return fetch_postgresql
    return None  # other databases: through Django's cursor


_FORMAT_PLACEHOLDER = re.compile(r"(?<!%)%s")


def _is_psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return bool(is_psycopg3)
