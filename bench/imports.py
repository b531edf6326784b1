"""CSV import throughput and memory, against a raw bulk insert of the same rows in the same run.

A CSV file of N generated rows (friendly column names, quoting, 1 % rows with a broken email,
1 % rows repeating an earlier one) is written to disk. Phases, each on empty lead tables and
each in a child process of its own (forked), so its peak memory is its own:

- raw SQL insert of the valid, distinct rows (bench.upsert.raw_sql_insert: executemany on
  SQLite, COPY on PostgreSQL; no reading, no validation, no dedup), in batches of 50,000 rows
  generated on the fly: the floor;
- dry run: upload (hash and copy), detection, then every row read, mapped, validated and
  matched against the database; nothing written but the summary;
- import: upload, detection, then every row read, mapped, validated, deduplicated and written
  with lead_upsert_many (leads, companies, events, transitions, rejections) in chunks;
- re-import of the same file onto the leads it made (every row found: nothing created).

Rates are rows of the file per second, of wall-clock time and of the process's CPU time (less
disturbed by other work on a shared machine; on PostgreSQL it leaves out the server's work).
Peak memory (`peak_mb`) is the growth of the child's anonymous resident memory (the heap,
sampled every 50 ms, Linux), `rss_growth_mb` that of its whole resident set (ru_maxrss),
which on SQLite includes the database file SQLite maps into memory (up to 256 MB).
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import random
import resource
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.common import Report, wipe_leads
from bench.upsert import FIRST, LAST, TITLES, raw_sql_insert

HEADER = ["Email", "First Name", "Last Name", "Job Title", "Company", "Country", "Channel"]
HEADER += ["Phone"]
COUNTRIES = ["US", "GB", "DE", "FR"]
CHANNELS = ["organic_search", "paid_social", "referral", "event"]
RAW_BATCH = 50_000


def person(i: int, rng: random.Random, companies: int) -> dict[str, str]:
    """Row i, as bench.upsert.make_rows makes it (emails at n/20 company domains, a third
    with a phone), except for the phone numbers: see phone()."""
    company = i % companies
    return {
        "email": f"person{i}@company{company}.example",
        "first_name": rng.choice(FIRST),
        "last_name": rng.choice(LAST),
        "job_title": rng.choice(TITLES),
        "company": f"Company {company}",
        "country": rng.choice(COUNTRIES),
        "source_channel": rng.choice(CHANNELS),
        "phone": phone(i, companies),
    }


def phone(i: int, companies: int) -> str:
    """A third of the rows have a phone number, as a lead list has them: mostly the person's
    own line, and for a quarter of them the company's switchboard, shared by the company's
    leads that give it (one or two per company: 100,000 rows have 3,500 numbers given
    twice). make_rows gives 10,000 numbers in turn, each shared by people at unrelated
    companies: 33 each in a million rows, which no list has (and which made every chunk of
    an import load more leads by phone)."""
    if i % 3:
        return ""
    if (i // companies) % 4 == 0:  # the company's leads are i % companies, in turn
        return f"+1212{2_000_000 + i % companies:07d}"
    return f"+1415{2_000_000 + i:07d}"


def is_bad(i: int) -> bool:
    return i % 100 == 99


def repeats(i: int) -> int | None:
    """The earlier row that row i repeats, if it is one of the 1 % repeated rows."""
    return i - 25 if i % 100 == 50 else None


def people(n: int) -> Iterator[tuple[int, dict[str, str]]]:
    """(i, row) for every row of the file, the same rows in every call."""
    rng = random.Random(1)
    companies = max(1, n // 20)
    made: dict[int, dict[str, str]] = {}
    for i in range(n):
        row = person(i, rng, companies)
        if i % 100 == 25:
            made[i] = row  # repeated 25 rows later
        if (earlier := repeats(i)) is not None:
            row = made.pop(earlier)
        yield i, row


def write_csv(path: Path, n: int) -> tuple[int, int]:
    """Writes the file; (bad rows, repeated rows)."""
    bad = repeated = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(HEADER)
        for i, row in people(n):
            if is_bad(i):
                row = {**row, "email": f"person{i}-at-nowhere"}
                bad += 1
            elif repeats(i) is not None:
                repeated += 1
            writer.writerow([row[k] for k in (
                "email", "first_name", "last_name", "job_title", "company", "country",
                "source_channel", "phone",
            )])  # fmt: skip
    return bad, repeated


def valid_distinct_rows(n: int) -> Iterator[list[dict[str, str]]]:
    """The rows an import stores, in batches, for the raw insert."""
    batch: list[dict[str, str]] = []
    for i, row in people(n):
        if is_bad(i) or repeats(i) is not None:
            continue
        batch.append(row)
        if len(batch) == RAW_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _resident_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _anonymous_kib() -> int:
    """Resident memory that is not a mapped file (Linux): the heap. SQLite maps up to
    256 MB of the database file into memory (mmap_size), which counts in the resident set
    but is the operating system's file cache, not memory the import holds."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class _PeakSampler(threading.Thread):
    """The largest anonymous resident memory seen, sampled every 50 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = self.start_kib = _anonymous_kib()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, _anonymous_kib())


def _child(phase: Callable[[], dict[str, Any]], trace: bool, queue: Any) -> None:
    from django.db import connections

    start_kib = _resident_kib()
    sampler = _PeakSampler()
    sampler.start()
    if trace:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    result = phase()
    result["seconds"] = time.perf_counter() - started
    result["cpu_s"] = time.process_time() - cpu
    if trace:
        result["python_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
        tracemalloc.stop()
    sampler.stop.set()
    sampler.join()
    result["peak_mb"] = round((max(sampler.peak, _anonymous_kib()) - sampler.start_kib) / 1024, 1)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["rss_growth_mb"] = round(max(0, peak_kib - start_kib) / 1024, 1)
    connections.close_all()
    queue.put(result)


def in_child(phase: Callable[[], dict[str, Any]], *, trace: bool = False) -> dict[str, Any]:
    """Runs `phase` in a forked process (fresh database connections, its own peak memory)."""
    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connections
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(phase, trace, queue))
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    if process.exitcode:
        raise RuntimeError(f"benchmark phase failed in its process ({process.exitcode})")
    return result


def _import(path: Path, *, dry_run: bool) -> dict[str, Any]:
    from django.core.files import File

    from leadbase.capture.imports import services

    with path.open("rb") as handle:
        job = services.import_job_create(
            file=File(handle, name=path.name), name=path.name, user=None
        )
    services.import_job_configure(job=job, mapping=None)
    if dry_run:
        result = services.import_dry_run(job=job)
        return {"created": result.create, "rejected": result.rejected, "dups": result.duplicate}
    services.import_start(job=job, enqueue=False)
    job = services.import_run(job_id=job.pk)
    assert job.status == "done", job.error
    return {"created": job.created, "rejected": job.rejected, "dups": job.duplicates}


def _raw(n: int) -> dict[str, Any]:
    stored = 0
    for batch in valid_distinct_rows(n):
        raw_sql_insert(batch)
        stored += len(batch)
    return {"created": stored}


def run(report: Report, *, rows: int, trace: bool = False) -> None:
    directory = Path(tempfile.mkdtemp(prefix="leadbase-import-bench-"))
    path = directory / "leads.csv"
    bad, repeated = write_csv(path, rows)
    size_mb = path.stat().st_size / 1e6
    print(f"  {rows:,} rows, {size_mb:.0f} MB: {bad:,} bad, {repeated:,} repeated", flush=True)
    expected = rows - bad - repeated

    wipe_leads()
    raw = in_child(lambda: _raw(rows), trace=trace)
    assert raw["created"] == expected, raw
    raw_rate = expected / raw["seconds"]
    raw_cpu_rate = expected / raw["cpu_s"]
    report.add(
        phase="raw SQL insert (floor)",
        rows=expected,
        rows_per_s=round(raw_rate),
        vs_raw="1.00",
        cpu_vs_raw="1.00",
        peak_mb=raw["peak_mb"],
        rss_growth_mb=raw["rss_growth_mb"],
        cpu_s=round(raw["cpu_s"], 1),
        seconds=round(raw["seconds"], 1),
    )

    def record(phase: str, result: dict[str, Any]) -> None:
        """Rates by wall-clock time, and by this process's CPU time (less disturbed by other
        work on a shared machine; on PostgreSQL it leaves out the server's share)."""
        rate = rows / result["seconds"]
        extra = {"python_peak_mb": result["python_peak_mb"]} if trace else {}
        report.add(
            phase=phase,
            rows=rows,
            rows_per_s=round(rate),
            vs_raw=f"{rate / raw_rate:.2f}",
            cpu_vs_raw=f"{rows / result['cpu_s'] / raw_cpu_rate:.2f}",
            peak_mb=result["peak_mb"],
            rss_growth_mb=result["rss_growth_mb"],
            cpu_s=round(result["cpu_s"], 1),
            seconds=round(result["seconds"], 1),
            **extra,
        )

    wipe_leads()
    dry = in_child(lambda: _import(path, dry_run=True), trace=trace)
    assert (dry["created"], dry["rejected"], dry["dups"]) == (expected, bad, repeated), dry
    record("dry run (read, map, validate, match)", dry)

    done = in_child(lambda: _import(path, dry_run=False), trace=trace)
    assert (done["created"], done["rejected"], done["dups"]) == (expected, bad, repeated), done
    record("import (read, map, validate, dedup, write)", done)

    again = in_child(lambda: _import(path, dry_run=False), trace=trace)
    assert again["created"] == 0, again
    record("re-import of the same file (nothing new)", again)

    wipe_leads()
    _forget_imports()
    path.unlink()
    directory.rmdir()


def _forget_imports() -> None:
    """The benchmark's imports and their stored copies of the file."""
    from leadbase.capture.models import ImportJob

    for job in ImportJob.objects.all():
        job.file.delete(save=False)
        job.delete()
