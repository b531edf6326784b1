"""The webhook pages in a real browser: create a source, read its setup, filter deliveries.

Uses Debian's Chromium through Playwright like tests/browser.py (skipped without it).
With LEADBASE_SCREENSHOT_DIR set, saves the pages there as PNG files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from leadbase.accounts.models import Role
from leadbase.capture.models import WebhookSource
from leadbase.capture.services_hooks import webhook_source_create
from leadbase.capture.signatures import facebook_signature
from tests.browser import BROWSER_MARKS, browser_page, collect_problems
from tests.conftest import PASSWORD, make_user

from .conftest import FB_SECRET, fb_body, fb_change

SHOTS = os.environ.get("LEADBASE_SCREENSHOT_DIR", "")
XSS = "<img src=x onerror=alert(1)>"

pytestmark = BROWSER_MARKS


def _post(body: dict[str, object]) -> None:
    raw = json.dumps(body).encode()
    Client().post(
        "/hooks/facebook",
        raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": facebook_signature(FB_SECRET, raw)},
    )


@pytest.fixture
def seeded(transactional_db: None) -> WebhookSource:
    """Everything the ORM must do happens before the browser starts (see tests/ui)."""
    make_user("admin", Role.ADMIN)
    source = webhook_source_create(
        kind="facebook", name="Spring ads", secret=FB_SECRET, verify_token="tok-123"
    )
    _post(fb_body(fb_change("101", email="grace@example.com", full_name="Grace Hopper")))
    _post(fb_body(fb_change("101", email="grace@example.com")))  # a redelivery
    _post(fb_body(fb_change("102", email="nope", first_name=XSS)))  # an invalid lead
    return source


@pytest.fixture
def page(seeded: WebhookSource) -> Iterator[Page]:
    with browser_page(width=1400, height=1000, locale="en-US") as page:
        yield page


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_an_admin_sets_up_a_webhook_and_reads_its_deliveries(
    page: Page, live_server: LiveServer, seeded: WebhookSource
) -> None:
    problems = collect_problems(page)
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))

    page.goto(f"{live_server.url}/capture/webhooks/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect(page.locator("table.capture-table").first).to_contain_text(
        f"{live_server.url}/hooks/facebook"
    )
    shot(page, "webhooks-list")

    # A new generic source: its secret is generated and its own URL shown.
    page.get_by_role("link", name="New webhook source").click()
    page.get_by_label("Platform").select_option("generic")
    page.get_by_label("Name").fill("Typeform")
    page.get_by_label("Field mapping").fill('{"Work email": "email"}')
    shot(page, "webhooks-new")
    page.get_by_role("button", name="Create source").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Typeform")
    expect(page.locator("#hook-url")).to_have_value(re.compile(r"/hooks/generic/[0-9a-f-]{36}$"))
    page.get_by_text("Show secret", exact=True).click()
    expect(page.get_by_label("Secret")).to_have_value(re.compile(r"^[\w-]{40,}$"))

    # The Facebook source's deliveries, filtered live.
    page.goto(f"{live_server.url}/capture/webhooks/{seeded.pk}/")
    rows = page.locator("#deliveries tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#deliveries")).to_contain_text(XSS)  # shown as text, not markup
    shot(page, "webhooks-detail")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Status").select_option("duplicate")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"\?status=duplicate$"))
    assert page.evaluate("window.__sameDocument") is True

    assert problems == [], problems  # no CSP violations, no script run from a payload
