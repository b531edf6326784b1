"""The full recompute with the database around it: N leads with 10 N events in the database,
scored by the publish path (`scoring.recompute`), against floors measured in the same run.

Phases:
- the database floor: reading (lead_id, type, occurred_at, properties) of every event with a
  plain cursor, nothing done with the rows;
- the engine's arithmetic on the same rows as numpy arrays (`ScoringEngine.recompute`), and the
  plain numpy lower bound of that arithmetic (decay + rule caps, as in bench/scoring.py);
- `scores_all` (what a preview reads and computes: events matched to rules, engagement, fit of
  every lead), timed in its parts;
- `publish_recompute` (the same, plus writing every lead's scores and classes and recording
  the moves as transitions).

Given the DATABASE_URL of a database it loaded before (the same sizes), it measures again
without loading.

Data: leads with a job title, seniority, country and a company (industry, size) so that the fit
rules have something to match; events of the default rule set's types with the mix of
bench/scoring.py, over 180 days; bulk-inserted (leadbase.core.fastinsert).
"""

from __future__ import annotations

import json
import time

import numpy as np

from bench.common import Report
from bench.scoring import RULE_MIX

DAY = 86_400.0
CHUNK = 200_000
TITLES = ["VP Marketing", "Head of Sales", "Marketing Manager", "Student", "CEO", "Engineer"]
SENIORITY = ["vp", "director", "manager", "entry", "c_level", ""]
COUNTRIES = ["US", "DE", "GB", "FR", "IN", "BR", ""]
INDUSTRIES = ["Software", "Retail", "Manufacturing", "Education", "Finance", ""]


