"""One walk through the UI in a real browser: sign in, filter live with HTMX, open a lead.

Drives Debian's Chromium (`/usr/bin/chromium`, or the path in LEADBASE_CHROMIUM) through
Playwright; skipped when there is none. With LEADBASE_SCREENSHOT=1 it also saves the lead
list to docs/screenshot-lead-list.png for the README.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from leadbase.accounts.models import Role, User
from leadbase.leads.models import Event, Lead
from leadbase.leads.services import ConsentInput, lead_upsert, transition_record
from tests.browser import BROWSER_MARKS, browser_page, collect_problems
from tests.conftest import PASSWORD, make_user

pytestmark = BROWSER_MARKS

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-lead-list.png"


@pytest.fixture
def seeded(transactional_db: None) -> tuple[User, Lead]:
    return seed()


@pytest.fixture
def page(seeded: tuple[User, Lead]) -> Iterator[Page]:
    """A browser page; the data is seeded first, while the ORM may still be used."""
    with browser_page(width=1400, height=900, locale="en-US") as page:
        yield page


def add_lead(
    data: dict[str, Any], *, days_ago: int, owner: User | None = None, **fields: Any
) -> Lead:
    at = timezone.now() - dt.timedelta(days=days_ago)
    consents = [ConsentInput(purpose="marketing_email", text_shown="Send me news.")]
    lead = lead_upsert(data=data, source="web form", at=at, consents=consents).lead
    fields.setdefault("last_activity_at", at + dt.timedelta(hours=5))
    Lead.objects.filter(pk=lead.pk).update(owner=owner, **fields)
    lead.refresh_from_db()
    return lead


def seed() -> tuple[User, Lead]:
    admin = make_user("admin", Role.ADMIN)
    admin.first_name, admin.last_name = "Ada", "Admin"
    admin.save()
    rep = make_user("rob", Role.SALES_REP)
    rep.first_name, rep.last_name = "Rob", "Miller"
    rep.save()
    # first, last, email, company, title, temperature, total, fit, qualification
    people = [
        ("Grace", "Hopper", "grace@navylabs.example", "Navy Labs", "CTO", "warm", 58, 38, "mql"),
        (
            "Charles",
            "Babbage",
            "cb@difference.example",
            "Difference Co",
            "Founder",
            "cold",
            22,
            15,
            "",
        ),
        ("Linus", "Berg", "linus@kernel.example", "Kernel AB", "Engineer", "cold", 31, 20, "iql"),
        (
            "Zoë",
            "Müller",
            "zoe@cafe-lumiere.example",
            "Café Lumière",
            "Owner",
            "hot",
            77,
            45,
            "mql",
        ),
        (
            "Hedy",
            "Lamarr",
            "hedy@spread.example",
            "Spread Spectrum",
            "Inventor",
            "warm",
            49,
            30,
            "iql",
        ),
        (
            "Alan",
            "Turing",
            "alan@enigma.example",
            "Enigma Ltd",
            "Head of Research",
            "hot",
            83,
            50,
            "sql",
        ),
    ]
    channels = ["paid_search", "event", "referral", "email"]
    for number, (first, last, email, company, title, temp, total, fit, qual) in enumerate(people):
        add_lead(
            {
                "email": email,
                "first_name": first,
                "last_name": last,
                "company": company,
                "job_title": title,
                "source_channel": channels[number % len(channels)],
            },
            days_ago=20 - number,
            owner=rep if number % 2 else None,
            temperature=temp,
            total_score=total,
            fit_score=fit,
            engagement_score=total - fit,
            qualification=qual,
            lifecycle_stage={"mql": "mql", "sql": "opportunity"}.get(qual, "lead"),
        )
    ada = add_lead(
        {
            "email": "ada@analytical-engines.example",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": "Analytical Engines",
            "job_title": "Head of Mathematics",
            "source_channel": "organic_search",
        },
        days_ago=9,
        owner=rep,
        temperature="hot",
        total_score=91,
        fit_score=55,
        engagement_score=36,
        qualification="sql",
    )
    start = timezone.now() - dt.timedelta(days=9)
    Event.objects.create(
        lead=ada,
        type="webinar_attended",
        occurred_at=start + dt.timedelta(days=2),
        properties={"webinar": "Scoring 101"},
    )
    Event.objects.create(
        lead=ada, type="pricing_page_view", occurred_at=start + dt.timedelta(days=4)
    )
    transition_record(
        lead=ada, to_stage="mql", reason="score over 60", at=start + dt.timedelta(days=3)
    )
    transition_record(
        lead=ada, to_stage="sql", reason="call booked", at=start + dt.timedelta(days=5)
    )
    return admin, ada


def test_sign_in_filter_and_open_a_lead(page: Page, live_server: LiveServer) -> None:
    problems = collect_problems(page)

    # Signing in: the list asks for it, then comes back.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    rows = page.locator("table.leads tbody tr")
    expect(rows).to_have_count(7)
    expect(page.locator(".account-user")).to_have_text("Ada Admin Admin")

    if os.environ.get("LEADBASE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

    # Typing in the search box swaps in the matching rows without reloading the page.
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Search").press_sequentially("lovelace", delay=20)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Lovelace")
    expect(page).to_have_url(f"{live_server.url}/?q=lovelace&sort=-created_at")
    assert page.evaluate("window.__sameDocument") is True

    # A filter: the warm leads only.
    page.get_by_label("Search").fill("")
    page.get_by_label("Temperature").select_option("warm")
    expect(page.locator("#result-summary")).to_contain_text("of 2 leads")
    expect(rows).to_have_count(2)
    expect(page.locator("table.leads")).to_contain_text("Grace Hopper")
    expect(page.locator("table.leads")).to_contain_text("Hedy Lamarr")
    expect(page.locator("table.leads")).not_to_contain_text("Ada Lovelace")
    expect(page).to_have_url(re.compile(r"\?temperature=warm&sort=-created_at$"))
    assert page.evaluate("window.__sameDocument") is True

    # The bookmarkable URL gives the same list on a fresh load.
    page.reload()
    expect(page.get_by_label("Temperature")).to_have_value("warm")
    expect(rows).to_have_count(2)

    # Opening a lead shows its timeline, newest first.
    page.get_by_label("Temperature").select_option("hot")
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    entries = page.locator(".timeline-entry .timeline-title")
    expect(entries).to_have_count(6)
    expect(entries.nth(0)).to_have_text("Lifecycle stage: MQL → SQL")
    expect(entries.nth(1)).to_have_text("pricing page view")
    expect(entries.nth(2)).to_have_text("Lifecycle stage: Lead → MQL")
    expect(entries.nth(3)).to_have_text("webinar attended")
    expect(entries.nth(4)).to_have_text("lead created")
    expect(entries.nth(5)).to_have_text("Lifecycle stage: — → Lead")
    expect(page.locator(".timeline")).to_contain_text("webinar: Scoring 101")
    expect(page.locator(".score-total .score-value")).to_have_text("91")

    assert problems == [], problems  # no CSP violations, no script errors
