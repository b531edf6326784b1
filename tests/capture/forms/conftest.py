"""Fixtures for the public form tests: a form with one field of every kind, a valid fill-time
token, posting helpers, and running the processing the worker would run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from pytest_django import Settings

from leadbase.capture.form_cache import public_form_forget
from leadbase.capture.models import FieldKind, Form, FormField, FormPurpose, Submission
from leadbase.capture.services_submissions import submission_process
from leadbase.capture.spam import fill_token_make
from leadbase.leads.models import Campaign

CONSENT_TEXT = "Yes, send me Acme's newsletter. I can unsubscribe at any time."

FIELDS: list[dict[str, Any]] = [
    {"name": "email", "label": "Work email", "kind": FieldKind.EMAIL, "required": True,
     "maps_to": "email"},
    {"name": "first_name", "label": "First name", "kind": FieldKind.TEXT, "maps_to": "first_name",
     "max_length": 100},
    {"name": "last_name", "label": "Last name", "kind": FieldKind.TEXT, "maps_to": "last_name",
     "max_length": 100},
    {"name": "company", "label": "Company", "kind": FieldKind.TEXT, "maps_to": "company_name"},
    {"name": "phone", "label": "Phone", "kind": FieldKind.PHONE, "maps_to": "phone"},
    {"name": "country", "label": "Country", "kind": FieldKind.COUNTRY, "maps_to": "country"},
    {"name": "team_size", "label": "Team size", "kind": FieldKind.CHOICE,
     "maps_to": "attributes.team_size", "choices": ["1-10", "11-50", "51+"]},
    {"name": "message", "label": "Message", "kind": FieldKind.TEXTAREA,
     "maps_to": "attributes.message", "max_length": 2000},
    {"name": "updates", "label": "Product updates", "kind": FieldKind.CHECKBOX,
     "maps_to": "attributes.wants_updates"},
    {"name": "ref", "label": "Partner ref", "kind": FieldKind.HIDDEN,
     "maps_to": "attributes.partner_ref"},
]  # fmt: skip


def create_form(
    *, slug: str = "demo", fields: list[dict[str, Any]] | None = None, **values: Any
) -> Form:
    values.setdefault("name", "Book a demo")
    values.setdefault("purpose", FormPurpose.DEMO_REQUEST)
    values.setdefault("consent_text", CONSENT_TEXT)
    values.setdefault("consent_required", True)
    values.setdefault("allowed_domains", "www.acme.example\n127.0.0.1")
    form = Form.objects.create(slug=slug, **values)
    for position, spec in enumerate(FIELDS if fields is None else fields):
        FormField.objects.create(form=form, position=position, **spec)
    return form


@pytest.fixture(autouse=True)
def _roomy_limits(settings: Settings) -> None:
    """Rate limits out of the way unless a test sets its own."""
    settings.LEADBASE_FORMS_RATE_PER_IP = "1000/60"
    settings.LEADBASE_FORMS_RATE_PER_FORM = "1000/60"
    settings.LEADBASE_FORMS_MIN_FILL_SECONDS = 3


@pytest.fixture
def form(db: None) -> Form:
    return create_form(campaign=Campaign.objects.create(name="Spring webinar"))


def old_token(form: Form, seconds: float = 30) -> str:
    """A token as the page would have had it `seconds` ago."""
    return fill_token_make(form_id=form.pk, now=time.time() - seconds)


def valid_data(form: Form, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": "Ann.Lee@Acme.example",
        "first_name": "Ann",
        "last_name": "Lee",
        "company": "Acme",
        "lb.consent": "on",
        "lb.token": old_token(form),
        "lb.website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


PostJSON = Callable[..., Any]


@pytest.fixture
def post_json(client: Client) -> PostJSON:
    def post(form: Form, data: Any, **headers: Any) -> Any:
        return client.post(
            f"/f/{form.slug}", data=data, content_type="application/json", headers=headers
        )

    return post


def process_all() -> list[Submission]:
    """What the worker would do: process every submission still waiting."""
    waiting = list(Submission.objects.filter(status="received").order_by("id"))
    for submission in waiting:
        submission_process(submission=submission)
    return [Submission.objects.get(pk=s.pk) for s in waiting]


@pytest.fixture(autouse=True)
def _fresh_form_cache() -> Iterator[None]:
    """Tests create and change forms directly: start each with an empty per-process cache."""
    public_form_forget()
    yield
    public_form_forget()
