"""lead_upsert_many against leads that are already stored, and over several chunks: still
exactly what lead_upsert gives row by row."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbase.core.errors import ValidationFailed
from leadbase.leads.bulk import lead_upsert_many
from leadbase.leads.models import Company, DuplicateSuggestion, Lead
from leadbase.leads.services import lead_upsert
from tests.leads.test_bulk import _snapshot, _wipe, row_strategy

pytestmark = pytest.mark.django_db


def _sequential(rows: list[dict[str, Any]]) -> list[str]:
    actions: list[str] = []
    for row in rows:
        try:
            actions.append(lead_upsert(data=row, source="import").action)
        except ValidationFailed:
            actions.append("rejected")
    return actions


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stored=st.lists(row_strategy, max_size=6),
    rows=st.lists(row_strategy, max_size=10),
    chunk=st.sampled_from([1, 3, 2000]),
)
def test_batch_over_stored_leads_equals_row_by_row(
    stored: list[dict[str, Any]], rows: list[dict[str, Any]], chunk: int
) -> None:
    _wipe()
    _sequential(stored)
    expected_actions = _sequential(rows)
    expected = _snapshot()

    _wipe()
    _sequential(stored)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("leadbase.leads.bulk.CHUNK", chunk)
        batch = lead_upsert_many(rows, source="import")

    assert [o.action for o in batch.outcomes] == expected_actions
    assert _snapshot() == expected


def test_suggestions_compare_names_as_they_were_when_the_row_came() -> None:
    """Bob has no first name when Ann Lee is created, so Ann gets no suggestion; Bob does
    once a later row names him Ann."""
    rows: list[dict[str, Any]] = [
        {"email": "bob@acme.example", "last_name": "Lee", "phone": "+14155550123"},
        {"email": "ann@acme.example", "first_name": "Ann", "last_name": "Lee"},
        {"phone": "+14155550123", "first_name": "Ann"},
    ]
    lead_upsert_many(rows, source="import")
    pairs = {(s.lead.email, s.candidate.email) for s in DuplicateSuggestion.objects.all()}
    assert pairs == {("bob@acme.example", "ann@acme.example")}


def test_a_company_name_filled_by_one_row_is_in_the_search_text_of_the_next() -> None:
    lead = lead_upsert(data={"email": "ann@acme.example"}, source="form").lead
    assert lead.company is not None and lead.company.name == ""
    lead_upsert_many(
        [
            {"email": "bob@acme.example", "company": "Acme Corp"},
            {"email": "ann@acme.example", "city": "Paris"},
        ],
        source="import",
    )
    lead.refresh_from_db()
    assert "acme corp" in lead.search_text
    assert Company.objects.get().name == "Acme Corp"


def test_updated_leads_get_a_new_updated_at() -> None:
    lead = lead_upsert(data={"email": "ann@acme.example"}, source="form").lead
    before = lead.updated_at
    lead_upsert_many([{"email": "ann@acme.example", "city": "Paris"}], source="import")
    lead.refresh_from_db()
    assert lead.city == "Paris"
    assert lead.updated_at > before


def test_a_lead_matched_by_phone_is_found_when_its_email_is_not_given() -> None:
    stored = lead_upsert(data={"email": "ann@acme.example", "phone": "+14155550123"}, source="x")
    other = lead_upsert(data={"email": "bob@acme.example"}, source="x")
    result = lead_upsert_many(
        [
            {"email": "bob@acme.example", "phone": "+14155550123"},  # Bob, by email
            {"phone": "+14155550123", "city": "Paris"},  # Ann, by phone
        ],
        source="import",
    )
    assert [o.lead_id for o in result.outcomes] == [other.lead.pk, stored.lead.pk]
    assert Lead.objects.get(pk=stored.lead.pk).city == "Paris"
