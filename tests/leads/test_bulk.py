"""lead_upsert_many: the batch path gives what lead_upsert gives row by row."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbase.core.errors import ValidationFailed
from leadbase.leads.bulk import lead_upsert_many
from leadbase.leads.models import (
    Campaign,
    Company,
    DuplicateSuggestion,
    Event,
    Lead,
    LeadChange,
    LifecycleTransition,
)
from leadbase.leads.services import lead_upsert

pytestmark = pytest.mark.django_db


def test_bad_rows_are_reported_and_good_rows_kept() -> None:
    rows: list[dict[str, Any]] = [
        {"email": "a@one.example", "first_name": "A"},
        {"email": "not an email"},
        {"first_name": "no contact"},
        {"email": "b@two.example", "phone": "+14155550123"},
    ]
    result = lead_upsert_many(rows, source="import:test.csv")
    assert [o.action for o in result.outcomes] == ["created", "rejected", "rejected", "created"]
    assert result.outcomes[1].errors.keys() == {"email"}
    assert "email" in result.outcomes[2].message
    assert Lead.objects.count() == 2
    assert Event.objects.filter(type="lead_created").count() == 2


def test_importing_the_same_rows_twice_creates_nothing_new() -> None:
    rows = [{"email": f"p{i}@corp{i % 3}.example", "first_name": f"P{i}"} for i in range(50)]
    first = lead_upsert_many(rows, source="import")
    second = lead_upsert_many(rows, source="import")
    assert first.created == 50
    assert second.created == 0
    assert second.unchanged == 50
    assert Lead.objects.count() == 50
    assert Company.objects.count() == 3


def test_progress_is_reported_per_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("leadbase.leads.bulk.CHUNK", 10)
    seen: list[tuple[int, int]] = []
    rows = [{"email": f"p{i}@x.example"} for i in range(25)]
    lead_upsert_many(rows, source="import", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(10, 25), (20, 25), (25, 25)]


# --- property: batch == row by row ---------------------------------------------------------

names = st.sampled_from(["", "Ann", "Bob", "ann", "Chloé", "CHLOÉ"])
row_strategy = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(
            ["ann@acme.example", "ANN@acme.example", "bob@acme.example", "c@gmail.com", "bad@"]
        ),
        "phone": st.sampled_from(["+14155550123", "+442079460958", "415 555 0199"]),
        "first_name": names,
        "last_name": st.sampled_from(["", "Lee", "Smith"]),
        "job_title": st.sampled_from(["", "CTO", "Engineer", "VP Sales"]),
        "city": st.sampled_from(["", "Paris", "Zürich"]),
        "country": st.sampled_from(["US", "GB", "ZZ"]),
        "company": st.sampled_from(["Acme", "acme", "Globex"]),
        "campaign": st.sampled_from(["spring", "autumn"]),
        "lifecycle_stage": st.sampled_from(["lead", "mql", "customer"]),
        "attributes": st.dictionaries(st.sampled_from(["plan", "seats"]), st.integers(0, 3)),
    },
)


def _wipe() -> None:
    for model in (DuplicateSuggestion, LeadChange, Event, LifecycleTransition, Lead):
        model.objects.all().delete()
    Company.objects.all().delete()
    Campaign.objects.all().delete()


def _snapshot() -> dict[str, Any]:
    fields = ["email", "phone", "first_name", "last_name", "job_title", "city", "country"]
    fields += ["seniority", "lifecycle_stage", "attributes", "search_text", "name_key"]
    fields += ["source_detail"]
    leads = sorted(
        (
            tuple(str(getattr(lead, f)) for f in fields),
            lead.company.domain if lead.company else "",
            lead.company.name if lead.company else "",
            lead.campaign.name if lead.campaign else "",
        )
        for lead in Lead.objects.select_related("company", "campaign")
    )
    key = {lead.pk: (lead.email, lead.phone) for lead in Lead.objects.all()}
    changes = sorted(
        (key[c.lead_id], c.field, c.old_value, c.new_value, c.kind)
        for c in LeadChange.objects.all()
    )
    suggestions = sorted(
        (key[s.lead_id], key[s.candidate_id]) for s in DuplicateSuggestion.objects.all()
    )
    companies = sorted((c.domain, c.name, c.country) for c in Company.objects.all())
    return {
        "leads": leads,
        "changes": changes,
        "suggestions": suggestions,
        "companies": companies,
        "events": Event.objects.count(),
        "transitions": sorted(
            (key[t.lead_id], t.to_value) for t in LifecycleTransition.objects.all()
        ),
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(row_strategy, max_size=12))
def test_batch_upsert_equals_row_by_row_upsert(rows: list[dict[str, Any]]) -> None:
    _wipe()
    sequential_actions: list[str] = []
    for row in rows:
        try:
            sequential_actions.append(lead_upsert(data=row, source="import").action)
        except ValidationFailed:
            sequential_actions.append("rejected")
    expected = _snapshot()

    _wipe()
    batch = lead_upsert_many(rows, source="import")

    assert [o.action for o in batch.outcomes] == sequential_actions
    assert _snapshot() == expected
