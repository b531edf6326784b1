"""A 100,000-row file with bad rows and repeated rows: every count right, memory flat."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest

from leadbase.capture.imports import services
from leadbase.capture.models import ImportStatus
from leadbase.leads.models import Lead
from tests.capture.imports.conftest import MakeJob

pytestmark = pytest.mark.django_db

ROWS = 100_000


def big_csv(rows: int) -> tuple[bytes, int, int]:
    """(the file, rows that are bad, rows that repeat an earlier one): every 97th row has a
    broken email, every 101st repeats the row 50 before it."""
    out = io.StringIO()
    out.write("Email;First name;Last name;Company;Country;Job title;Notes\r\n")
    bad = repeats = 0
    for i in range(rows):
        n = i - 50 if i % 101 == 100 else i
        if i % 97 == 96:
            out.write(f"person{i}-at-nowhere;Bad;Row;;;;\r\n")
            bad += 1
            continue
        if n != i:
            repeats += 1 if (n % 97 != 96) else 0
        out.write(
            f"person{n}@company{n % 2000}.example;Ann{n % 89};Lee{n % 97};Company {n % 2000};GB;"
            f'Engineer;"note {n}; with ""quotes"""\r\n'
        )
    return out.getvalue().encode("utf-8"), bad, repeats


def test_a_100000_row_file(make_job: MakeJob) -> None:
    content, bad, repeats = big_csv(ROWS)
    started = time.perf_counter()
    job = make_job(content, "big.csv")
    services.import_job_configure(job=job, mapping=None)
    services.import_dry_run(job=job)
    job.refresh_from_db()
    forecast = job.dry_run
    assert (forecast["rows"], forecast["rejected"], forecast["duplicates"]) == (
        ROWS,
        bad,
        repeats,
    )
    assert forecast["create"] == ROWS - bad - repeats
    assert len(forecast["errors"]) == 100 and forecast["errors"][0]["row"] == 98

    services.import_start(job=job, enqueue=False)
    job = services.import_run(job_id=job.pk)
    assert job.status == ImportStatus.DONE, job.error
    assert (job.processed_rows, job.rejected, job.duplicates) == (ROWS, bad, repeats)
    assert job.created == ROWS - bad - repeats == Lead.objects.count()
    assert job.rejections.count() == bad
    print(f"100,000 rows: dry run and import in {time.perf_counter() - started:.1f}s")


def peak_bytes_of_import(make_job: MakeJob, rows: int) -> int:
    content, _, _ = big_csv(rows)
    job = make_job(content, f"{rows}.csv")
    services.import_job_configure(job=job, mapping=None)
    services.import_start(job=job, enqueue=False)
    tracemalloc.start()
    try:
        job = services.import_run(job_id=job.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert job.status == ImportStatus.DONE
    return peak


def test_memory_does_not_grow_with_the_file(
    make_job: MakeJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of a fixed size: four times the rows, about the same peak (the rows of the
    file are never all in memory; the lead ids seen are a bitmap)."""
    monkeypatch.setattr(services, "CHUNK", 500)
    small = peak_bytes_of_import(make_job, 2_000)
    large = peak_bytes_of_import(make_job, 8_000)
    assert large < small * 1.3 + 1_000_000, (small, large)
