"""Fixtures of the form-builder tests: signed-in clients, API clients, forms and submissions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django import Settings

from leadbase.accounts.models import User
from leadbase.capture.form_rules import FieldSpec
from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.capture.services_forms import form_create
from tests.api.conftest import ApiClient

FormFactory = Callable[..., Form]
SubmissionFactory = Callable[..., Submission]
Login = Callable[[User], Client]
ApiAs = Callable[..., ApiClient]
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> Path:
    """Uploaded files go to a temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def login() -> Login:
    """A test client signed in as the given user (each call a new client)."""

    def factory(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return factory


@pytest.fixture
def api_as(client: Client, api_key_for: Callable[..., str]) -> ApiAs:
    """api_as(user, scopes="read,write"): a JSON API client with a fresh key of that user."""

    def factory(user: User, scopes: str = "read,write") -> ApiClient:
        return ApiClient(client, f"Bearer {api_key_for(user, scopes)}")

    return factory


@pytest.fixture
def make_form(db: None) -> FormFactory:
    """make_form(name=..., fields=[FieldSpec...] or None for the starter fields, **settings)."""
    counter = iter(range(1, 1_000_000))

    def factory(name: str = "", fields: list[FieldSpec] | None = None, **values: Any) -> Form:
        values["name"] = name or f"Form {next(counter)}"
        return form_create(values=values, fields=fields, actor=None)

    return factory


@pytest.fixture
def make_submission(db: None) -> SubmissionFactory:
    def factory(form: Form, status: str = SubmissionStatus.PROCESSED, **values: Any) -> Submission:
        values.setdefault("data", {"email": values.get("email", "")})
        return Submission.objects.create(form=form, status=status, **values)

    return factory
