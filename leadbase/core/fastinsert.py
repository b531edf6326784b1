"""Bulk writes of plain rows without building model instances or running the SQL compiler.

`insert_rows(Model, rows)` stores rows given as mappings of field attname -> Python value
(`company_id`, not `company`) exactly as `Model.objects.bulk_create` would store the same
values: missing fields get their defaults, auto_now/auto_now_add fields the current time, and
every value goes through the field's `get_db_prep_save` unless it is a plain value the field
stores as it is (a str for a CharField, an int for an IntegerField or a foreign key...). Rows
are written with one `executemany` on SQLite and `COPY ... FROM STDIN` on PostgreSQL; other
databases fall back to bulk_create.

With `return_ids=True` the new primary keys are allocated first and written explicitly, so the
caller knows them before writing rows that point at them:

- PostgreSQL: taken from the column's sequence in one query (safe under concurrency: a
  sequence never hands out a value twice).
- SQLite: the ids after the largest one ever used (MAX(id) and sqlite_sequence, which
  AUTOINCREMENT keeps). SQLite has one writer at a time; with transaction_mode IMMEDIATE the
  transaction holds the write lock from its start, so nobody can take those ids in between.
  Even without it, a clash fails on the primary key (or with "database is locked"); it never
  stores a wrong row.

`update_rows(Model, fields, rows)` writes new values of some fields to rows given by primary
key: executemany on SQLite, one `UPDATE ... FROM unnest(...)` on PostgreSQL.

`in_values(Model, field, values)` is a long `field__in=` list sent as one parameter (a JSON
array on SQLite, an array on PostgreSQL) rather than one per value, which Django compiles
one by one and SQLite limits in number.

Signals are not sent (bulk_create does not send them either).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import RawSQL
from django.db.models.fields import NOT_PROVIDED

Converter = Callable[[Any], Any]

# Field classes (exact types, not subclasses: a subclass may prepare values its own way) whose
# get_db_prep_save returns a value of the given Python type unchanged, and None as None.
_STORED_AS_IS: dict[type[models.Field[Any, Any]], type] = {
    models.CharField: str,
    models.TextField: str,
    models.EmailField: str,
    models.URLField: str,
    models.SlugField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
    models.SmallAutoField: int,
    models.FloatField: float,
    models.BooleanField: bool,
}
_TIMESTAMP_CLASSES = (models.DateField, models.TimeField)  # DateTimeField is a DateField
_NOTHING = object()
_AUTO_PK_CLASSES = (models.AutoField, models.BigAutoField, models.SmallAutoField)


@dataclass(frozen=True)
class _Column:
    field: models.Field[Any, Any]
    name: str  # attname
    column: str
    accepted: frozenset[type]  # Python types stored as they are
    auto_time: bool  # auto_now or auto_now_add: the time of the write, never the row's value


@dataclass(frozen=True)
class _Plan:
    columns: tuple[_Column, ...]  # every concrete column except an auto-increment primary key
    pk: models.Field[Any, Any] | None  # the auto-increment primary key, if any
    slot: Mapping[str, int]  # attname -> index in `columns`


_plans: dict[type[models.Model], _Plan] = {}


def _plan(model: type[models.Model]) -> _Plan:
    plan = _plans.get(model)
    if plan is None:
        plan = _plans[model] = _build_plan(model)  # a race only computes it twice
    return plan


def _build_plan(model: type[models.Model]) -> _Plan:
    opts = model._meta
    pk: models.Field[Any, Any] | None = None
    columns: list[_Column] = []
    for field in opts.concrete_fields:
        if getattr(field, "generated", False):
            continue  # computed by the database
        if field.primary_key and isinstance(field, _AUTO_PK_CLASSES):
            pk = field
            continue
        if (
            getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED
            and not field.has_default()
        ):
            # With a Python default as well, a row without a value gets that one, as
            # bulk_create gives it; a database default alone would need DEFAULT in the SQL.
            raise TypeError(f"{opts.label}.{field.name}: db_default alone is not supported")
        auto_time = isinstance(field, _TIMESTAMP_CLASSES) and bool(
            getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        )
        if (
            not auto_time
            and type(field).pre_save is not models.Field.pre_save
            and not isinstance(field, _TIMESTAMP_CLASSES)
        ):
            raise TypeError(f"{opts.label}.{field.name}: {type(field).__name__} is not supported")
        columns.append(
            _Column(
                field=field,
                name=field.attname,
                column=_column(field),
                accepted=_accepted_types(field),
                auto_time=auto_time,
            )
        )
    return _Plan(
        columns=tuple(columns),
        pk=pk,
        slot={c.name: i for i, c in enumerate(columns) if not c.auto_time},
    )


def _column(field: models.Field[Any, Any]) -> str:
    assert field.column is not None  # set on every concrete field of a model
    return field.column


def _accepted_types(field: models.Field[Any, Any]) -> frozenset[type]:
    target: models.Field[Any, Any] = field
    if type(field) in (models.ForeignKey, models.OneToOneField):
        target = field.target_field  # type: ignore[attr-defined]
    plain = _STORED_AS_IS.get(type(target))
    return frozenset({plain, type(None)}) if plain is not None else frozenset()


def _converter(field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> Converter:
    """field.get_db_prep_save, remembering the result for the last objects seen (rows often
    share one value object: the batch's timestamp, a properties dict per channel)."""
    memo: dict[int, tuple[Any, Any]] = {}
    prepare: Callable[[Any], Any] = partial(field.get_db_prep_save, connection=connection)
    if type(field) is models.JSONField:
        # A plain dict or list as JSON text: what JSONField sends SQLite, and what the Jsonb
        # adapter it uses on PostgreSQL would send, but as text it is encoded once however
        # many rows share the object (an adapter is dumped again for every row).
        encoder, slow = field.encoder, prepare

        def prepare(value: Any) -> Any:
            return json.dumps(value, cls=encoder) if type(value) in (dict, list) else slow(value)

    def convert(value: Any) -> Any:
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        prepared = prepare(value)
        if len(memo) < 256:
            memo[id(value)] = (value, prepared)  # holds `value`, so its id stays unique
        return prepared

    return convert


def _records(
    model: type[models.Model],
    plan: _Plan,
    rows: Sequence[Mapping[str, Any]],
    connection: BaseDatabaseWrapper,
    ids: Sequence[int] = (),
) -> list[list[Any]]:
    """The rows as lists of database values: the id first if `ids` are given, then the values
    of plan.columns."""
    skip = 1 if ids else 0  # slots before the first column's
    converters = [_converter(c.field, connection) for c in plan.columns]
    template = model()  # for defaults and auto_now values, computed once per call
    base: list[Any] = [None] * skip
    per_row_defaults: list[tuple[int, str, Converter, Callable[[], Any]]] = []
    for column, convert in zip(plan.columns, converters, strict=True):
        field = column.field
        if column.auto_time:
            value = field.pre_save(template, add=True)
        else:
            value = field.get_default()
            if field.has_default() and callable(field.default):
                per_row_defaults.append((len(base), column.name, convert, field.get_default))
        base.append(convert(value))
    slot = {name: i + skip for name, i in plan.slot.items()}
    converters[:0] = [lambda value: value] * skip
    accepted = [frozenset[type]()] * skip + [c.accepted for c in plan.columns]
    # The last value converted in each column and its result: rows often share one object
    # (the batch's timestamp), which then costs a comparison instead of a call.
    last_in: list[Any] = [_NOTHING] * len(base)
    last_out: list[Any] = [None] * len(base)
    records: list[list[Any]] = []
    append = records.append
    for n, row in enumerate(rows):
        record = base.copy()
        if skip:
            record[0] = ids[n]
        for name, value in row.items():
            try:
                i = slot[name]
            except KeyError:
                raise ValueError(_unknown(model, plan, name)) from None
            if type(value) in accepted[i]:
                record[i] = value
            elif value is last_in[i]:
                record[i] = last_out[i]
            else:
                record[i] = last_out[i] = converters[i](value)
                last_in[i] = value
        for i, name, convert, make in per_row_defaults:
            if name not in row:
                record[i] = convert(make())
        append(record)
    return records


def _unknown(model: type[models.Model], plan: _Plan, name: str) -> str:
    auto = [c.name for c in plan.columns if c.auto_time]
    if name in auto:
        return f"{model._meta.label}.{name} is set to the time of the write; leave it out"
    return f"{model._meta.label} has no writable column {name!r} (give fields by attname)"


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    return_ids: bool = False,
    ignore_conflicts: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> list[int]:
    """Insert `rows` (attname -> value); with return_ids, the new primary keys in row order.
    With ignore_conflicts, a row that would break a unique constraint is left out (as in
    bulk_create; not with return_ids)."""
    if not rows:
        return []
    if return_ids and ignore_conflicts:
        raise ValueError("return_ids and ignore_conflicts do not go together")
    connection = connections[using]
    plan = _plan(model)
    if connection.vendor not in ("sqlite", "postgresql"):
        return _insert_with_orm(model, rows, using, ignore_conflicts=ignore_conflicts)
    names = [c.column for c in plan.columns]
    ids: list[int] = []
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        if return_ids:
            if plan.pk is None:
                raise TypeError(f"{model._meta.label} has no auto-increment primary key")
            ids = _allocate_ids(cursor, connection, model, plan.pk, len(rows))
            names.insert(0, _column(plan.pk))
        records = _records(model, plan, rows, connection, ids)
        table = connection.ops.quote_name(model._meta.db_table)
        quoted = ", ".join(connection.ops.quote_name(n) for n in names)
        marks = ", ".join(["%s"] * len(names))
        if ignore_conflicts:  # COPY cannot skip rows: one INSERT per row, sent together
            insert, suffix = "INSERT OR IGNORE INTO", ""
            if connection.vendor == "postgresql":
                insert, suffix = "INSERT INTO", " ON CONFLICT DO NOTHING"
            sql = f"{insert} {table} ({quoted}) VALUES ({marks}){suffix}"
            cursor.executemany(sql, records)
        elif connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for record in records:
                    copy.write_row(record)
        else:
            cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", records)  # noqa: S608
    return ids


def _allocate_ids(
    cursor: Any,
    connection: BaseDatabaseWrapper,
    model: type[models.Model],
    pk: models.Field[Any, Any],
    n: int,
) -> list[int]:
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(table), _column(pk), n],
        )
        return sorted(row[0] for row in cursor.fetchall())
    # Django declares SQLite primary keys AUTOINCREMENT: an id is never reused, even after
    # the row that had it was deleted, so start after the largest id ever handed out.
    column = connection.ops.quote_name(_column(pk))
    cursor.execute(
        f"SELECT MAX({column}) FROM {connection.ops.quote_name(table)}"  # noqa: S608
        " UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s",
        [table],
    )
    start = max((row[0] or 0 for row in cursor.fetchall()), default=0) + 1
    return list(range(start, start + n))


