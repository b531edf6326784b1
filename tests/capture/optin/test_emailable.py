"""leads.selectors.lead_emailable / lead_emailable_filter: who nurture may email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from leadbase.leads.models import Consent, ConsentStatus, Event, Lead
from leadbase.leads.selectors import (
    CONSENT_CONFIRMATION_REQUESTED,
    lead_emailable,
    lead_emailable_filter,
)

pytestmark = pytest.mark.django_db
PURPOSE = "marketing_email"
T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def consent(
    lead: Lead,
    *,
    at: dt.datetime,
    status: str = ConsentStatus.GRANTED,
    purpose: str = PURPOSE,
    confirmed: bool = False,
) -> Consent:
    return Consent.objects.create(
        lead=lead,
        purpose=purpose,
        status=status,
        recorded_at=at,
        confirmed_at=at + dt.timedelta(minutes=5) if confirmed else None,
    )


def confirmation_asked(lead: Lead, *, at: dt.datetime, purpose: str = PURPOSE) -> None:
    Event.objects.create(
        lead=lead,
        type=CONSENT_CONFIRMATION_REQUESTED,
        occurred_at=at,
        properties={"purpose": purpose},
    )


@pytest.fixture
def lead(make_lead: Callable[..., Lead]) -> Lead:
    return make_lead(email="ann@example.com")


def test_no_consent_means_no_email(lead: Lead) -> None:
    assert not lead_emailable(lead=lead, purpose=PURPOSE)


def test_consent_without_double_opt_in_counts_at_once(lead: Lead) -> None:
    consent(lead, at=T0)
    assert lead_emailable(lead=lead, purpose=PURPOSE)


def test_unconfirmed_double_opt_in_is_not_emailable_until_confirmed(lead: Lead) -> None:
    row = consent(lead, at=T0)
    confirmation_asked(lead, at=T0 + dt.timedelta(seconds=1))
    assert not lead_emailable(lead=lead, purpose=PURPOSE)
    Consent.objects.filter(pk=row.pk).update(confirmed_at=timezone.now())
    assert lead_emailable(lead=lead, purpose=PURPOSE)


def test_a_confirmation_asked_for_another_purpose_does_not_count(lead: Lead) -> None:
    consent(lead, at=T0)
    confirmation_asked(lead, at=T0, purpose="newsletter")
    assert lead_emailable(lead=lead, purpose=PURPOSE)


def test_a_later_consent_without_double_opt_in_counts(lead: Lead) -> None:
    consent(lead, at=T0)
    confirmation_asked(lead, at=T0)
    consent(lead, at=T0 + dt.timedelta(days=1))
    assert lead_emailable(lead=lead, purpose=PURPOSE)


@pytest.mark.parametrize("confirmed", [False, True])
def test_withdrawal_wins_over_every_earlier_grant(lead: Lead, confirmed: bool) -> None:
    consent(lead, at=T0, confirmed=confirmed)
    consent(lead, at=T0 + dt.timedelta(days=1), status=ConsentStatus.WITHDRAWN)
    assert not lead_emailable(lead=lead, purpose=PURPOSE)


def test_consent_for_another_purpose_does_not_count(lead: Lead) -> None:
    consent(lead, at=T0, purpose="newsletter")
    assert not lead_emailable(lead=lead, purpose=PURPOSE)
    assert lead_emailable(lead=lead, purpose="newsletter")


def test_archived_leads_and_leads_without_email_are_not_emailable(
    make_lead: Callable[..., Lead],
) -> None:
    archived = make_lead(email="old@example.com")
    consent(archived, at=T0)
    Lead.objects.filter(pk=archived.pk).update(archived=True)
    phone_only = make_lead(email="", phone="+4915112345678")
    consent(phone_only, at=T0)
    assert not lead_emailable(lead=archived, purpose=PURPOSE)
    assert not lead_emailable(lead=phone_only, purpose=PURPOSE)


def test_the_filter_keeps_exactly_the_emailable_leads(make_lead: Callable[..., Lead]) -> None:
    yes = make_lead(email="yes@example.com")
    consent(yes, at=T0)
    confirmed = make_lead(email="confirmed@example.com")
    consent(confirmed, at=T0, confirmed=True)
    confirmation_asked(confirmed, at=T0)
    pending = make_lead(email="pending@example.com")
    consent(pending, at=T0)
    confirmation_asked(pending, at=T0)
    withdrawn = make_lead(email="no@example.com")
    consent(withdrawn, at=T0)
    consent(withdrawn, at=T0 + dt.timedelta(hours=1), status=ConsentStatus.WITHDRAWN)
    make_lead(email="none@example.com")

    found = lead_emailable_filter(Lead.objects.all(), purpose=PURPOSE)

    assert set(found.values_list("email", flat=True)) == {
        "yes@example.com",
        "confirmed@example.com",
    }
