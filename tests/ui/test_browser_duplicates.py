"""Duplicate suggestions in a real browser: "Not a duplicate" swaps its card in place with
htmx, "Merge" asks first and then shows the kept lead. (See tests/browser.py for why every
ORM call happens before Playwright starts.)"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from django.urls import get_resolver
from django.utils import timezone
from playwright.sync_api import Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from leadbase.accounts.models import Role
from leadbase.leads.models import DuplicateSuggestion, Lead
from leadbase.leads.services import lead_upsert
from tests.browser import BROWSER_MARKS, browser_page, collect_problems
from tests.conftest import PASSWORD, make_user

pytestmark = BROWSER_MARKS


def seed() -> dict[str, int]:
    """Two pairs of look-alike leads; returns the ids the test navigates to."""
    make_user("mia", Role.MARKETER)
    ids: dict[str, int] = {}
    for first, last in (("Ann", "Lee"), ("Bo", "Berg")):
        older = lead_upsert(
            data={"email": f"{first.lower()}@acme.example", "first_name": first, "last_name": last},
            source="test",
            at=timezone.now() - dt.timedelta(days=3),
        ).lead
        Lead.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
        newer = lead_upsert(
            data={
                "email": f"{first.lower()}.{last.lower()}@acme.example",
                "first_name": first,
                "last_name": last,
                "job_title": "CTO",
            },
            source="test",
        ).lead
        DuplicateSuggestion.objects.get_or_create(
            lead=newer, candidate=older, defaults={"reason": "same name at acme.example"}
        )
        ids[f"{first} older"], ids[f"{first} newer"] = older.pk, newer.pk
    return ids


@pytest.fixture
def seeded(transactional_db: None) -> dict[str, int]:
    # Import every view module now rather than in the live server's first request, whose
    # import time would count against the browser's timeouts.
    assert get_resolver().url_patterns
    return seed()


@pytest.fixture
def page(seeded: dict[str, int]) -> Iterator[Page]:
    with browser_page(width=1400, height=900, locale="en-US") as page:
        yield page


def test_dismiss_in_place_and_merge_after_confirming(
    page: Page, live_server: LiveServer, seeded: dict[str, int]
) -> None:
    problems = collect_problems(page)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)

    page.goto(f"{live_server.url}/accounts/login/?next=/duplicates/")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/duplicates/")
    cards = page.locator("ul.duplicates > li.duplicate")
    expect(cards).to_have_count(2)

    # "Not a duplicate": htmx swaps the card for a note; the page is not reloaded.
    page.evaluate("window.__sameDocument = true")
    bo = page.locator(f"#duplicate-{seeded_suggestion(page, 'Bo')}")
    bo.get_by_role("button", name="Not a duplicate").click()
    expect(bo).to_have_text(re.compile("Marked as not a duplicate: Bo Berg"))
    assert page.evaluate("window.__sameDocument") is True

    # "Merge" from the newer lead's page asks first, then shows the kept (older) lead.
    page.goto(f"{live_server.url}/leads/{seeded['Ann newer']}/")
    section = page.locator("#duplicates")
    expect(section).to_contain_text("same name at acme.example")
    section.get_by_role("button", name="Merge").click()
    expect(page).to_have_url(f"{live_server.url}/leads/{seeded['Ann older']}/")
    assert len(dialogs) == 1 and "Merge these two leads?" in dialogs[0]
    expect(page.get_by_role("heading", level=1)).to_have_text("Ann Lee")
    expect(page.locator(".messages")).to_contain_text(f"Merged lead #{seeded['Ann newer']}")
    expect(page.locator("#duplicates")).to_have_count(0)
    expect(page.locator(".facts").first).to_contain_text("CTO")  # filled from the merged lead

    # The Duplicates page has nothing left to decide.
    page.get_by_role("link", name="← All leads").click()
    page.get_by_role("link", name="Duplicates").click()
    expect(page.get_by_text("No open duplicate suggestions.")).to_be_visible()

    assert problems == [], problems  # no CSP violations, no script errors


def seeded_suggestion(page: Page, first_name: str) -> str:
    """The id of the card whose leads are called `first_name` (read from the page)."""
    card = page.locator("li.duplicate", has_text=f"{first_name} ").first
    card_id = card.get_attribute("id") or ""
    return card_id.removeprefix("duplicate-")