def load(n_leads: int, n_events: int, seed: int = 3) -> dict[str, float]:
    """Insert the leads (and a company per 10 leads) and the events; returns the times."""
    from django.db import connection, transaction
    from django.utils import timezone

    from leadbase.core.fastinsert import insert_rows
    from leadbase.leads.models import Company, Event, Lead

    rng = np.random.default_rng(seed)
    now = timezone.now()
    started = time.perf_counter()
    n_companies = max(1, n_leads // 10)
    company_ids = insert_rows(
        Company,
        [
            {
                "name": f"Company {i}",
                "domain": f"company{i}.example",
                "industry": INDUSTRIES[i % len(INDUSTRIES)],
                "employee_count": int(10 + (i * 37) % 5000),
            }
            for i in range(n_companies)
        ],
        return_ids=True,
    )
    lead_ids: list[int] = []
    for start in range(0, n_leads, CHUNK):
        rows = [
            {
                "email": f"person{i}@company{i % n_companies}.example",
                "first_name": f"First{i}",
                "last_name": f"Last{i}",
                "job_title": TITLES[i % len(TITLES)],
                "seniority": SENIORITY[i % len(SENIORITY)],
                "country": COUNTRIES[i % len(COUNTRIES)],
                "company_id": company_ids[i % n_companies],
                "last_activity_at": now,
            }
            for i in range(start, min(n_leads, start + CHUNK))
        ]
        lead_ids += insert_rows(Lead, rows, return_ids=True)
    leads_s = time.perf_counter() - started

    types = list(RULE_MIX)
    shares = np.array(list(RULE_MIX.values()))
    properties: dict[str, str] = dict.fromkeys(types, "{}")
    properties["page_view"] = json.dumps({"url": "https://www.example.com/blog/post"})
    properties["pricing_page_view"] = json.dumps({"url": "https://www.example.com/pricing"})
    ids = np.asarray(lead_ids, dtype=np.int64)
    stamp = np.datetime64(now.replace(tzinfo=None), "us")
    postgres = connection.vendor == "postgresql"
    suffix = "+00:00" if postgres else ""
    created = f"{np.datetime_as_string(stamp, unit='us').replace('T', ' ')}{suffix}"
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = "lead_id, type, occurred_at, properties, source, created_at"
    started = time.perf_counter()
    # Rows in the database's own text forms, past the ORM's per-value conversion: loading is
    # not what is measured here.
    for start in range(0, n_events, CHUNK):
        size = min(CHUNK, n_events - start)
        kind = rng.choice(len(types), size=size, p=shares / shares.sum())
        lead = ids[rng.integers(0, len(ids), size=size)].tolist()
        ago = (rng.random(size) * 180 * DAY * 1e6).astype("timedelta64[us]")
        when = np.char.replace(np.datetime_as_string(stamp - ago, unit="us"), "T", " ").tolist()
        events = [
            (lead[j], types[k], when[j] + suffix, properties[types[k]], "bench", created)
            for j, k in enumerate(kind.tolist())
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            if postgres:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for event in events:
                        copy.write_row(event)
            else:
                insert = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608
                cursor.executemany(insert, events)
    return {"leads_s": leads_s, "events_s": time.perf_counter() - started}


def run(report: Report, *, leads: int, events: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from bench.common import wipe_leads
    from leadbase.leads.models import Event, Lead
    from leadbase.scoring import recompute
    from leadbase.scoring.rule_sets import engine_for, rule_set_active

    if Lead.objects.count() == leads and Event.objects.filter(source="bench").count() == events:
        # a database this benchmark loaded before (DATABASE_URL naming it): measure again
        report.add(phase=f"reuse the {leads:,} leads and {events:,} events loaded before")
    else:
        wipe_leads()
        loaded = load(leads, events)
        report.add(phase=f"load {leads:,} leads (bulk insert)", seconds=round(loaded["leads_s"], 1))
        report.add(
            phase=f"load {events:,} events (bulk insert)",
            seconds=round(loaded["events_s"], 1),
            rows_per_s=round(events / loaded["events_s"]),
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    assert Event.objects.count() == events and Lead.objects.count() == leads

    rule_set = rule_set_active()
    engine = engine_for(rule_set)
    at = timezone.now()

    # Floor 1: the database alone, the four columns the recompute needs of every event.
    table = connection.ops.quote_name(Event._meta.db_table)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lead_id, type, occurred_at, properties FROM {table} "  # noqa: S608
            "WHERE lead_id IS NOT NULL"
        )
        read = 0
        while batch := cursor.fetchmany(50_000):
            read += len(batch)
    read_s = time.perf_counter() - started
    assert read == events

    # The parts of scores_all, timed apart (the same calls it makes).
    progress = lambda done, total: None  # noqa: E731
    ids = np.fromiter(Lead.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    started = time.perf_counter()
    lead, rule, times = recompute._event_arrays(engine, ids, lambda done: None)
    events_s = time.perf_counter() - started
    started = time.perf_counter()
    engine.recompute(lead=lead, rule=rule, time=times, n_leads=len(ids), at=at.timestamp())
    engine_s = time.perf_counter() - started

    compiled = engine.compiled
    now = at.timestamp()
    started = time.perf_counter()
    worth = compiled.points[rule] * np.exp2((times - now) * compiled.rate[rule])
    n_rules = len(compiled.rules)
    dense = np.bincount(lead * n_rules + rule, weights=worth, minlength=len(ids) * n_rules)
    capped = np.clip(dense.reshape(len(ids), n_rules), -compiled.cap, compiled.cap)
    np.clip(capped.sum(axis=1), 0.0, 100.0)
    numpy_s = time.perf_counter() - started
    del lead, rule, times, worth, dense, capped

    started = time.perf_counter()
    scores = recompute.scores_all(engine, at=at, progress=progress)
    all_s = time.perf_counter() - started
    assert len(scores.ids) == leads

    started = time.perf_counter()
    recompute.publish_recompute(rule_set, engine, progress=progress)
    publish_s = time.perf_counter() - started
    floor = read_s + numpy_s

    def add(phase: str, seconds: float) -> None:
        report.add(
            phase=phase,
            seconds=round(seconds, 2),
            events_per_s=round(events / seconds),
            vs_floor=f"{seconds / floor:.2f}",
        )

    add("floor: plain cursor read of the events' 4 columns", read_s)
    add("floor: plain numpy decay + caps on the same rows", numpy_s)
    add("read + match events to rules (_event_arrays)", events_s)
    add("engine recompute of the arrays", engine_s)
    add("scores_all: events + engagement + fit of every lead", all_s)
    add("publish: scores_all + write scores, classes, transitions", publish_s)
