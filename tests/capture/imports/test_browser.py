"""In a real browser: start an import and watch the progress bar fill in without reloading
(HTMX polls the progress every second while a worker thread runs the task)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from leadbase.accounts.models import Role
from leadbase.capture.imports import services
from leadbase.capture.models import ImportJob
from leadbase.core.worker import start_worker_thread
from tests.browser import BROWSER_MARKS, browser_page, collect_problems
from tests.capture.imports.conftest import csv_bytes, upload
from tests.conftest import PASSWORD, make_user

pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the worker writes while the page polls, and SQLite's "
        "in-memory test database (shared cache) answers such reads with 'table is locked' "
        "instead of waiting (a real SQLite file in WAL mode does not)",
    ),
]

ROWS = 600


@pytest.fixture
def job(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> ImportJob:
    """A checked import of 600 rows (one rejected), run in chunks of 40: the bar moves."""
    monkeypatch.setattr(services, "CHUNK", 40)
    make_user("mia", Role.MARKETER)
    rows = [["email", "first_name"]] + [[f"p{i}@acme.example", f"P{i}"] for i in range(ROWS - 1)]
    job = upload(csv_bytes([*rows, ["broken", "X"]]), "fair.csv")
    services.import_job_configure(job=job, mapping=None)
    services.import_dry_run(job=job)
    reverse("api:get_import", args=[job.pk])  # loads every URL module now, not on a request
    return job


@pytest.fixture
def worker(job: ImportJob) -> Iterator[None]:
    stop = threading.Event()
    thread = start_worker_thread(stop, interval=0.1)
    yield
    stop.set()
    thread.join(timeout=30)


@pytest.fixture
def page(worker: None) -> Iterator[Page]:
    """A browser page; the data is seeded first, while the ORM may still be used."""
    with browser_page(width=1300, height=900, timeout_ms=20_000, locale="en-US") as page:
        yield page


def test_the_progress_bar_fills_in_as_the_import_runs(
    page: Page, live_server: LiveServer, job: ImportJob
) -> None:
    problems = collect_problems(page)

    page.goto(f"{live_server.url}/capture/imports/{job.pk}/")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("fair.csv")
    expect(page.locator("#dry-create")).to_have_text(str(ROWS - 1))

    page.get_by_role("button", name=f"Import {ROWS} rows").click()
    expect(page).to_have_url(re.compile(rf"/capture/imports/{job.pk}/$"))
    page.evaluate("window.__sameDocument = true")
    bar = page.locator("#import-progress-bar")
    expect(bar).to_have_attribute("max", str(ROWS))
    # The worker and the polling do the rest: no reload, no click.
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    expect(bar).to_have_attribute("value", str(ROWS))
    expect(page.locator("#count-created")).to_have_text(str(ROWS - 1))
    expect(page.locator("#count-rejected")).to_have_text("1")
    expect(page.get_by_role("link", name="Download the 1 rejected row (CSV)")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    assert problems == []
