"""The tracking snippet in a real browser (Debian's Chromium through Playwright), on a page of
another origin under a strict CSP: page view and custom event stored for the visitor, consent
mode sends nothing before consent, and a form submitted on the page links the visitor's
history to the new lead.

No ORM call happens while Playwright runs (its event loop would make Django refuse them): the
database is read after the browser has closed."""

from __future__ import annotations

from playwright.sync_api import expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from leadbase.capture.models import Form
from leadbase.leads.models import Event, Lead, Visitor
from tests.browser import BROWSER_MARKS, browser
from tests.capture.forms.conftest import create_form, process_all
from tests.capture.forms.test_browser_forms import fill_and_send, other_site

pytestmark = BROWSER_MARKS


def site_page(leadbase: str, *, options: str = "", form: bool = False) -> str:
    policy = (
        f"default-src 'none'; script-src {leadbase}; connect-src {leadbase}; "
        f"style-src {leadbase}; img-src 'none'; form-action 'none'; base-uri 'none'"
    )
    embed = (
        f'<div data-leadbase-form="demo"></div><script src="{leadbase}/f/demo/embed.js" async>'
        "</script>"
        if form
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>Acme pricing</title></head>
<body><h1>Acme</h1>{embed}
<script src="{leadbase}/t/lb.js" {options} async></script>
</body></html>"""


def visitor_of(page_eval: object) -> str:
    assert isinstance(page_eval, str) and len(page_eval) >= 8
    return page_eval


def test_page_view_and_custom_event_from_another_origin(live_server: LiveServer) -> None:
    with other_site(site_page(live_server.url)) as port, browser() as (page, problems):
        page.goto(f"http://127.0.0.1:{port}/pricing?utm_source=ads&utm_medium=cpc")
        page.wait_for_function("window.leadbase && window.leadbase.tracking.sent >= 1")
        page.evaluate("window.leadbase.track('video_played', {video: 'intro'})")
        page.wait_for_function("window.leadbase.tracking.sent >= 2")
        visitor = visitor_of(page.evaluate("window.leadbase.visitorId"))
        cookie = page.evaluate("document.cookie")
        page.wait_for_timeout(300)  # beacons are sent asynchronously
        assert problems == []

    assert f"lb_vid={visitor}" in cookie
    events = {e.type: e for e in Event.objects.filter(visitor_id=visitor)}
    assert set(events) == {"pricing_page_view", "video_played"}
    view = events["pricing_page_view"]
    assert view.lead is None
    assert view.properties["utm_source"] == "ads" and view.properties["title"] == "Acme pricing"
    assert events["video_played"].properties == {"video": "intro"}


def test_consent_mode_sends_nothing_until_consent(live_server: LiveServer) -> None:
    page_html = site_page(live_server.url, options='data-require-consent="true"')
    with other_site(page_html) as port, browser() as (page, problems):
        page.goto(f"http://127.0.0.1:{port}/home")
        page.wait_for_function("typeof (window.leadbase || {}).consent === 'function'")
        page.wait_for_timeout(300)
        sent_before = page.evaluate("window.leadbase.tracking.sent")
        visitor_before = page.evaluate("window.leadbase.visitorId || ''")
        page.evaluate("window.leadbase.consent(true)")
        page.wait_for_function("window.leadbase.tracking.sent >= 1")
        visitor = visitor_of(page.evaluate("window.leadbase.visitorId"))
        page.wait_for_timeout(300)
        assert problems == []

    assert (sent_before, visitor_before) == (0, "")
    assert Event.objects.filter(visitor_id=visitor, type="page_view").count() == 1


def test_a_form_on_the_page_links_the_visitors_history_to_the_lead(
    live_server: LiveServer, settings: Settings
) -> None:
    settings.LEADBASE_FORMS_MIN_FILL_SECONDS = 0
    form: Form = create_form(allowed_domains="127.0.0.1")
    assert form.slug == "demo"
    page_html = site_page(live_server.url, form=True)
    with other_site(page_html) as port, browser() as (page, problems):
        page.goto(f"http://127.0.0.1:{port}/pricing")
        page.wait_for_function("window.leadbase && window.leadbase.tracking.sent >= 1")
        visitor = visitor_of(page.evaluate("window.leadbase.visitorId"))
        expect(page.locator("form.lb-form")).to_be_visible()
        fill_and_send(page)
        expect(page.get_by_role("status")).to_contain_text("Thank you!")
        assert problems == []

    process_all()
    lead = Lead.objects.get()
    assert Visitor.objects.get(visitor_id=visitor).lead == lead
    assert Event.objects.filter(lead=lead, type="pricing_page_view", visitor_id=visitor).exists()
    assert not Event.objects.filter(lead__isnull=True).exists()
