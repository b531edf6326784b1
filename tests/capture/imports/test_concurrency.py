"""Concurrent writers on PostgreSQL: a chunk that loses a race for a company domain or an
email (a unique index) is rolled back and done again, and then finds the row the other made."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from leadbase.capture.imports import services
from leadbase.capture.models import ImportStatus
from leadbase.leads.models import Company, Lead
from tests.capture.imports.conftest import MakeJob, csv_bytes

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite has one writer at a time, so there is no such race",
    ),
    pytest.mark.django_db(transaction=True),
]


def hold_then_commit(write: Callable[[], None], seconds: float) -> threading.Thread:
    """Runs `write` in a transaction of another connection and commits it `seconds` later;
    returns once the write is made (uncommitted)."""
    written = threading.Event()

    def other() -> None:
        try:
            with transaction.atomic():
                write()
                written.set()
                time.sleep(seconds)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    assert written.wait(30)
    return thread


@pytest.mark.parametrize(
    ("write", "created"),
    [
        (lambda: Company.objects.create(domain="racing.example", name="Racing"), 2),
        (lambda: Lead.objects.create(email="ann@racing.example", first_name="Other"), 1),
    ],
    ids=["company domain", "email"],
)
def test_a_chunk_that_loses_a_race_is_done_again(
    make_job: MakeJob, write: Callable[[], None], created: int
) -> None:
    job = make_job(
        csv_bytes(
            [["email", "first_name"], ["ann@racing.example", "Ann"], ["bob@racing.example", "Bob"]]
        )
    )
    services.import_job_configure(job=job, mapping=None)
    services.import_start(job=job, enqueue=False)
    other = hold_then_commit(write, 1.5)
    # The import's insert waits for the other transaction, fails on the unique index once
    # it commits, and its chunk is done again.
    job = services.import_run(job_id=job.pk)
    other.join()
    assert job.status == ImportStatus.DONE, job.error
    assert (job.created, job.processed_rows, job.rejected) == (created, 2, 0)
    assert Company.objects.filter(domain="racing.example").count() == 1
    assert Lead.objects.filter(email__endswith="@racing.example").count() == 2
    assert Lead.objects.filter(company__domain="racing.example").count() >= 1
