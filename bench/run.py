"""Run the benchmarks on the database that DATABASE_URL names (SQLite when unset).

    python -m bench.run [--quick]

`scripts/bench` runs this on SQLite and on a throwaway PostgreSQL and prints both tables.
Results are saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from bench import api, forms, imports, pages, predictive, scoring, scoring_db, tracking, upsert
from bench.common import Report, django_setup, print_table, vendor, wipe_leads

BENCHMARKS = [
    "upsert",
    "pages",
    "api",
    "forms",
    "imports",
    "tracking",
    "scoring",
    "recompute",
    "predictive",
    "evaluate",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--only",
        choices=BENCHMARKS,
        action="append",
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="predictive: keep the leads and events already in the database when their counts "
        "match (only the outcomes are made again)",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        path = os.path.join(tempfile.mkdtemp(prefix="leadbase-bench-"), "bench.sqlite3")
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    django_setup()
    db = vendor()
    only = set(args.only or BENCHMARKS)
    quick = args.quick

    if "upsert" in only:
        print(f"\n== lead_upsert throughput ({db})", flush=True)
        report = Report(db)
        upsert.run(
            report, batch_rows=5_000 if quick else 50_000, single_rows=500 if quick else 3000
        )
        print_table(
            f"lead_upsert throughput, {db}",
            report.rows,
            ["path", "rows", "rows_per_s", "vs_raw", "vs_orm_bulk"],
        )
        print("saved", report.save("upsert"))

    if only & {"pages", "api", "tracking"}:
        from leadbase.leads.demo_data import load_demo_data

        leads = 5_000 if quick else 100_000
        print(f"\n== loading {leads} demo leads ({db})", flush=True)
        wipe_leads()
        started = time.perf_counter()
        load_demo_data(leads=leads, seed=7)
        print(f"  loaded in {time.perf_counter() - started:.1f}s", flush=True)

    if "pages" in only:
        report = Report(db)
        pages.run(report, repeats=20 if quick else 100)
        print_table(
            f"lead list page, {db}",
            report.rows,
            ["page", "leads", "n", "p50_ms", "p99_ms", "mean_ms"],
        )
        print("saved", report.save("pages"))

    if "api" in only:
        report = Report(db)
        api.run(report, seconds=3 if quick else 10, threads=4, server_workers=1)
        print_table(
            f"API, {db} (granian, 1 worker process, 4 client threads)",
            report.rows,
            ["endpoint", "requests_per_s", "p50_ms", "p99_ms", "errors", "vs_empty"],
        )
        print("saved", report.save("api"))

    if "forms" in only:
        report = Report(db)
        forms.run(report, seconds=3 if quick else 10, threads=4, server_workers=1)
        print_table(
            f"Form submissions, {db} (granian, 1 worker process, 4 client threads)",
            report.rows,
            ["endpoint", "requests_per_s", "p50_ms", "p99_ms", "errors", "vs_empty"],
        )
        print("saved", report.save("forms"))

    if "tracking" in only:
        report = Report(db)
        tracking.run(report, seconds=3 if quick else 10, threads=4)
        print_table(
            f"Event ingestion, {db} (granian, 1 worker process, 4 client threads)",
            report.rows,
            [
                "endpoint",
                "requests_per_s",
                "events_per_s",
                "p50_ms",
                "p99_ms",
                "errors",
                "vs_empty",
                "events_vs_empty",
            ],
        )
        print("saved", report.save("tracking"))
        report = Report(db)
        tracking.run_scoring(report, events=200 if quick else 2000)
        print_table(
            f"Scoring with events, {db} (in-process)",
            report.rows,
            ["phase", "per_event_ms", "rescore_ms", "seconds"],
        )
        print("saved", report.save("scoring-db"))

    if "imports" in only:
        rows = 100_000 if quick else 1_000_000
        print(f"\n== CSV import of {rows:,} rows ({db})", flush=True)
        report = Report(db)
        imports.run(report, rows=rows)
        print_table(
            f"CSV import, {db}",
            report.rows,
            ["phase", "rows", "rows_per_s", "vs_raw", "cpu_vs_raw", "peak_mb", "seconds"],
        )
        print("saved", report.save("imports"))

    if "recompute" in only:
        leads = 100_000 if quick else 1_000_000
        print(f"\n== full recompute with the database: {leads:,} leads, {10 * leads:,} events")
        report = Report(db)
        scoring_db.run(report, leads=leads, events=10 * leads)
        print_table(
            f"Full recompute with the database, {db}",
            report.rows,
            ["phase", "seconds", "rows_per_s", "events_per_s", "vs_floor"],
        )
        print("saved", report.save("recompute"))

    if "predictive" in only:
        leads = 100_000 if quick else 1_000_000
        print(f"\n== predictive scoring: {leads:,} leads, {10 * leads:,} events ({db})")
        report = Report(db)
        predictive.run(report, leads=leads, reuse=args.reuse_data)
        print_table(
            f"Predictive scoring, {db}",
            report.rows,
            ["phase", "rows", "seconds", "rows_per_s", "leads_per_s", "vs_floor", "peak_rss_mb"],
        )
        print("saved", report.save("predictive"))

    # `leadbase evaluate` on a generated CSV uses no database: once, on SQLite's turn.
    if "evaluate" in only and (db == "sqlite" or args.only):
        rows = 10_000 if quick else 50_000
        print(f"\n== leadbase evaluate on a generated CSV of {rows:,} rows x 19 columns")
        report = Report(db)
        predictive.run_evaluate(report, rows=rows)
        print("saved", report.save("evaluate"))

    # The engine alone uses no database: run it once, on SQLite's turn, unless asked for by name.
    if "scoring" in only and (db == "sqlite" or args.only):
        print(f"\n== scoring engine ({'100k leads, 1M' if quick else '1M leads, 10M'} rows)")
        report = Report(db)
        scoring.run(quick, report)
        print("saved", report.save("scoring"))


if __name__ == "__main__":
    main()
