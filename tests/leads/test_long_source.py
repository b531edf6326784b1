"""A long source label (a webhook or form named at length) is stored clipped, on both paths,
instead of failing on PostgreSQL's column lengths."""

from __future__ import annotations

import pytest

from leadbase.leads.bulk import lead_upsert_many
from leadbase.leads.models import Consent, Event, LifecycleTransition
from leadbase.leads.services import SOURCE_MAX_LENGTH, ConsentInput, lead_upsert

pytestmark = pytest.mark.django_db

LONG = "facebook:" + "Ä" * 300


def test_lead_upsert_clips_a_long_source() -> None:
    consent = ConsentInput(purpose="marketing_email", text_shown="Yes")
    lead = lead_upsert(data={"email": "a@b.example"}, source=LONG, consents=[consent]).lead
    assert lead.source_detail == LONG[:SOURCE_MAX_LENGTH]
    assert Consent.objects.get(lead=lead).source == LONG[:SOURCE_MAX_LENGTH]
    assert Event.objects.get(lead=lead).source == LONG[:64]
    assert LifecycleTransition.objects.get(lead=lead).actor_label == LONG[:64]


def test_lead_upsert_many_clips_a_long_source() -> None:
    result = lead_upsert_many([{"email": "c@d.example"}], source=LONG)
    assert result.outcomes[0].action == "created"
    [transition] = LifecycleTransition.objects.all()
    assert transition.actor_label == LONG[:64]
    assert transition.lead.source_detail == LONG[:SOURCE_MAX_LENGTH]
