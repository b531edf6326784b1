"""The two inserts of a form submission's request, without compiling SQL each time.

A submission request writes two rows: the `Submission` and the task row that will process it.
Through the ORM, building each INSERT (the compiler, the save machinery) cost several times
what running it cost, and the request does little else (see bench/forms.py and
docs/capture-forms.md). `instance_insert` does what `Model.save(force_insert=True)` does for
a plain model (pre_save signal, each field's pre_save and database preparation, the insert,
post_save signal) with the INSERT statement built once per model and database;
`task_enqueue` is django_tasks_db's `DatabaseBackend.enqueue` with that insert in place of
`DBTaskResult.objects.create` (a test compares the two rows). Both go through Django's
cursor, so query logging, counting and error translation still see them.
"""

from __future__ import annotations

from collections.abc import Callable
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


def instance_insert(obj: models.Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert `obj` as `obj.save(force_insert=True)` would, and set its primary key."""
    model = type(obj)
    connection: BaseDatabaseWrapper = connections[using]
    sql, fields, returns_pk = _statement(model, connection)
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returns_pk:
            row = cursor.fetchone()
            obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = using
    post_save.send(
        sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using
    )


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
