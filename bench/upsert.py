"""lead_upsert throughput against a raw bulk insert of the same rows, in the same run.

Phases (each on empty lead tables): raw bulk_create of pre-built Lead objects (no validation,
no dedup: the floor), lead_upsert_many new rows and updates (the batch path imports use),
lead_upsert one row at a time, new and updates.
"""

from __future__ import annotations

import random
from typing import Any

from bench.common import Report, stopwatch, wipe_leads

FIRST = [
    "Ann",
    "Bob",
    "Chloé",
    "Dev",
    "Eva",
    "Femi",
    "Gita",
    "Hiro",
    "Ines",
    "Jan",
    "Zoë",
    "Łukasz",
]
LAST = ["Lee", "Smith", "Müller", "Garcia", "Khan", "Nakamura", "Okafor", "Rossi", "Silva", "Wang"]
TITLES = ["CTO", "VP Marketing", "Marketing Manager", "Engineer", "Head of Sales", "Analyst"]


def make_rows(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    companies = max(1, n // 20)
    rows = []
    for i in range(n):
        company = i % companies
        row: dict[str, Any] = {
            "email": f"person{i}@company{company}.example",
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "job_title": rng.choice(TITLES),
            "company": f"Company {company}",
            "country": rng.choice(["US", "GB", "DE", "FR"]),
            "source_channel": rng.choice(["organic_search", "paid_social", "referral", "event"]),
        }
        if i % 3 == 0:
            row["phone"] = f"+1415555{i % 10000:04d}"
        rows.append(row)
    return rows


def raw_insert(rows: list[dict[str, Any]]) -> None:
    from leadbase.leads.models import Lead

    Lead.objects.bulk_create(
        [
            Lead(
                email=r["email"],
                first_name=r["first_name"],
                last_name=r["last_name"],
                job_title=r["job_title"],
                country=r["country"],
                source_channel=r["source_channel"],
                phone=r.get("phone", ""),
            )
            for r in rows
        ],
        batch_size=1000,
    )


def raw_sql_insert(rows: list[dict[str, Any]]) -> None:
    """The same rows as raw_insert, without the ORM: executemany on SQLite, COPY on PostgreSQL.
    Every column gets a value (the database has no defaults of its own); the constant ones are
    prepared once."""
    from django.db import connection, transaction
    from django.utils import timezone

    from leadbase.leads.models import Lead

    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key]
    template = Lead(created_at=timezone.now(), updated_at=timezone.now())
    base = [f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in fields]
    varying = [
        "email",
        "first_name",
        "last_name",
        "job_title",
        "country",
        "source_channel",
        "phone",
    ]
    slots = [next(i for i, f in enumerate(fields) if f.name == name) for name in varying]
    values = []
    for row in rows:
        record = list(base)
        for slot, name in zip(slots, varying, strict=True):
            record[slot] = row.get(name, "")
        values.append(record)
    table = Lead._meta.db_table
    columns = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in fields)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for record in values:
                    copy.write_row(record)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608


def run(report: Report, *, batch_rows: int, single_rows: int) -> None:
    from leadbase.leads.bulk import lead_upsert_many
    from leadbase.leads.services import lead_upsert

    rows = make_rows(batch_rows)
    updates = [{**r, "city": "Lyon", "department": "Sales"} for r in rows]

    wipe_leads()
    with stopwatch() as elapsed:
        raw_sql_insert(rows)
    raw_rate = batch_rows / elapsed()
    vs_orm = {"vs_orm_bulk": ""}
    report.add(
        path="raw SQL insert (floor)",
        rows=batch_rows,
        rows_per_s=round(raw_rate),
        vs_raw="1.00",
        **vs_orm,
    )

    wipe_leads()
    with stopwatch() as elapsed:
        raw_insert(rows)
    orm_rate = batch_rows / elapsed()

    def record(path: str, n: int, seconds: float) -> None:
        rate = n / seconds
        report.add(
            path=path,
            rows=n,
            rows_per_s=round(rate),
            vs_raw=f"{rate / raw_rate:.2f}",
            vs_orm_bulk=f"{rate / orm_rate:.2f}",
        )

    record("ORM bulk_create, no checks", batch_rows, batch_rows / orm_rate)

    wipe_leads()
    with stopwatch() as elapsed:
        result = lead_upsert_many(rows, source="bench")
    assert result.created == batch_rows, result.created
    record("lead_upsert_many: new", batch_rows, elapsed())
    with stopwatch() as elapsed:
        result = lead_upsert_many(updates, source="bench")
    assert result.updated == batch_rows, result.updated
    record("lead_upsert_many: updates", batch_rows, elapsed())

    wipe_leads()
    subset = rows[:single_rows]
    with stopwatch() as elapsed:
        for row in subset:
            lead_upsert(data=row, source="bench")
    record("lead_upsert: new, one by one", single_rows, elapsed())
    with stopwatch() as elapsed:
        for row in updates[:single_rows]:
            lead_upsert(data=row, source="bench")
    record("lead_upsert: updates, one by one", single_rows, elapsed())
    wipe_leads()
