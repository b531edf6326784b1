"""Spam signals hold a submission (same answer as success), and a person can release it."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from pytest_django import Settings

from leadbase.accounts.models import User
from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.capture.services_submissions import submission_release
from leadbase.capture.spam import (
    email_is_disposable,
    fill_token_check,
    fill_token_make,
)
from leadbase.core.errors import ApplicationError, PermissionDenied
from leadbase.leads.models import Event, Lead
from tests.capture.forms.conftest import PostJSON, create_form, old_token, process_all, valid_data

pytestmark = pytest.mark.django_db

SUCCESS = {"ok": True, "message": "Thank you! We have received your submission.", "redirect": None}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        # a bot filled the field people never see
        ({"lb.website": "http://spam.example"}, "honeypot field filled in"),
        # no token: not posted from a page Leadbase rendered
        ({"lb.token": None}, "no form token"),
        # posted 0.5 s after the page was shown
        ({"lb.token": "fast"}, "faster than the minimum of 3 s"),
        # a token someone edited
        ({"lb.token": "eyJmIjoxLCJ0IjoxfQ:forged"}, "form token with a bad signature"),
        # shown three days ago
        ({"lb.token": "old"}, "form token expired"),
    ],
)
def test_spam_is_held_with_its_reason_and_answered_like_a_success(
    form: Form, post_json: PostJSON, overrides: dict[str, Any], reason: str
) -> None:
    if overrides.get("lb.token") == "fast":
        overrides["lb.token"] = fill_token_make(form_id=form.pk, now=time.time() - 0.5)
    elif overrides.get("lb.token") == "old":
        overrides["lb.token"] = old_token(form, seconds=3 * 24 * 3600)

    response = post_json(form, valid_data(form, **overrides))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == SUCCESS
    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.SPAM
    assert reason in submission.spam_reason
    assert process_all() == []  # nothing waits for the worker
    assert not Lead.objects.exists()


def test_token_of_another_form_is_spam(form: Form, post_json: PostJSON) -> None:
    other = create_form(slug="other")
    post_json(form, valid_data(form, **{"lb.token": old_token(other)}))
    assert Submission.objects.get().spam_reason == "form token of another form"


def test_fill_time_limits_come_from_the_settings(form: Form, settings: Settings) -> None:
    token = fill_token_make(form_id=form.pk, now=time.time() - 10)
    assert fill_token_check(token, form_id=form.pk) == ""
    settings.LEADBASE_FORMS_MIN_FILL_SECONDS = 20
    assert "faster than the minimum of 20 s" in fill_token_check(token, form_id=form.pk)
    settings.LEADBASE_FORMS_MIN_FILL_SECONDS = 0
    settings.LEADBASE_FORMS_TOKEN_MAX_AGE_SECONDS = 5
    assert "expired" in fill_token_check(token, form_id=form.pk)
    assert fill_token_check(["not", "a", "token"], form_id=form.pk) == "malformed form token"


def test_plain_html_spam_gets_the_thank_you_page_too(form: Form, client: Client) -> None:
    response = client.post(f"/f/{form.slug}", valid_data(form, **{"lb.website": "x"}))
    assert response.status_code == HTTPStatus.OK
    assert "Thank you!" in response.content.decode()
    assert Submission.objects.get().status == SubmissionStatus.SPAM


def test_disposable_address_is_flagged_not_refused(form: Form, post_json: PostJSON) -> None:
    response = post_json(form, valid_data(form, email="someone@mailinator.com"))

    assert response.status_code == HTTPStatus.OK
    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.RECEIVED
    assert submission.context["disposable_email"] is True
    process_all()
    assert Lead.objects.get().attributes["disposable_email"] is True


def test_disposable_address_is_refused_when_the_setting_says_so(
    form: Form, post_json: PostJSON, settings: Settings
) -> None:
    settings.LEADBASE_FORMS_REJECT_DISPOSABLE = True
    response = post_json(form, valid_data(form, email="someone@mailinator.com"))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "throwaway" in response.json()["errors"]["email"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("address", "disposable"),
    [
        ("a@mailinator.com", True),
        ("a@MAILINATOR.COM", True),
        ("a@eu.mailinator.com", True),  # a subdomain of a throwaway domain
        ("a@acme.example", False),
        ("a@gmail.com", False),
        ("no-at-sign", False),
    ],
)
def test_disposable_domains(address: str, disposable: bool) -> None:
    assert email_is_disposable(address) is disposable


# --- Release --------------------------------------------------------------------------------


def held(form: Form, post_json: PostJSON, **overrides: Any) -> Submission:
    post_json(form, valid_data(form, **{"lb.website": "filled", **overrides}))
    submission = Submission.objects.filter(status=SubmissionStatus.SPAM).latest("id")
    return submission


def test_release_processes_a_held_submission_once(
    form: Form, post_json: PostJSON, marketer: User
) -> None:
    submission = held(form, post_json)

    released = submission_release(submission=submission, actor=marketer)

    assert released.status == SubmissionStatus.PROCESSED
    assert released.released_by == marketer and released.released_at is not None
    assert released.spam_reason == "honeypot field filled in"  # kept for the record
    lead = Lead.objects.get()
    assert released.lead == lead
    assert list(
        Event.objects.filter(lead=lead).values_list("type", flat=True).order_by("type")
    ) == [
        "demo_request",
        "form_submitted",
        "lead_created",
    ]
    with pytest.raises(ApplicationError, match="Only submissions held as spam or failed"):
        submission_release(submission=released, actor=marketer)


@pytest.mark.parametrize("role", ["viewer", "rep"])
def test_only_admins_and_marketers_release(
    form: Form, post_json: PostJSON, role: str, request: pytest.FixtureRequest
) -> None:
    submission = held(form, post_json)
    actor: User = request.getfixturevalue(role)

    with pytest.raises(PermissionDenied):
        submission_release(submission=submission, actor=actor)
    assert Submission.objects.get(pk=submission.pk).status == SubmissionStatus.SPAM


def test_admin_releases_too(form: Form, post_json: PostJSON, admin_user: User) -> None:
    submission = held(form, post_json)
    assert submission_release(submission=submission, actor=admin_user).status == "processed"


def test_releasing_a_repeat_of_an_accepted_submission_makes_it_a_duplicate(
    form: Form, post_json: PostJSON, marketer: User
) -> None:
    spam = held(form, post_json)
    post_json(form, valid_data(form))  # the same person, this time without the honeypot
    process_all()

    released = submission_release(submission=spam, actor=marketer)

    assert released.status == SubmissionStatus.DUPLICATE
    assert released.duplicate_of == Submission.objects.get(status=SubmissionStatus.PROCESSED)
    assert Event.objects.filter(type="form_submitted").count() == 1
