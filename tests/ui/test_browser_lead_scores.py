"""The lead list's score controls in a real browser: ticking grades and choosing prospects
filters live (HTMX) with a bookmarkable URL, and the rows show the grade and prospect mark.
(Every ORM call happens before Playwright starts: see tests/browser.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from leadbase.accounts.models import Role
from leadbase.leads.models import Lead
from leadbase.leads.services import lead_upsert
from tests.browser import BROWSER_MARKS, browser_page, collect_problems
from tests.conftest import PASSWORD, make_user

pytestmark = BROWSER_MARKS

# first name -> (fit, engagement, grade, prospect)
PEOPLE = {
    "Ada": (90.0, 10.0, "A", True),
    "Ben": (55.0, 70.0, "B", False),
    "Cy": (30.0, 40.0, "C", False),
    "Dot": (10.0, 95.0, "D", False),
    "Eve": (80.0, 5.0, "A", False),
}


@pytest.fixture
def page(transactional_db: None) -> Iterator[Page]:
    make_user("admin", Role.ADMIN)
    for name, (fit, engagement, grade, prospect) in PEOPLE.items():
        lead = lead_upsert(
            data={"email": f"{name.lower()}@example.com", "first_name": name}, source="test"
        ).lead
        Lead.objects.filter(pk=lead.pk).update(
            fit_score=fit,
            engagement_score=engagement,
            total_score=fit + engagement,
            fit_grade=grade,
            is_prospect=prospect,
        )
    with browser_page(width=1400, height=900, locale="en-US") as page:
        yield page


def test_grade_and_prospect_filters_work_live(page: Page, live_server: LiveServer) -> None:
    problems = collect_problems(page)
    page.goto(f"{live_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    rows = page.locator("table.leads tbody tr")
    expect(rows).to_have_count(5)
    page.evaluate("window.__sameDocument = true")

    # Ticking grade A shows the two A leads, with the grades in their rows.
    page.locator("input[name=grade][value=A]").check()
    expect(rows).to_have_count(2)
    expect(page.locator("td.col-grade .grade-A")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"\?grade=A&sort=-created_at$"))

    # A second grade widens the list; prospects only narrows it to Ada, marked.
    page.locator("input[name=grade][value=D]").check()
    expect(rows).to_have_count(3)
    page.get_by_label("Prospect", exact=True).select_option("yes")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada")
    expect(rows.first.locator(".prospect-mark")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?grade=A&grade=D&prospect=yes&sort=-created_at$"))
    assert page.evaluate("window.__sameDocument") is True

    # Sorting by engagement, and the bookmarkable URL on a fresh load.
    page.get_by_label("Prospect", exact=True).select_option("")
    page.get_by_label("Sort by").select_option("-engagement_score")
    expect(rows.first).to_contain_text("Dot")
    page.reload()
    expect(page.locator("input[name=grade][value=A]")).to_be_checked()
    expect(page.locator("input[name=grade][value=B]")).not_to_be_checked()
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Dot")

    assert problems == [], problems  # no CSP violations, no script errors
