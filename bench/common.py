"""Shared pieces of the benchmarks: Django set-up on a chosen database, timing, reporting."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadbase.config.settings")
    os.environ.setdefault("LEADBASE_ENV", "test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def vendor() -> str:
    from django.db import connection

    return connection.vendor


def wipe_leads() -> None:
    """Empty the lead tables between phases: TRUNCATE on PostgreSQL; on SQLite, each reference
    to them from elsewhere (forms' submissions, ...) cleared with one statement, then each
    table emptied. (The ORM's delete() sets those references to NULL with one parameter per
    lead, which goes beyond SQLite's limit with a million leads.)"""
    from django.apps import apps
    from django.db import connection, transaction

    from leadbase.leads.models import (
        Campaign,
        Company,
        Consent,
        DuplicateSuggestion,
        Event,
        Lead,
        LeadChange,
        LifecycleTransition,
    )

    models = [DuplicateSuggestion, LeadChange, Consent, Event, LifecycleTransition, Lead]
    models += [Company, Campaign]
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        tables = ", ".join(quote(m._meta.db_table) for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for model in apps.get_models():
            if model in models:
                continue
            for field in model._meta.concrete_fields:
                if field.is_relation and field.related_model in models and field.column:
                    table, column = quote(model._meta.db_table), quote(field.column)
                    if field.null:
                        cursor.execute(f"UPDATE {table} SET {column} = NULL")  # noqa: S608
                    else:
                        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        for model in models:
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(samples_s: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


@dataclass
class Report:
    database: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **row: Any) -> None:
        self.rows.append(row)
        print("  " + "  ".join(f"{k}={v}" for k, v in row.items()), flush=True)

    def save(self, name: str) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = RESULTS_DIR / f"{stamp}-{name}-{self.database}.json"
        payload = {
            "benchmark": name,
            "database": self.database,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "rows": self.rows,
        }
        path.write_text(json.dumps(payload, indent=2, default=str))
        return path


def print_table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    print(f"\n{title}")
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))


def serve_subprocess(port: int, *, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`leadbase serve` (granian) on `port` in a child process, output discarded."""
    command = [sys.executable, "-m", "leadbase.cli", "serve"]
    return subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
