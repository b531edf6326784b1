"""Inserts of a form submission's request without compiling SQL each time, and a way to run
a statement on the database driver itself.

Through the ORM, building an INSERT (the compiler, the save machinery) cost several times
what running it cost, and the request does little else (see bench/forms.py and
docs/capture-forms.md). `instance_insert` does what `Model.save(force_insert=True)` does for
a plain model (pre_save signal, each field's pre_save and database preparation, the insert,
post_save signal) with the INSERT statement built once per model and database;
`task_enqueue` is django_tasks_db's `DatabaseBackend.enqueue` with that insert in place of
`DBTaskResult.objects.create` (a test compares the two rows).

`driver_rows` runs a statement the way `leadbase.core.prepared` runs its reads: after the
checks Django's cursor makes (health check, thread, broken transaction), straight on the
driver's connection (Django's cursor wrappers cost about as much as SQLite takes to run a
small statement), with database errors translated as usual; when queries are being logged or
wrapped (DEBUG, the test utilities that count queries, `connection.execute_wrapper`) it goes
through Django's cursor so that they see it. On PostgreSQL it can bind on the server and
prepare the statement once per connection.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.signals import post_save, pre_save
from django.tasks import Task, TaskResult
from django.tasks.signals import task_enqueued
from django.utils.json import normalize_json
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

Statement = tuple[str, tuple["models.Field[Any, Any]", ...], bool]
_statements: dict[tuple[type[models.Model], str], Statement] = {}


def _statement(model: type[models.Model], connection: BaseDatabaseWrapper) -> Statement:
    """(INSERT ... [RETURNING pk], the fields in column order, whether the pk is returned),
    built once per model and kind of database."""
    key = (model, connection.vendor)
    if (statement := _statements.get(key)) is None:
        statement = _statements[key] = _build(model, connection.ops.quote_name)
    return statement


def _build(model: type[models.Model], quote: Callable[[str], str]) -> Statement:
    meta = model._meta
    if meta.parents:
        raise TypeError(f"{meta.label}: instance_insert does not handle multi-table inheritance")
    pk = meta.pk
    assert pk is not None
    auto_pk = isinstance(pk, models.AutoField)
    fields = tuple(f for f in meta.concrete_fields if not (auto_pk and f.primary_key))
    columns = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = quote(meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 -- model names only
    if auto_pk:
        sql += f" RETURNING {quote(str(pk.column))}"
    return sql, fields, auto_pk


def field_values(
    obj: models.Model, fields: Sequence[models.Field[Any, Any]], connection: BaseDatabaseWrapper
) -> list[Any]:
    """The values `save()` would insert for `fields` of a new `obj` (each field's pre_save,
    e.g. auto_now_add, then its database preparation)."""
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def instance_insert(obj: models.Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert `obj` as `obj.save(force_insert=True)` would, and set its primary key."""
    model = type(obj)
    connection: BaseDatabaseWrapper = connections[using]
    sql, fields, returns_pk = _statement(model, connection)
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    rows = driver_rows(sql, field_values(obj, fields, connection), using=using)
    if returns_pk:
        obj.pk = rows[0][0]
    obj._state.adding = False
    obj._state.db = using
    post_save.send(
        sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using
    )


def driver_rows(
    sql: str, params: Sequence[Any], *, prepare: bool = False, using: str = DEFAULT_DB_ALIAS
) -> list[tuple[Any, ...]]:
    """Run `sql` (Django's SQL: %s placeholders) and return the rows it returns (none for a
    statement without a result). `prepare`: on PostgreSQL, bind the parameters on the server
    and prepare the statement once per connection, as the settings allow (its parameters
    must then be typed, e.g. `%s::bigint`, where the server cannot tell a type)."""
    connection: BaseDatabaseWrapper = connections[using]
    run = _RUNNERS.get(connection.vendor)
    if run is None or connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:  # seen by query logging and wrappers
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        return run(connection, sql, params, prepare)


_FORMAT_PLACEHOLDER = re.compile(r"(?<!%)%s")
_qmark: dict[str, str] = {}


def _run_sqlite(
    connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any], prepare: bool
) -> list[tuple[Any, ...]]:
    if (qmark := _qmark.get(sql)) is None:  # what SQLiteCursorWrapper does to every query
        qmark = _qmark[sql] = _FORMAT_PLACEHOLDER.sub("?", sql).replace("%%", "%")
    cursor = connection.connection.execute(qmark, params)
    try:
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


def _run_postgresql(
    connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any], prepare: bool
) -> list[tuple[Any, ...]]:
    if not prepare:
        with connection.cursor() as cursor:  # Django's client-side binding
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []
    cursor = _kept_cursor(connection.connection)
    if (query := _encoded.get(sql)) is None:  # the same bytes object: hashed once
        query = _encoded[sql] = sql.encode()
    # prepare=None: prepared once the connection's prepare_threshold is reached (settings:
    # after 5 runs; never with DATABASE_PREPARED_STATEMENTS=false, for PgBouncer < 1.21)
    cursor.execute(query, params, prepare=None)
    return list(cursor.fetchall()) if cursor.description else []


_encoded: dict[str, bytes] = {}
_kept = threading.local()


def _kept_cursor(driver: Any) -> Any:
    """A psycopg cursor on `driver`, kept per thread while the connection lives (it holds
    the column loaders it looked up). Results typed timestamptz would need the connection's
    time zone loader (see core.prepared): the statements run here return none."""
    from psycopg import Cursor

    kept = getattr(_kept, "cursor", None)
    if kept is None or kept.connection is not driver or kept.closed:
        kept = _kept.cursor = Cursor(driver)
    return kept


_RUNNERS: dict[
    str, Callable[[BaseDatabaseWrapper, str, Sequence[Any], bool], list[tuple[Any, ...]]]
] = {"sqlite": _run_sqlite, "postgresql": _run_postgresql}


def task_enqueue(task: Task[..., Any], **kwargs: Any) -> TaskResult[..., Any]:
    """`task.enqueue(**kwargs)`; for the database backend with the row written by
    instance_insert (the same row as DatabaseBackend.enqueue writes)."""
    backend = task.get_backend()
    if type(backend) is not DatabaseBackend or backend.options.get("id_function"):
        return task.enqueue(**kwargs)
    backend.validate_task(task)
    db_result: DBTaskResult[..., Any] = DBTaskResult(
        args_kwargs=normalize_json({"args": [], "kwargs": kwargs}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,  # type: ignore[misc]  # None: set by its pre_save signal
        backend_name=backend.alias,
    )
    instance_insert(db_result)
    result: TaskResult[..., Any] = db_result.task_result
    task_enqueued.send(type(backend), task_result=result)
    return result
