"""Public forms in a real browser (Debian's Chromium through Playwright): the hosted page with
and without JavaScript, and the embed on a page of another origin under a strict CSP.

As in tests/browser.py, no ORM call happens while Playwright runs (its event loop
would make Django refuse them): data is seeded before `browser()` opens, and the database is
checked after it has closed."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.leads.models import Consent, Event, Lead
from tests.browser import BROWSER_MARKS, browser
from tests.capture.forms.conftest import CONSENT_TEXT, create_form, process_all

pytestmark = BROWSER_MARKS


@pytest.fixture
def demo_form(transactional_db: None, settings: Settings) -> Form:
    settings.LEADBASE_FORMS_MIN_FILL_SECONDS = 0  # a script fills faster than people
    # 127.0.0.1 may embed the form; "localhost" (the same machine, another origin) may not
    return create_form(allowed_domains="www.acme.example\n127.0.0.1")


@contextmanager
def other_site(html: str) -> Iterator[int]:
    """A small web server on another loopback port that serves `html` at every path, with
    a strict CSP in its header and a tracking cookie as the tracking script would set."""
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Set-Cookie", "lb_vid=v-42; Path=/")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def host_page(leadbase: str) -> str:
    """A page of the customer's site: a strict CSP (no inline script or style) that lets in
    Leadbase's origin only where the embed needs it (documented in docs/capture-forms.md)."""
    policy = (
        f"default-src 'none'; script-src {leadbase}; connect-src {leadbase}; "
        f"style-src {leadbase}; img-src 'none'; form-action 'none'; base-uri 'none'"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>Acme: book a demo</title></head>
<body><h1>Acme</h1>
<p>Fill in the form below.</p>
<div data-leadbase-form="demo"></div>
<script src="{leadbase}/f/demo/embed.js" async></script>
</body></html>"""


def expect_honeypot_out_of_sight(page: Page) -> None:
    """Not on screen for people, not in the accessibility tree for screen readers."""
    expect(page.locator("[name='lb.website']")).not_to_be_in_viewport()
    expect(page.get_by_role("textbox", name="Leave this field empty")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Work email")).to_have_count(1)


def fill_and_send(page: Page) -> None:
    page.get_by_label("Work email").fill("grace@navylabs.example")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Team size").select_option("11-50")
    page.get_by_label(CONSENT_TEXT).check()
    page.get_by_role("button", name="Submit").click()


def test_hosted_page_fill_and_submit(demo_form: Form, live_server: LiveServer) -> None:
    with browser() as (page, problems):
        page.goto(f"{live_server.url}/f/demo?utm_source=newsletter&utm_medium=email&ref=p-1")
        expect(page.get_by_role("heading", level=1)).to_have_text("Book a demo")
        expect_honeypot_out_of_sight(page)
        fill_and_send(page)
        expect(page.get_by_role("status")).to_have_text(
            "Thank you! We have received your submission."
        )
        assert problems == []

    [submission] = process_all()
    assert submission.status == SubmissionStatus.PROCESSED
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.country) == ("grace@navylabs.example", "Grace", "US")
    assert (lead.utm_source, lead.source_channel) == ("newsletter", "email")
    assert lead.attributes == {"team_size": "11-50", "partner_ref": "p-1"}
    assert Consent.objects.get(lead=lead).text_shown == CONSENT_TEXT
    assert set(Event.objects.filter(lead=lead).values_list("type", flat=True)) == {
        "lead_created",
        "form_submitted",
        "demo_request",
    }


def test_hosted_page_works_with_javascript_off(demo_form: Form, live_server: LiveServer) -> None:
    with browser(java_script_enabled=False) as (page, problems):
        page.goto(f"{live_server.url}/f/demo")
        # the browser checks the required fields itself; the server checks everything
        page.get_by_label("Work email").fill("not-an-address@")
        page.get_by_label(CONSENT_TEXT).check()
        page.get_by_label("Work email").evaluate("e => e.removeAttribute('type')")
        page.get_by_role("button", name="Submit").click()
        expect(page.locator("#f-email-error")).to_contain_text("Enter a valid email address")
        assert [p for p in problems if "status of 400" not in p] == []  # the page said 400
        problems.clear()
        fill_and_send(page)
        expect(page.get_by_role("status")).to_contain_text("Thank you!")
        assert problems == []

    assert Submission.objects.get().status == SubmissionStatus.RECEIVED
    process_all()
    assert Lead.objects.get().email == "grace@navylabs.example"


def test_embed_on_another_origin_renders_and_submits(
    demo_form: Form, live_server: LiveServer
) -> None:
    with other_site(host_page(live_server.url)) as port:
        landing = f"http://127.0.0.1:{port}/demo?utm_source=linkedin&utm_medium=paid_social&ref=p-9"
        with browser() as (page, problems):
            page.goto(landing)
            form = page.locator("div[data-leadbase-form=demo] form.lb-form")
            expect(form).to_be_visible()
            expect_honeypot_out_of_sight(page)
            # one namespace, nothing else
            assert page.evaluate("Object.keys(window.leadbase)") == ["forms"]
            fill_and_send(page)
            expect(page.get_by_role("status")).to_have_text(
                "Thank you! We have received your submission."
            )
            assert problems == []

    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.RECEIVED
    assert submission.context["landing_page"] == landing
    assert submission.context["visitor_id"] == "v-42"
    assert submission.idempotency_key  # the embed sends one
    process_all()
    lead = Lead.objects.get()
    assert lead.email == "grace@navylabs.example"
    assert (lead.utm_source, lead.source_channel) == ("linkedin", "paid_social")
    assert lead.attributes["partner_ref"] == "p-9"
    assert Consent.objects.get(lead=lead).text_shown == CONSENT_TEXT
    submitted = Event.objects.get(lead=lead, type="form_submitted")
    assert submitted.properties["landing_page"] == landing
    assert submitted.properties["visitor_id"] == "v-42"
    assert Event.objects.filter(lead=lead, type="demo_request").exists()


def test_a_page_of_an_origin_not_allowed_cannot_submit(
    demo_form: Form, live_server: LiveServer
) -> None:
    with other_site(host_page(live_server.url)) as port, browser() as (page, _problems):
        page.goto(f"http://localhost:{port}/demo")  # localhost is not an allowed domain
        expect(page.locator("form.lb-form")).to_be_visible()  # the script itself loads
        fill_and_send(page)
        expect(page.locator(".lb-alert")).to_contain_text("could not be sent")
        # nor with a request that needs no preflight (as a plain HTML form would send)
        status = page.evaluate(
            """async (url) => {
                    const r = await fetch(url, {method: "POST", mode: "no-cors",
                        body: new URLSearchParams({email: "x@evil.example"})});
                    return r.type;
                }""",
            f"{live_server.url}/f/demo",
        )
        assert status == "opaque"

    assert not Submission.objects.exists()
