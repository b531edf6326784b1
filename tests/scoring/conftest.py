"""Helpers shared by the scoring tests: scored leads of which some are engaged, a rule set
that makes them warm, and a snapshot of every lead's scores and classes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.leads.events import EventIn, events_record
from leadbase.leads.models import Lead
from leadbase.scoring.services import leads_rescore

MakeLead = Callable[..., Lead]
Login = Callable[[User], Client]


@pytest.fixture
def login() -> Login:
    """A test client signed in as the given user."""

    def factory(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return factory


def scored_leads(make_lead: MakeLead, count: int, engaged: int) -> list[Lead]:
    """`count` scored leads lead0@... to lead<count-1>@...; the first `engaged` viewed the
    pricing page twice."""
    leads = [make_lead(email=f"lead{i}@example.com") for i in range(count)]
    now = timezone.now()
    events_record(
        [
            EventIn(type="pricing_page_view", occurred_at=now, lead_id=lead.pk)
            for lead in leads[:engaged]
            for _ in range(2)
        ]
    )
    leads_rescore([lead.pk for lead in leads])
    return leads


def easier(definition: dict[str, Any], name: str = "Easier warm") -> dict[str, Any]:
    """The same rules with a 'warm' bar that any engaged lead clears."""
    changed = copy.deepcopy(definition)
    changed["name"] = name
    changed["thresholds"]["temperature"]["warm"] = {"engagement": 1}
    return changed


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Lead.objects.order_by("pk").values_list(
            "pk", "temperature", "qualification", "fit_score", "engagement_score", "total_score"
        )
    )