def _insert_with_orm(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    using: str,
    *,
    ignore_conflicts: bool,
) -> list[int]:
    objs = model._default_manager.using(using).bulk_create(
        [model(**row) for row in rows], ignore_conflicts=ignore_conflicts
    )
    return [] if ignore_conflicts else [obj.pk for obj in objs]


def update_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """Set `fields` (attnames) on the rows `(pk, value, value, ...)`; values in the order of
    `fields`, leaving out auto_now fields, which take the time of the write (as
    Model.save(update_fields=...) does). Each pk should appear once. Values are converted as
    for insert_rows."""
    connection = connections[using]
    plan = _plan(model)
    by_name = {c.name: c for c in plan.columns}
    unknown = [name for name in fields if name not in by_name]
    if unknown or plan.pk is None:
        raise ValueError(f"{model._meta.label}: cannot update {unknown or 'without an id'}")
    timed = [by_name[name] for name in fields if getattr(by_name[name].field, "auto_now", False)]
    given = [by_name[name] for name in fields if by_name[name] not in timed]
    converters = [_converter(c.field, connection) for c in given]
    records: list[list[Any]] = []
    for row in rows:
        pk, values = row[0], row[1:]
        if len(values) != len(given):
            raise ValueError(f"expected {len(given)} values after the id, got {len(values)}")
        record = [pk]
        for column, convert, value in zip(given, converters, values, strict=True):
            record.append(value if type(value) in column.accepted else convert(value))
        records.append(record)
    if not records:
        return
    template = model()
    stamps = [_converter(c.field, connection)(c.field.pre_save(template, add=False)) for c in timed]
    quote = connection.ops.quote_name
    table, pk_column = quote(model._meta.db_table), quote(_column(plan.pk))
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the new values travel as one array per column.
            arrays = [[record[i] for record in records] for i in range(len(given) + 1)]
            casts = [
                f"%s::{_array_type(f, connection)}" for f in [plan.pk, *(c.field for c in given)]
            ]
            aliases = ", ".join(quote(f"v{i}") for i in range(len(given) + 1))
            sets = [f"{quote(c.column)} = v.{quote(f'v{i + 1}')}" for i, c in enumerate(given)]
            sets += [f"{quote(c.column)} = %s" for c in timed]
            cursor.execute(
                f"UPDATE {table} SET {', '.join(sets)} "  # noqa: S608
                f"FROM unnest({', '.join(casts)}) AS v({aliases}) "
                f"WHERE {table}.{pk_column} = v.{quote('v0')}",
                [*stamps, *arrays],
            )
        else:
            sets = [f"{quote(c.column)} = %s" for c in [*given, *timed]]
            cursor.executemany(
                f"UPDATE {table} SET {', '.join(sets)} WHERE {pk_column} = %s",  # noqa: S608
                [[*record[1:], *stamps, record[0]] for record in records],
            )


def in_values(
    model: type[models.Model],
    field_name: str,
    values: Iterable[str | int],
    *,
    using: str = DEFAULT_DB_ALIAS,
) -> RawSQL | list[str | int]:
    """What to give `field__in=` for a long list of text or integer values: a subquery over
    one parameter on SQLite and PostgreSQL, the plain list elsewhere."""
    listed = list(values)
    connection = connections[using]
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(listed)])
    if connection.vendor == "postgresql":
        field = model._meta.get_field(field_name)
        array_type = _array_type(field, connection)  # type: ignore[arg-type]
        return RawSQL(f"SELECT unnest(%s::{array_type})", [listed])  # noqa: S611 (the model's type)
    return listed


def _array_type(field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> str:
    """A PostgreSQL array of the column's type without its length or precision: an explicit
    cast to varchar(n) would cut longer values short where the ORM raises an error."""
    db_type = field.db_type(connection)
    assert db_type is not None
    return db_type.split("(")[0].strip() + "[]"
