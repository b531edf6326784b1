"""Driving Debian's Chromium through Playwright, for every browser test: where Chromium is,
the marks of a browser test module, a fresh page, and the errors a page reports.

While Playwright's sync API is open it keeps an asyncio event loop "running" in this thread.
Django then refuses ORM calls (SynchronousOnlyOperation), and were that check switched off
(DJANGO_ALLOW_ASYNC_UNSAFE) it would give those calls a second set of connections, kept for
the async context, that no `connections.close_all()` after the browser has closed can see: on
PostgreSQL a session left open until the end, so the test database could not be dropped. So
every ORM call of a browser test happens before the browser starts (its page fixture depends
on the fixture that seeds the data), and a stray one inside the browser block fails loudly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

CHROMIUM = os.environ.get("LEADBASE_CHROMIUM") or shutil.which("chromium")

# The marks of every test module that drives Chromium (import them as its `pytestmark`).
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM,
        reason="No Chromium: install Debian's chromium or set LEADBASE_CHROMIUM to one.",
    ),
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def browser_page(
    *,
    width: int = 1200,
    height: int = 1000,
    timeout_ms: float = 10_000,
    setup: Callable[[BrowserContext], None] | None = None,
    **context: Any,
) -> Iterator[Page]:
    """A page of a fresh headless Chromium; `context` goes to `new_context` (locale, ...),
    `setup` may change the context first (permissions)."""
    assert CHROMIUM
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        ctx = chromium.new_context(viewport={"width": width, "height": height}, **context)
        if setup is not None:
            setup(ctx)
        ctx.set_default_timeout(timeout_ms)
        yield ctx.new_page()
        ctx.close()
        chromium.close()


def collect_problems(page: Page) -> list[str]:
    """The console errors and uncaught page errors `page` reports from now on (a CSP
    violation is a console error)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


@contextmanager
def browser(**context: Any) -> Iterator[tuple[Page, list[str]]]:
    """A fresh browser page, and the console errors and page errors it collects."""
    with browser_page(**context) as page:
        yield page, collect_problems(page)
