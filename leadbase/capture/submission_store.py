"""The one write of a form submission's request, in as few statements as the database allows.

`submission_store` stores a submission that `services_submissions.submission_receive` has
validated, together with what must be committed with it:

- the duplicate check: an accepted submission of the same form and email since `since`
  makes the new one a DUPLICATE pointing at it;
- the rate-limit hits (core.ratelimit): when one is over its limit nothing is stored and
  RateLimited is raised;
- the drain nudge: a RECEIVED submission is itself the queue entry of its processing (see
  `services_submissions.submissions_drain`); the request only makes sure one
  `submissions_drain_task` is waiting (READY) and enqueues one when none is. So a busy form
  writes one task row per drain run instead of one per submission, and the submission, its
  nudge and the counters are committed together or not at all.

SQLite runs these as the statements of one transaction (the threads of a process take turns
at it: `_one_writer`); PostgreSQL as ONE statement in autocommit (data-modifying WITH
clauses), prepared once per connection: one round trip instead of seven. The SQL is built
once per kind of database from the models' own table and column names; the values are
prepared by each field as `save()` would (`row_insert.field_values`), and the statements run
on the driver unless queries are being logged or wrapped (row_insert.driver_rows).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.signals import post_save, pre_save
from django.tasks import Task
from django.tasks.signals import task_enqueued
from django.utils.json import normalize_json
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from leadbase.core.ratelimit import (
    Rate,
    rate_hits,
    rate_refuse,
    rate_upsert_params,
    rate_upsert_sql,
    rate_windows,
)

from .models import Submission, SubmissionStatus
from .row_insert import driver_rows, field_values, task_enqueue

ACCEPTED = (SubmissionStatus.RECEIVED, SubmissionStatus.PROCESSED)
READY = "READY"  # django_tasks_db's TaskResultStatus.READY, as stored


def submission_store(
    submission: Submission,
    *,
    since: dt.datetime | None,
    limits: Sequence[tuple[str, Rate]],
    message: str,
    now: float,
    drain: Task[[], Any],
) -> None:
    """Insert `submission` (RECEIVED or SPAM), a DUPLICATE instead when an accepted
    submission of its form and email was made since `since` (None: no check), count a hit on
    each of `limits`, and make sure `drain` will run when it is RECEIVED. Raises RateLimited
    (with `message`) and stores nothing when a limit is exceeded; IntegrityError when its
    Idempotency-Key was used before on the form."""
    connection = connections[DEFAULT_DB_ALIAS]
    backend = drain.get_backend()
    nudge_row = type(backend) is DatabaseBackend and not backend.options.get("id_function")
    if connection.vendor == "postgresql":
        _store_postgresql(submission, since, limits, message, now, drain, nudge_row)
    else:
        _store_in_transaction(submission, since, limits, message, now, drain, nudge_row)
    if submission.status == SubmissionStatus.RECEIVED and not nudge_row:
        # Any other backend (the immediate one runs the task at once, in this request; a
        # database backend with its own id_function gets one drain per submission).
        transaction.on_commit(drain.enqueue, robust=True)


_writer_lock = threading.Lock()


def _one_writer() -> AbstractContextManager[object]:
    """On SQLite, the threads of this process take turns at the write transaction: SQLite has
    one writer at a time, and a thread that finds the database locked polls with growing
    sleeps (1, 2, 5, 10 ... ms), while one waiting on this lock starts the moment it is free.
    (Other processes, such as the task worker, still meet SQLite's own locking.)"""
    return _writer_lock if connections[DEFAULT_DB_ALIAS].vendor == "sqlite" else nullcontext()


# --- Any database but PostgreSQL: statements in one transaction ----------------------------


def _store_in_transaction(
    submission: Submission,
    since: dt.datetime | None,
    limits: Sequence[tuple[str, Rate]],
    message: str,
    now: float,
    drain: Task[[], Any],
    nudge_row: bool,
) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    windows = rate_windows(limits, now=now)
    model = type(submission)
    pre_save.send(sender=model, instance=submission, raw=False, using=DEFAULT_DB_ALIAS)
    since_value = connection.ops.adapt_datetimefield_value(since or _EPOCH)
    params = [since is not None, submission.form_id, submission.email, since_value]
    params += field_values(submission, _submission_columns(), connection)
    with _one_writer(), transaction.atomic():
        # the duplicate check and the insert: one statement
        [(submission.pk, submission.status, submission.duplicate_of_id)] = driver_rows(
            _sql("insert", connection), params
        )
        waiting = submission.status != SubmissionStatus.RECEIVED or not nudge_row
        if not waiting and not driver_rows(_sql("pending", connection), _pending_params(drain)):
            task_enqueue(drain)
        if windows:
            counts = driver_rows(rate_upsert_sql(len(windows)), rate_upsert_params(windows))
            # Raised inside the transaction: it rolls back, and nothing is stored.
            rate_refuse(rate_hits(windows, dict(counts)), message=message, now=now)
    _inserted(submission)


def _inserted(submission: Submission) -> None:
    """What save() does after its insert."""
    submission._state.adding = False
    submission._state.db = DEFAULT_DB_ALIAS
    post_save.send(
        sender=type(submission),
        instance=submission,
        created=True,
        update_fields=None,
        raw=False,
        using=DEFAULT_DB_ALIAS,
    )


_statements: dict[tuple[str, str], str] = {}


def _sql(name: str, connection: BaseDatabaseWrapper) -> str:
    """The statement `name` for this kind of database, built once."""
    key = (name, connection.vendor)
    if (sql := _statements.get(key)) is None:
        sql = _statements[key] = {"insert": _insert_sql, "pending": _pending_sql}[name](connection)
    return sql


def _insert_sql(connection: BaseDatabaseWrapper) -> str:
    earlier, insert = _insert_parts(connection, typed=False)
    q = connection.ops.quote_name
    return f"WITH {earlier} {insert} RETURNING {q('id')}, {q('status')}, {q('duplicate_of_id')}"


def _insert_parts(connection: BaseDatabaseWrapper, *, typed: bool) -> tuple[str, str]:
    """`earlier AS (...)`: the accepted submission of the same form and email since a time,
    if the first parameter is true (then the form id, the email, the time); and the INSERT of
    the submission (its columns' values follow as parameters), as the DUPLICATE of `earlier`
    if there is one. `typed`: each parameter cast to its column's type (PostgreSQL)."""
    q = connection.ops.quote_name

    def cast(sql_type: str) -> str:
        return f"::{sql_type}" if typed else ""

    sub = q(Submission._meta.db_table)
    fields = _submission_columns()
    values = []
    for field in fields:
        mark = f"%s{cast(field.cast_db_type(connection))}"
        if field.name == "status":
            values.append(
                f"CASE WHEN earlier.id IS NULL THEN {mark} ELSE '{SubmissionStatus.DUPLICATE}' END"
            )
        elif field.name == "duplicate_of":
            values.append(f"COALESCE(earlier.id, {mark})")
        else:
            values.append(mark)
    earlier = (
        f"earlier AS (SELECT {q('id')} AS id FROM {sub} "  # noqa: S608 -- names only
        f"WHERE %s{cast('boolean')} AND {q('form_id')} = %s{cast('bigint')} "
        f"AND {q('email')} = %s{cast('varchar')} "
        f"AND {q('status')} IN ('{ACCEPTED[0]}', '{ACCEPTED[1]}') "
        f"AND {q('created_at')} >= %s{cast('timestamptz')} ORDER BY {q('id')} LIMIT 1)"
    )
    insert = (
        f"INSERT INTO {sub} ({', '.join(q(str(f.column)) for f in fields)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM (SELECT 1) AS one LEFT JOIN earlier ON 1 = 1"
    )
    return earlier, insert


def _pending_sql(connection: BaseDatabaseWrapper) -> str:
    """Whether a task like the drain is waiting (READY) already."""
    q = connection.ops.quote_name
    table = q(DBTaskResult._meta.db_table)
    status, path, queue, backend = (
        q(c) for c in ("status", "task_path", "queue_name", "backend_name")
    )
    # `status = 'READY'` as a literal: it is the condition of django_tasks_db's partial index
    return (
        f"SELECT 1 FROM {table} WHERE {status} = '{READY}' AND {path} = %s "  # noqa: S608
        f"AND {queue} = %s AND {backend} = %s LIMIT 1"
    )


def _pending_params(drain: Task[[], Any]) -> list[Any]:
    return [drain.module_path, drain.queue_name, drain.get_backend().alias]


# --- PostgreSQL: one statement ---------------------------------------------------------------


def _store_postgresql(
    submission: Submission,
    since: dt.datetime | None,
    limits: Sequence[tuple[str, Rate]],
    message: str,
    now: float,
    drain: Task[[], Any],
    nudge_row: bool,
) -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    windows = rate_windows(limits, now=now)
    pre_save.send(sender=type(submission), instance=submission, raw=False, using=DEFAULT_DB_ALIAS)
    values = field_values(submission, _submission_columns(), connection)
    params: list[Any] = rate_upsert_params(windows)
    params += [value for w in windows for value in (w.key, w.rate.limit)]
    params += [since is not None, submission.form_id, submission.email, since or _EPOCH]
    params += values
    if nudge_row:
        params += _drain_row_params(drain) + _pending_params(drain)
    sql = _postgresql_sql(len(windows), nudge_row)
    # Inside a transaction (tests, or a caller's atomic block) a savepoint keeps a failed
    # statement (the Idempotency-Key's unique constraint) from breaking it.
    guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with guard:
        rows = driver_rows(sql, params, prepare=True)
    counts: dict[str, int] = {}
    drain_id = None
    for kind, text, number, duplicate_of in rows:
        if kind == "hit":
            counts[text] = number
        elif kind == "stored":
            submission.pk, submission.status, submission.duplicate_of_id = (
                number,
                text,
                duplicate_of,
            )
        else:
            drain_id = text
    # (A refused submission was not inserted, and its hits were counted, past the limit.)
    rate_refuse(rate_hits(windows, counts), message=message, now=now)
    if submission.pk is None:  # not refused, not inserted: cannot happen
        raise RuntimeError("the submission was neither stored nor refused")
    _inserted(submission)
    if drain_id is not None:
        result = DBTaskResult.objects.get(pk=drain_id).task_result
        task_enqueued.send(type(drain.get_backend()), task_result=result)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _submission_columns() -> tuple[Any, ...]:
    meta = Submission._meta
    return tuple(f for f in meta.concrete_fields if not f.primary_key)


def _drain_row_params(drain: Task[[], Any]) -> list[Any]:
    """args_kwargs, priority, task_path, queue_name, backend_name, run_after of the drain's
    task row, as DatabaseBackend.enqueue writes them (its id is made by PostgreSQL, its
    enqueued_at is the transaction's time)."""
    backend = drain.get_backend()
    connection = connections[DEFAULT_DB_ALIAS]
    args_field = DBTaskResult._meta.get_field("args_kwargs")
    run_after_field = DBTaskResult._meta.get_field("run_after")
    return [
        args_field.get_db_prep_save(normalize_json({"args": [], "kwargs": {}}), connection),
        drain.priority,
        drain.module_path,
        drain.queue_name,
        backend.alias,
        run_after_field.get_db_prep_save(drain.run_after or get_date_max(), connection),
    ]


@cache
def _postgresql_sql(windows: int, nudge_row: bool) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    q = connection.ops.quote_name
    earlier, insert = _insert_parts(connection, typed=True)
    key, count = q("key"), q("count")
    limits = ", ".join(["(%s::varchar, %s::int)"] * windows)
    # hit: the counters' upsert; refused: a window over its limit (then `stored` inserts
    # nothing); earlier and stored: the duplicate check and the insert; drain: the nudge.
    # Each gives its rows to the final SELECT as (kind, text, number, duplicate_of).
    hit_part = (
        f"hit AS ({rate_upsert_sql(windows, casts=True)}), "  # noqa: S608 -- names only
        f"refused AS (SELECT 1 FROM hit JOIN (VALUES {limits}) AS lim (k, most) "
        f"ON hit.{key} = lim.k WHERE hit.{count} > lim.most), "
        if windows
        else "refused AS (SELECT 1 WHERE false), "
    )
    sql = (
        f"WITH {hit_part}{earlier}, "  # noqa: S608 -- names only
        f"stored AS ({insert} WHERE NOT EXISTS (SELECT 1 FROM refused) "
        f"RETURNING {q('id')} AS id, {q('status')} AS status, "
        f"{q('duplicate_of_id')} AS duplicate_of_id)"
    )
    selects = [
        "SELECT 'stored', stored.status::text, stored.id, stored.duplicate_of_id FROM stored"
    ]
    if windows:
        selects.append(f"SELECT 'hit', hit.{key}::text, hit.{count}, NULL FROM hit")  # noqa: S608
    if nudge_row:
        task = q(DBTaskResult._meta.db_table)
        task_columns = ", ".join(
            q(c)
            for c in (
                "id", "status", "enqueued_at", "started_at", "finished_at", "args_kwargs",
                "priority", "task_path", "worker_ids", "queue_name", "backend_name",
                "run_after", "return_value", "exception_class_path", "traceback",
            )
        )  # fmt: skip
        sql += (
            f", drain AS (INSERT INTO {task} ({task_columns}) "  # noqa: S608 -- names only
            f"SELECT gen_random_uuid(), '{READY}', now(), NULL, NULL, %s::jsonb, %s::int, "
            f"%s::text, '[]'::jsonb, %s::varchar, %s::varchar, %s::timestamptz, NULL, '', '' "
            f"FROM stored WHERE stored.status = '{SubmissionStatus.RECEIVED}' "
            f"AND NOT EXISTS ({_pending_sql(connection)}) RETURNING {q('id')} AS id)"
        )
        selects.append("SELECT 'drain', drain.id::text, NULL, NULL FROM drain")
    return sql + " " + " UNION ALL ".join(selects)
