"""Scoring in a real browser (Debian's Chromium through Playwright): make a draft, edit its
JSON (a mistake first), preview it and watch the progress end, publish it, then open a lead and
see its score card loaded into the lead page.

As in tests/browser.py, no ORM call happens while Playwright runs: the data (and the
JSON typed into the editor) is prepared before the browser opens, and the database is checked
after it has closed. On PostgreSQL a worker thread runs the jobs while the page polls; on
SQLite (whose in-memory test database answers reads during another thread's writes with
"table is locked") the jobs run in the request (the immediate task backend).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from leadbase.accounts.models import Role
from leadbase.core.worker import start_worker_thread
from leadbase.leads.events import EventIn, events_record
from leadbase.leads.models import Company, Lead
from leadbase.leads.services import lead_upsert
from leadbase.scoring.models import RuleSet, RuleSetStatus
from leadbase.scoring.rule_sets import active_forget, rule_set_active
from leadbase.scoring.services import leads_rescore
from tests.browser import BROWSER_MARKS, browser
from tests.conftest import PASSWORD, make_user

pytestmark = BROWSER_MARKS
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def seed() -> tuple[int, str]:
    """Leads to score, and the rule set text a marketer will type: warm from engagement 1."""
    active_forget()
    make_user("mia", Role.MARKETER)
    now = timezone.now()
    ada = lead_upsert(
        data={
            "email": "ada@analytical.example",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "seniority": "c_level",
            "company": "Analytical",
        },
        source="test",
    ).lead
    assert ada.company_id is not None
    Company.objects.filter(pk=ada.company_id).update(industry="software", employee_count=300)
    others = [
        lead_upsert(data={"email": f"p{i}@acme.example"}, source="test").lead for i in range(4)
    ]
    events_record(
        [EventIn(type="demo_request", occurred_at=now - dt.timedelta(days=3), lead_id=ada.pk)]
        + [
            EventIn(type="pricing_page_view", occurred_at=now, lead_id=lead.pk)
            for lead in others[:2]
        ]
    )
    leads_rescore([ada.pk, *(lead.pk for lead in others)])
    definition: dict[str, Any] = copy.deepcopy(rule_set_active().definition)
    definition["name"] = "Warm sooner"
    definition["thresholds"]["temperature"]["warm"] = {"engagement": 1}
    reverse("scoring:rule-sets")  # loads every URL module now, not on a request
    return ada.pk, json.dumps(definition, indent=2)


@pytest.fixture
def seeded(transactional_db: None, settings: Settings) -> Iterator[tuple[int, str]]:
    data = seed()
    if connection.vendor != "postgresql":
        settings.TASKS = IMMEDIATE
        yield data
        return
    stop = threading.Event()
    thread = start_worker_thread(stop, interval=0.1)
    yield data
    stop.set()
    thread.join(timeout=30)


def sign_in(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_edit_preview_publish_and_see_the_score_card(
    seeded: tuple[int, str], live_server: LiveServer
) -> None:
    ada, typed = seeded
    with browser(locale="en-US") as (page, problems):
        sign_in(page, f"{live_server.url}/scoring/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Scoring rules")
        page.get_by_role("button", name="New draft (copy of v1)").click()
        expect(page).to_have_url(f"{live_server.url}/scoring/v2/")

        # A mistake: the problems show in place (HTMX), what was typed stays, nothing is saved.
        page.evaluate("window.__sameDocument = true")
        editor = page.get_by_label("Rules (JSON)")
        broken = typed.replace('"engagement": 1', '"engagement": "one"')
        editor.fill(broken)
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator("#editor-problems")).to_contain_text("thresholds.temperature.warm")
        expect(page.get_by_label("Rules (JSON)")).to_have_value(broken)

        page.get_by_label("Rules (JSON)").fill(typed)
        page.get_by_label("Note").fill("Warm from the first visit")
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator("#editor")).to_contain_text("Draft v2 saved.")
        expect(page.locator(".rule-summary")).to_contain_text("engagement ≥ 1")
        assert page.evaluate("window.__sameDocument") is True

        # Preview: the progress ends and shows who would move.
        page.locator(".version-actions").get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Preview of v2")
        expect(page.get_by_role("heading", name="Done")).to_be_visible()
        expect(page.locator("#job-progress-text")).to_have_text("100%.")
        moves = page.locator("table.moves").first
        expect(moves).to_contain_text("cold")
        expect(moves.locator("tbody tr").first).to_contain_text("2")
        expect(page.locator("#preview-leads")).to_have_text("5")

        # Publish from the preview: the recompute's progress ends too.
        page.get_by_role("button", name="Publish v2").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Publishing v2")
        expect(page.get_by_role("heading", name="Done")).to_be_visible()
        expect(page.locator("#job")).to_contain_text("5 leads rescored under v2")

        # The lead page loads the score card with the explanation.
        page.goto(f"{live_server.url}/leads/{ada}/")
        card = page.locator("#score-card")
        expect(card).to_contain_text("+25 decision maker (C-level, owner, VP)")
        expect(card).to_contain_text("+25 demo request, 3 days ago, decayed to")
        expect(card.get_by_text("Prospect")).to_be_visible()
        card.get_by_role("link", name="Why these scores?").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Scores of Ada Lovelace")
        # The one 400 is the refused save (the browser logs it); no CSP or script error.
        bad_save = "the server responded with a status of 400"
        assert [p for p in problems if bad_save not in p] == [], problems
        assert len(problems) == 1, problems

    active_forget()
    assert RuleSet.objects.get(version=2).status == RuleSetStatus.PUBLISHED
    assert Lead.objects.filter(temperature="warm").count() >= 2
