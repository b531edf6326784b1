"""The per-process copy of a public form: edits made in this process show at once, edits made
elsewhere within FORM_CACHE_SECONDS; the answers made from a form follow its edits."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from leadbase.capture import form_cache
from leadbase.capture.models import Form, FormField
from tests.capture.forms.conftest import valid_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(form_cache, "_clock", lambda: now[0])
    return now


def test_an_edit_in_this_process_shows_on_the_next_request(
    form: Form, client: Client, clock: list[float]
) -> None:
    assert "Book a demo" in client.get(f"/f/{form.slug}").content.decode()
    form.name = "Talk to sales"
    form.save()

    assert "Talk to sales" in client.get(f"/f/{form.slug}").content.decode()
    field = FormField.objects.get(form=form, name="company")
    field.label = "Organisation"
    field.save()
    assert "Organisation" in client.get(f"/f/{form.slug}").content.decode()


def test_an_edit_in_another_process_shows_within_the_cache_time(
    form: Form, client: Client, clock: list[float]
) -> None:
    client.get(f"/f/{form.slug}")
    # another process: no signal reaches this one, only the row changes
    Form.objects.filter(pk=form.pk).update(name="Talk to sales")
    Form.objects.filter(pk=form.pk).update(updated_at=form.updated_at.replace(year=2099))

    clock[0] += form_cache.FORM_CACHE_SECONDS / 2
    assert "Book a demo" in client.get(f"/f/{form.slug}").content.decode()
    clock[0] += form_cache.FORM_CACHE_SECONDS
    assert "Talk to sales" in client.get(f"/f/{form.slug}").content.decode()


def test_a_form_closed_elsewhere_is_gone_within_the_cache_time(
    form: Form, client: Client, clock: list[float]
) -> None:
    client.get(f"/f/{form.slug}")
    Form.objects.filter(pk=form.pk).update(is_active=False)

    clock[0] += form_cache.FORM_CACHE_SECONDS + 0.1
    assert client.get(f"/f/{form.slug}").status_code == HTTPStatus.NOT_FOUND


def test_a_renamed_slug_leaves_no_copy_under_the_old_one(
    form: Form, client: Client, clock: list[float]
) -> None:
    old = form.slug
    client.get(f"/f/{old}")
    form.slug = "book-a-demo"
    form.save()

    assert client.get(f"/f/{old}").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/f/book-a-demo").status_code == HTTPStatus.OK


def test_the_answers_follow_the_thank_you_message(
    form: Form, client: Client, clock: list[float]
) -> None:
    first = client.post(f"/f/{form.slug}", valid_data(form, email="a@acme.example"))
    assert "We have received your submission" in first.content.decode()
    form.thank_you_message = "See you soon"
    form.save()

    page = client.post(f"/f/{form.slug}", valid_data(form, email="b@acme.example"))
    answer = client.post(
        f"/f/{form.slug}",
        valid_data(form, email="c@acme.example"),
        content_type="application/json",
    )
    assert "See you soon" in page.content.decode()
    assert answer.json() == {"ok": True, "message": "See you soon", "redirect": None}
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert answer["Content-Type"] == "application/json"
