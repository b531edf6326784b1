"""Double opt-in: the confirmation email over real SMTP, the confirm page (GET shows, POST
confirms), what confirming records, and links that cannot be used."""

from __future__ import annotations

import re
import time
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from leadbase.capture.models import Form, FormField, Submission
from leadbase.capture.optin_links import (
    CONFIRM_SALT,
    confirm_token_make,
    download_token_make,
)
from leadbase.capture.services_submissions import submission_process
from leadbase.leads.models import Consent, Event, Lead
from leadbase.leads.selectors import CONSENT_CONFIRMATION_REQUESTED, lead_emailable

from .conftest import BASE_URL, Handler, Received, Submit

pytestmark = pytest.mark.django_db
CONFIRM_LINK = re.compile(re.escape(BASE_URL) + r"(/f/confirm/[A-Za-z0-9_:\-.]+)")
SUBMIT_AGAIN = "please submit the form on the"  # ... website again: you will get a new email


def confirm_path(received: Received) -> str:
    """The confirmation link's path, checked to be the same in the text and the HTML part."""
    text = received.message.get_body(preferencelist=("plain",))
    html = received.message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, "the email needs a text and an HTML part"
    in_text = CONFIRM_LINK.findall(text.get_content())
    in_html = CONFIRM_LINK.findall(html.get_content())
    assert in_text and in_text[0] in in_html, (in_text, in_html)
    return str(in_text[0])


def test_double_opt_in_sends_a_confirmation_email_over_smtp(
    make_form: type[Form], submit: Submit, mailbox: Handler
) -> None:
    form = make_form(name="Spring newsletter", double_opt_in=True)
    submit(form, email="ann@example.com", first_name="Ann")

    assert len(mailbox.received) == 1
    received = mailbox.received[0]
    message = received.message
    assert received.rcpt_tos == ["ann@example.com"]
    assert message["To"] == "ann@example.com"
    assert message["From"] == "Brightwave <hello@brightwave.example>"
    assert "Spring newsletter" in message["Subject"] and "Brightwave" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    assert confirm_path(received).startswith("/f/confirm/")
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "Hello Ann" in body.get_content()
    assert "7 days" in body.get_content()


def test_unconfirmed_consent_is_not_emailable_until_the_lead_confirms(
    make_form: type[Form], submit: Submit, mailbox: Handler, client: Client
) -> None:
    form = make_form(double_opt_in=True)
    _, result = submit(form)
    lead = result.lead
    assert not lead_emailable(lead=lead, purpose=form.consent_purpose)
    assert Event.objects.filter(lead=lead, type=CONSENT_CONFIRMATION_REQUESTED).count() == 1
    path = confirm_path(mailbox.received[0])

    # A GET (a mail scanner opening the link) shows the button and confirms nothing.
    page = client.get(path)
    assert page.status_code == HTTPStatus.OK
    assert b'method="post"' in page.content and b"Yes, confirm" in page.content
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in page["Cache-Control"]
    assert not Consent.objects.filter(lead=lead, confirmed_at__isnull=False).exists()
    assert not lead_emailable(lead=lead, purpose=form.consent_purpose)

    done = client.post(path)
    assert done.status_code == HTTPStatus.OK
    assert b"Your email address is confirmed" in done.content
    consent = Consent.objects.get(lead=lead, purpose=form.consent_purpose)
    assert consent.confirmed_at is not None
    event = Event.objects.get(lead=lead, type="consent_confirmed")
    assert event.properties["purpose"] == form.consent_purpose
    assert event.properties["form"] == form.slug
    assert lead_emailable(lead=lead, purpose=form.consent_purpose)


def test_confirming_twice_is_harmless(
    make_form: type[Form], submit: Submit, mailbox: Handler, client: Client
) -> None:
    form = make_form(double_opt_in=True)
    _, result = submit(form)
    path = confirm_path(mailbox.received[0])
    client.post(path)
    first = Consent.objects.get(lead=result.lead).confirmed_at

    again = client.post(path)

    assert again.status_code == HTTPStatus.OK
    assert b"already confirmed" in again.content
    assert Consent.objects.get(lead=result.lead).confirmed_at == first
    assert Event.objects.filter(lead=result.lead, type="consent_confirmed").count() == 1


def test_without_double_opt_in_consent_counts_at_once_and_no_email_is_sent(
    make_form: type[Form], submit: Submit, mailbox: Handler
) -> None:
    form = make_form(double_opt_in=False)
    _, result = submit(form)
    assert mailbox.received == []
    assert lead_emailable(lead=result.lead, purpose=form.consent_purpose)


def test_no_confirmation_email_when_the_submission_granted_no_consent(
    make_form: type[Form], submit: Submit, mailbox: Handler
) -> None:
    form = make_form(double_opt_in=True, consent_required=False)
    _, result = submit(form, consent=False)
    assert mailbox.received == []
    assert not lead_emailable(lead=result.lead, purpose=form.consent_purpose)


def test_a_lead_who_confirmed_before_is_not_asked_again(
    make_form: type[Form], submit: Submit, mailbox: Handler, client: Client
) -> None:
    first_form = make_form(double_opt_in=True)
    _, result = submit(first_form)
    client.post(confirm_path(mailbox.received[0]))

    second_form = make_form(double_opt_in=True)
    submit(second_form)

    assert len(mailbox.received) == 1, "no second confirmation email"
    assert not Consent.objects.filter(lead=result.lead, confirmed_at__isnull=True).exists()
    assert lead_emailable(lead=result.lead, purpose=second_form.consent_purpose)


