"""Fixtures for the server-rendered pages: signed-in clients and a lead with set scores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadbase.accounts.models import User
from leadbase.leads.models import Lead

LeadFactory = Callable[..., Lead]


@pytest.fixture
def login() -> Callable[[User], Client]:
    """A test client signed in as the given user (each call a new client)."""

    def factory(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return factory


@pytest.fixture
def lead_with(make_lead: LeadFactory) -> LeadFactory:
    """make_lead, then set fields lead_upsert does not take (scores, temperature, ...)."""

    def factory(
        owner: User | None = None, *, fields: dict[str, Any] | None = None, **data: Any
    ) -> Lead:
        lead = make_lead(owner=owner, **data)
        if fields:
            Lead.objects.filter(pk=lead.pk).update(**fields)
            lead.refresh_from_db()
        return lead

    return factory
