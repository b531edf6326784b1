"""The submissions inbox: filters, hostile data shown as text, sales-rep isolation, and
releasing held spam."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from leadbase.accounts.models import User
from leadbase.capture.models import Form, Submission
from leadbase.leads.models import Lead

from .conftest import HTMX, FormFactory, Login, SubmissionFactory

pytestmark = pytest.mark.django_db
INBOX = reverse("capture:submissions")
HOSTILE = "<img src=x onerror=alert(1)>"


def release_url(submission: Submission) -> str:
    return reverse("capture:submission_release", args=[submission.pk])


def ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="submission-(\d+)">', page)]


@pytest.fixture
def form(make_form: FormFactory) -> Form:
    return make_form("Newsletter")


def test_filters_by_form_and_status(
    login: Login,
    viewer: User,
    form: Form,
    make_form: FormFactory,
    make_submission: SubmissionFactory,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    other = make_form("Other")
    done = make_submission(form, email="a@acme.example")
    spam = make_submission(form, status="spam", spam_reason="honeypot field filled in")
    elsewhere = make_submission(other, status="spam")
    client = login(viewer)
    # session, user, forms for the filter, count, page, field order
    with django_assert_num_queries(6):
        page = client.get(INBOX).text
    assert ids(page) == [elsewhere.pk, spam.pk, done.pk]
    assert ids(client.get(INBOX, {"form": str(form.pk)}).text) == [spam.pk, done.pk]
    page = client.get(INBOX, {"form": str(form.pk), "status": "spam"}).text
    assert ids(page) == [spam.pk]
    assert "honeypot field filled in" in page
    assert "Release" not in page  # viewers read only
    partial = client.get(INBOX, {"status": "processed"}, headers=HTMX)
    assert ids(partial.text) == [done.pk] and "<html" not in partial.text


@pytest.mark.parametrize("params", [{"status": "deleted"}, {"form": "abc"}, {"form": "999999"}])
def test_bad_filters_answer_400(login: Login, viewer: User, params: dict[str, str]) -> None:
    response = login(viewer).get(INBOX, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "These filters could not be applied" in response.text


def test_hostile_data_is_shown_as_text(
    login: Login, marketer: User, form: Form, make_submission: SubmissionFactory
) -> None:
    make_submission(
        form,
        status="spam",
        email="x@acme.example",
        spam_reason=HOSTILE,
        data={"email": "x@acme.example", "items": HOSTILE, "first_name": "=HYPERLINK(1)",
              "note": "Zoë 中文 🚀"},
        context={"utm_source": '"><script>x</script>'},
    )  # fmt: skip
    page = login(marketer).get(INBOX).text
    assert HOSTILE not in page and "<script>x</script>" not in page
    assert f"<dt>items</dt><dd>{html.escape(HOSTILE)}</dd>" in page
    assert f'<span class="sub spam-reason">{html.escape(HOSTILE)}</span>' in page
    assert "Zoë 中文 🚀" in page and "=HYPERLINK(1)" in page
    # the data come in the order of the form's fields (email, first name), then the rest
    dts = re.findall(r"<dt>([^<]*)</dt>", page)
    assert dts == ["email", "first_name", "items", "note", "utm_source"]


def test_a_rep_sees_only_submissions_of_own_leads(
    login: Login,
    rep: User,
    other_rep: User,
    form: Form,
    make_lead: Callable[..., Lead],
    make_submission: SubmissionFactory,
) -> None:
    mine = make_lead(owner=rep, email="mine@acme.example", first_name="Mine")
    theirs = make_lead(owner=other_rep, email="theirs@acme.example")
    own = make_submission(form, lead=mine, email=mine.email)
    make_submission(form, lead=theirs, email=theirs.email)
    make_submission(form, status="spam", email="bot@spam.example")
    page = login(rep).get(INBOX).text
    assert ids(page) == [own.pk]
    assert f'<a href="{mine.get_absolute_url()}">Mine</a>' in page
    assert "theirs@acme.example" not in page and "bot@spam.example" not in page


def test_linked_leads_are_shown(
    login: Login,
    marketer: User,
    form: Form,
    make_lead: Callable[..., Lead],
    make_submission: SubmissionFactory,
) -> None:
    lead = make_lead(email="ann@acme.example", first_name="Ann")
    make_submission(form, lead=lead, email=lead.email)
    assert f'<a href="{lead.get_absolute_url()}">Ann</a>' in login(marketer).get(INBOX).text


def test_release_with_a_plain_post(
    login: Login, marketer: User, form: Form, make_submission: SubmissionFactory
) -> None:
    held = make_submission(
        form,
        status="spam",
        spam_reason="filled in 0.4 s",
        email="ann@acme.example",
        data={"email": "ann@acme.example", "first_name": "Ann"},
    )
    client = login(marketer)
    back = f"{INBOX}?status=spam"
    assert f'action="{release_url(held)}"' in client.get(back).text
    response = client.post(release_url(held), {"next": back})
    assert response.status_code == HTTPStatus.SEE_OTHER and response["Location"] == back
    held.refresh_from_db()
    assert held.status == "processed" and held.released_by == marketer
    assert held.lead is not None and held.lead.first_name == "Ann"
    page = client.get(INBOX).text
    assert f"Submission {held.pk} was released: Processed." in page
    assert "by mia" in page


def test_release_refuses_a_foreign_next(
    login: Login, admin_user: User, form: Form, make_submission: SubmissionFactory
) -> None:
    held = make_submission(form, status="spam", email="b@acme.example",
                           data={"email": "b@acme.example"})  # fmt: skip
    response = login(admin_user).post(release_url(held), {"next": "https://evil.example/"})
    assert response["Location"] == INBOX


def test_release_with_htmx_swaps_the_row(
    login: Login, marketer: User, form: Form, make_submission: SubmissionFactory
) -> None:
    held = make_submission(form, status="spam", email="c@acme.example",
                           data={"email": "c@acme.example"})  # fmt: skip
    response = login(marketer).post(release_url(held), headers=HTMX)
    assert response.status_code == HTTPStatus.OK
    assert response.text.lstrip().startswith(f'<tr id="submission-{held.pk}">')
    assert "Released" in response.text and "Release</button>" not in response.text
    assert "<dt>email</dt><dd>c@acme.example</dd>" in response.text
    again = login(marketer).post(release_url(held), headers=HTMX)
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert "not held as spam or failed" in again.text


def test_only_admins_and_marketers_release(
    login: Login,
    viewer: User,
    rep: User,
    form: Form,
    make_lead: Callable[..., Lead],
    make_submission: SubmissionFactory,
) -> None:
    lead = make_lead(owner=rep)
    held = make_submission(form, status="failed", lead=lead, email=lead.email)
    for user in (viewer, rep):
        assert login(user).post(release_url(held)).status_code == HTTPStatus.FORBIDDEN
    held.refresh_from_db()
    assert held.status == "failed" and held.released_at is None


def test_release_needs_csrf(
    admin_user: User, form: Form, make_submission: SubmissionFactory
) -> None:
    held = make_submission(form, status="spam", email="d@acme.example")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(release_url(held)).status_code == HTTPStatus.FORBIDDEN
    held.refresh_from_db()
    assert held.status == "spam"


def test_release_of_an_unknown_submission_is_404(login: Login, admin_user: User) -> None:
    assert (
        login(admin_user).post(reverse("capture:submission_release", args=[9999])).status_code
        == 404
    )