def test_a_second_submission_before_confirming_sends_a_new_link_and_either_confirms_all(
    make_form: type[Form], submit: Submit, mailbox: Handler, client: Client
) -> None:
    form = make_form(double_opt_in=True)
    _, result = submit(form)
    first_link = confirm_path(mailbox.received[0])
    time.sleep(0.01)  # the second consent is recorded after the first link was issued
    submit(form)
    assert len(mailbox.received) == 2

    client.post(first_link)

    # The older link was issued before the second consent was recorded, so it confirms
    # only the first one; the lead is emailable once the newest consent is confirmed.
    assert not lead_emailable(lead=result.lead, purpose=form.consent_purpose)
    client.post(confirm_path(mailbox.received[1]))
    assert lead_emailable(lead=result.lead, purpose=form.consent_purpose)
    assert not Consent.objects.filter(lead=result.lead, confirmed_at__isnull=True).exists()


def _tamper(token: str) -> str:
    index = len(token) // 2
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


@pytest.mark.parametrize(
    "make_bad",
    [
        pytest.param(lambda good, sub: _tamper(good), id="one-character-changed"),
        pytest.param(lambda good, sub: good[:-3], id="cut-short"),
        pytest.param(lambda good, sub: good + "x", id="extra-character"),
        pytest.param(lambda good, sub: "not-a-token", id="garbage"),
        pytest.param(lambda good, sub: "x" * 2000, id="overlong"),
        # A download link's token is signed with another salt: never a confirmation.
        pytest.param(
            lambda good, sub: download_token_make(submission=sub, email="ann@example.com"),
            id="other-kind-of-link",
        ),
        # Signed with another key: what a forger without SECRET_KEY can make.
        pytest.param(
            lambda good, sub: signing.dumps(
                {"s": sub.pk, "e": "ann@example.com", "t": int(time.time() * 1000)},
                key="not-the-secret-key",
                salt=CONFIRM_SALT,
            ),
            id="forged",
        ),
    ],
)
def test_forged_or_tampered_links_get_a_clear_400_page(
    make_form: type[Form], submit: Submit, client: Client, make_bad: object
) -> None:
    form = make_form(double_opt_in=True)
    submission, result = submit(form)
    good = confirm_token_make(submission=submission, email="ann@example.com")
    bad = make_bad(good, submission)  # type: ignore[operator]

    for response in (client.get(f"/f/confirm/{bad}"), client.post(f"/f/confirm/{bad}")):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert b"This link is not valid" in response.content
        assert SUBMIT_AGAIN.encode() in response.content
    assert not Consent.objects.filter(lead=result.lead, confirmed_at__isnull=False).exists()


def test_expired_link_gets_a_400_page_saying_to_submit_again(
    make_form: type[Form], submit: Submit, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = make_form(double_opt_in=True)
    submission, result = submit(form)
    eight_days_ago = time.time() - 8 * 86400
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: eight_days_ago)
        old = confirm_token_make(submission=submission, email="ann@example.com")

    response = client.post(f"/f/confirm/{old}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"This link has expired" in response.content
    assert SUBMIT_AGAIN.encode() in response.content
    assert not Consent.objects.filter(lead=result.lead, confirmed_at__isnull=False).exists()


def test_link_of_a_deleted_lead_answers_gone(
    make_form: type[Form], submit: Submit, client: Client
) -> None:
    form = make_form(double_opt_in=True)
    submission, result = submit(form)
    token = confirm_token_make(submission=submission, email="ann@example.com")
    Lead.objects.filter(pk=result.lead.pk).delete()

    response = client.post(f"/f/confirm/{token}")

    assert response.status_code == HTTPStatus.GONE
    assert b"no longer exists" in response.content


def test_confirmation_link_is_absolute_and_names_this_leadbase(
    make_form: type[Form], submit: Submit, mailbox: Handler
) -> None:
    submit(make_form(double_opt_in=True))
    text = mailbox.received[0].message.get_body(preferencelist=("plain",))
    assert text is not None
    url = CONFIRM_LINK.search(text.get_content())
    assert url is not None
    assert urlsplit(url.group(0)).netloc == "leads.example.test"


def test_form_processing_calls_the_followups(
    make_form: type[Form],
    mailbox: Handler,
    client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    """The real path: submission_process (form processing) ends in submission_followups."""
    form = make_form(double_opt_in=True)
    FormField.objects.create(form=form, name="email", label="Email", kind="email", maps_to="email")
    submission = Submission.objects.create(
        form=form,
        data={"email": "zoe@example.com"},
        email="zoe@example.com",
        context={"consent_text": form.consent_text},
    )
    with django_capture_on_commit_callbacks(execute=True):
        submission_process(submission=submission)

    assert [r.rcpt_tos for r in mailbox.received] == [["zoe@example.com"]]
    lead = Lead.objects.get(email="zoe@example.com")
    assert not lead_emailable(lead=lead, purpose=form.consent_purpose)
    client.post(confirm_path(mailbox.received[0]))
    assert lead_emailable(lead=lead, purpose=form.consent_purpose)
