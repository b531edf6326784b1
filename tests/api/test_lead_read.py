"""GET /leads/{id} builds its JSON from one `.values()` row (selectors.lead_get_values,
schemas.lead_out_from_values) instead of model instances and LeadOut: the JSON must be the
same, byte for byte, as LeadOut's serialisation of the model instance."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import pytest
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder

from leadbase.accounts.models import User
from leadbase.accounts.services import apikey_authenticate, apikey_create, apikey_revoke
from leadbase.leads.models import Lead
from leadbase.leads.schemas import LeadOut
from leadbase.leads.selectors import lead_get, lead_get_values

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


def full_serialisation(user: User, lead_id: int) -> bytes:
    """What ninja sends for the model instance rendered through LeadOut."""
    lead = lead_get(user=user, lead_id=lead_id)
    assert lead is not None
    data = LeadOut.model_validate(lead).model_dump()
    return json.dumps(data, cls=NinjaJSONEncoder).encode()


def read(api: ApiClient, lead_id: int) -> bytes:
    reply = api.get(f"/leads/{lead_id}")
    assert reply.status == HTTPStatus.OK, reply.body
    assert reply.response["Content-Type"] == "application/json; charset=utf-8"
    return reply.content


@pytest.mark.parametrize(
    "data",
    [
        {"email": "bare@example.com"},
        {"phone": "+4930123456"},
        {
            "email": "zoë.müller@example.com",
            "first_name": "Zoë",
            "last_name": "Müller-Łukasiewicz 李",
            "job_title": "Head of “Growth” 🚀",
            "company": "Ünïcode GmbH",
            "company_domain": "unicode.example",
            "industry": "Software",
            "employee_count": 250,
            "annual_revenue": "1234567.50",
            "country": "DE",
            "city": "Köln",
            "campaign": "Frühjahr 2026",
            "utm_source": "newsletter",
            "landing_page": "https://example.com/ä?x=1&y=2",
            "attributes": {"plan": "pro", "seats": 12, "nested": {"ok": True, "list": [1, 2.5]}},
        },
    ],
    ids=["bare", "phone-only", "everything"],
)
def test_fast_read_is_the_full_leadout_json(
    data: dict[str, Any],
    api_as: Callable[..., ApiClient],
    make_lead: Callable[..., Lead],
    marketer: User,
    rep: User,
) -> None:
    lead = make_lead(**data)
    assert read(api_as(marketer), lead.pk) == full_serialisation(marketer, lead.pk)

    # with an owner, scores and a last activity
    Lead.objects.filter(pk=lead.pk).update(
        owner=rep,
        fit_score=40,  # a whole number must still render as 40.0
        engagement_score=12.5,
        total_score=52.5,
        predicted_probability=0.25,
        last_activity_at=timezone.now(),
    )
    assert read(api_as(marketer), lead.pk) == full_serialisation(marketer, lead.pk)
    assert read(api_as(rep), lead.pk) == full_serialisation(rep, lead.pk)


def test_fast_read_shows_company_owner_and_campaign(
    api_as: Callable[..., ApiClient], make_lead: Callable[..., Lead], rep: User, marketer: User
) -> None:
    lead = make_lead(
        owner=rep,
        company="Acme",
        annual_revenue="10.00",
        employee_count=3,
        campaign="Launch",
    )
    body = json.loads(read(api_as(marketer), lead.pk))
    assert body["company"]["name"] == "Acme"
    assert body["company"]["annual_revenue"] == "10.00"
    assert body["owner"] == {"id": rep.pk, "username": rep.username}
    assert body["campaign"] == "Launch"
    assert read(api_as(marketer), lead.pk) == full_serialisation(marketer, lead.pk)


def test_values_follow_the_same_visibility_as_lead_get(
    make_lead: Callable[..., Lead], rep: User, other_rep: User, marketer: User
) -> None:
    own = make_lead(owner=rep)
    theirs = make_lead(owner=other_rep)
    nobodys = make_lead()
    for user in (rep, other_rep, marketer):
        for lead in (own, theirs, nobodys):
            seen = lead_get(user=user, lead_id=lead.pk) is not None
            assert (lead_get_values(user=user, lead_id=lead.pk) is not None) == seen
    rep.is_active = False
    assert lead_get_values(user=rep, lead_id=own.pk) is None


def test_authentication_reads_key_and_user_afresh(rep: User) -> None:
    new = apikey_create(user=rep, scopes="read")
    api_key = apikey_authenticate(new.plain)
    assert api_key is not None
    assert api_key.pk == new.api_key.pk
    assert api_key.scopes == ["read"]
    assert api_key.user == rep
    assert api_key.user.role == rep.role
    assert api_key.user.get_deferred_fields() == set()

    User.objects.filter(pk=rep.pk).update(is_active=False)
    assert apikey_authenticate(new.plain) is None
    User.objects.filter(pk=rep.pk).update(is_active=True)
    assert apikey_authenticate(new.plain) is not None
    apikey_revoke(api_key=new.api_key)
    assert apikey_authenticate(new.plain) is None


def test_decimal_and_dates_render_like_ninja(
    api_as: Callable[..., ApiClient], make_lead: Callable[..., Lead], marketer: User
) -> None:
    lead = make_lead(company="Zero Inc", annual_revenue=Decimal("0"))
    assert read(api_as(marketer), lead.pk) == full_serialisation(marketer, lead.pk)
