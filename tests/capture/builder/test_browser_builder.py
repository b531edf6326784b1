"""The form builder in a real browser: create a form, shape its two fields with HTMX, save
its settings, and copy the embed snippet. Debian's Chromium through Playwright, like
tests/browser.py (whose notes on ORM calls and the event loop apply here too: all
data is seeded before the browser starts, and the test checks only what the page shows)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from leadbase.accounts.models import Role, User
from tests.browser import BROWSER_MARKS, browser_page, collect_problems
from tests.conftest import PASSWORD, make_user

pytestmark = BROWSER_MARKS


@pytest.fixture
def marketer_seeded(transactional_db: None) -> User:
    return make_user("mia", Role.MARKETER)


@pytest.fixture
def page(marketer_seeded: User, live_server: LiveServer) -> Iterator[Page]:
    with browser_page(
        width=1400,
        height=1000,
        setup=lambda ctx: ctx.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=live_server.url
        ),
        locale="en-US",
    ) as page:
        yield page


def test_build_a_form_and_get_its_embed_snippet(page: Page, live_server: LiveServer) -> None:
    problems = collect_problems(page)

    page.goto(f"{live_server.url}/capture/")
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forms")

    # A new form: the slug it will get shows as the name is typed.
    page.get_by_role("link", name="New form").click()
    page.get_by_role("textbox", name="Name", exact=True).press_sequentially(
        "Spring Webinar 2026", delay=10
    )
    expect(page.get_by_label("Slug")).to_have_attribute("placeholder", "spring-webinar-2026")
    page.get_by_role("combobox", name="Purpose", exact=True).select_option("webinar")
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Spring Webinar 2026")
    labels = page.locator(".field-list .field-label")
    expect(labels).to_have_text(["Email", "First name"])

    # Shape the two fields with HTMX, without leaving the page: drop the first name, add
    # the company, and move it to the top.
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Remove First name").click()
    expect(labels).to_have_text(["Email"])
    page.locator(".add-field summary").click()
    page.get_by_role("textbox", name="Label", exact=True).last.fill("Company")
    page.get_by_role("combobox", name="Fills", exact=True).last.select_option("company")
    page.get_by_role("button", name="Add field").click()
    expect(labels).to_have_text(["Email", "Company"])
    expect(page.locator("#field-count")).to_contain_text("asks for 2 fields")
    page.get_by_role("button", name="Move Company up").click()
    expect(labels).to_have_text(["Company", "Email"])
    expect(page.locator(".form-preview label").first).to_have_text("Company")
    assert page.evaluate("window.__sameDocument") is True

    # Save the settings (a plain POST), then the page shows the snippet to paste.
    page.get_by_label("Allowed domains").fill("www.example.com")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".messages")).to_contain_text("The settings were saved.")
    expect(labels).to_have_text(["Company", "Email"])
    snippet = f'<script src="{live_server.url}/f/spring-webinar-2026/embed.js" async></script>'
    expect(page.locator("#embed-snippet")).to_have_text(snippet)
    copy = page.locator('button[data-copy="embed-snippet"]')
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    expect(page.locator("#html-snippet")).to_contain_text(
        f'<form method="post" action="{live_server.url}/f/spring-webinar-2026"'
    )
    expect(page).to_have_url(re.compile(r"/capture/forms/\d+/#settings$"))

    assert problems == [], problems  # no CSP violations, no script errors
