"""Owner notification: who is told, what the email says, and that hostile submission values
never reach a header and are escaped in the HTML part."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leadbase.accounts.models import User
from leadbase.capture.models import Form, FormField
from leadbase.capture.optin import notification_recipient
from leadbase.capture.optin_emails import single_line
from leadbase.leads.models import Lead

from .conftest import BASE_URL, Handler, Submit

pytestmark = pytest.mark.django_db
HOSTILE_NAME = "Eve\r\nBcc: victim@evil.example\r\nX-Injected: yes"
XSS = "<script>alert(1)</script>"


def test_the_forms_owner_gets_a_summary_with_a_link_to_the_lead(
    make_form: Callable[..., Form], submit: Submit, mailbox: Handler, marketer: User
) -> None:
    form = make_form(name="Demo request", notify_owner=True, owner=marketer)
    FormField.objects.create(form=form, name="message", label="Your message", kind="textarea")
    _, result = submit(
        form,
        email="ann@example.com",
        first_name="Ann",
        last_name="Lee",
        extra={"message": "Call me"},
    )

    assert [r.rcpt_tos for r in mailbox.received] == [[marketer.email]]
    message = mailbox.received[0].message
    assert message["Subject"] == "New submission of Demo request: Ann Lee"
    assert message["Reply-To"] == "ann@example.com"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    lead_url = f"{BASE_URL}/leads/{result.lead.pk}/"
    assert lead_url in text.get_content() and lead_url in html.get_content()
    assert "Your message: Call me" in text.get_content()


def test_hostile_values_never_reach_headers_and_are_escaped_in_html(
    make_form: Callable[..., Form], submit: Submit, mailbox: Handler, marketer: User
) -> None:
    form = make_form(name=f"Form\r\nX-Form-Injected: 1 {XSS}", notify_owner=True, owner=marketer)
    FormField.objects.create(form=form, name="note", label=f"Note {XSS}")
    submit(
        form,
        email="eve@example.com",
        first_name=HOSTILE_NAME,
        extra={"note": f"{XSS}\r\nBcc: x@y.z"},
    )

    assert len(mailbox.received) == 1
    received = mailbox.received[0]
    assert received.rcpt_tos == [marketer.email], "no extra recipient"
    headers = {name.lower() for name in received.message}
    assert not headers & {"bcc", "x-injected", "x-form-injected"}, headers
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0].decode()
    for line in raw_headers.splitlines():
        assert not line.lower().startswith(("bcc:", "x-injected:", "x-form-injected:")), line
    subject = received.message["Subject"]
    assert "\n" not in subject and "\r" not in subject
    assert "Eve Bcc: victim@evil.example X-Injected: yes" in subject
    html = received.message.get_body(preferencelist=("html",))
    assert html is not None
    assert XSS not in html.get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.get_content()


def test_the_leads_owner_is_told_and_another_rep_never_is(
    make_form: Callable[..., Form],
    submit: Submit,
    mailbox: Handler,
    rep: User,
    other_rep: User,
    make_lead: Callable[..., Lead],
) -> None:
    make_lead(owner=other_rep, email="ann@example.com")
    form = make_form(notify_owner=True, owner=rep)
    submit(form, email="ann@example.com")
    assert [r.rcpt_tos for r in mailbox.received] == [[other_rep.email]]


def test_nobody_who_cannot_see_the_lead_is_told(
    make_form: Callable[..., Form],
    rep: User,
    marketer: User,
    make_lead: Callable[..., Lead],
) -> None:
    unassigned = make_lead()
    assert notification_recipient(form=make_form(owner=rep), lead=unassigned) is None
    assert notification_recipient(form=make_form(owner=marketer), lead=unassigned) == marketer


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda form, user: setattr(form, "notify_owner", False), id="notify-off"),
        pytest.param(lambda form, user: setattr(form, "owner", None), id="no-owner"),
        pytest.param(lambda form, user: setattr(user, "email", ""), id="owner-without-email"),
        pytest.param(lambda form, user: setattr(user, "is_active", False), id="owner-inactive"),
    ],
)
def test_nobody_is_emailed(
    make_form: Callable[..., Form],
    submit: Submit,
    mailbox: Handler,
    marketer: User,
    setup: Callable[[Form, User], None],
) -> None:
    form = make_form(notify_owner=True, owner=marketer)
    setup(form, marketer)
    form.save()
    marketer.save()
    submit(form)
    assert mailbox.received == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("a\r\nb", "a b"),
        ("a\nBcc: x@y.z", "a Bcc: x@y.z"),
        ("tab\there", "tab here"),
        ("line\u2028separator\u0085next", "line separator next"),
        ("zero\u200bwidth\x00nul\x1bescape", "zerowidthnulescape"),
        ("x" * 200, "x" * 99 + "…"),
    ],
)
def test_single_line(value: str, expected: str) -> None:
    assert single_line(value) == expected
