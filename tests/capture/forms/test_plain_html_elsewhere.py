"""A plain HTML form pasted into one of the form's allowed sites posts without a fill-time
token: the browser's Referer/Origin vouches for the page, so it is processed, not held."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.leads.models import Lead

from .conftest import process_all, valid_data

pytestmark = pytest.mark.django_db


def _post(client: Client, form: Form, **headers: str) -> Submission:
    data = valid_data(form)
    data.pop("lb.token", None)
    response = client.post(f"/f/{form.slug}", data=data, headers=headers)
    assert response.status_code == HTTPStatus.OK, response.content
    return Submission.objects.get()


@pytest.mark.parametrize(
    "headers",
    [
        {"Referer": "https://www.acme.example/contact.html"},
        {"Origin": "https://www.acme.example", "Referer": "https://www.acme.example/x"},
    ],
)
def test_a_plain_form_on_an_allowed_site_is_processed(
    client: Client, form: Form, headers: dict[str, str]
) -> None:
    submission = _post(client, form, **headers)
    assert submission.status == SubmissionStatus.RECEIVED
    assert submission.context["fill_time_checked"] is False
    [processed] = process_all()
    assert processed.status == SubmissionStatus.PROCESSED
    assert Lead.objects.get().email == "ann.lee@acme.example"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a script: no browser vouches for the page
        {"Referer": "https://elsewhere.example/page"},
        {"Referer": "not a url"},
    ],
)
def test_without_a_token_or_an_allowed_page_it_is_held(
    client: Client, form: Form, headers: dict[str, str]
) -> None:
    submission = _post(client, form, **headers)
    assert submission.status == SubmissionStatus.SPAM
    assert "no form token" in submission.spam_reason


def test_the_honeypot_still_applies_to_plain_forms(client: Client, form: Form) -> None:
    data = valid_data(form, **{"lb.website": "http://spam.example"})
    data.pop("lb.token", None)
    headers = {"Referer": "https://www.acme.example/contact.html"}
    assert client.post(f"/f/{form.slug}", data=data, headers=headers).status_code == 200
    assert Submission.objects.get().status == SubmissionStatus.SPAM
