"""The bulk path (every lead at once: preview and publish) reads leads and events in columns
(scoring.inputs.fit_inputs, scoring.event_reader); it must give each lead exactly what the
one-lead path gives, for leads whose fields and events exercise every kind of fit and
engagement rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.leads.events import EventIn, events_record
from leadbase.leads.models import Company, Event, Lead
from leadbase.scoring.event_reader import lead_events_read
from leadbase.scoring.jobs import job_run, publish_start
from leadbase.scoring.recompute import scores_all
from leadbase.scoring.rule_sets import engine_for, rule_set_active, rule_set_draft_create
from leadbase.scoring.services import leads_rescore
from tests.scoring.conftest import MakeLead

pytestmark = pytest.mark.django_db

PEOPLE: list[dict[str, str]] = [
    {"seniority": "vp", "job_title": "VP Marketing", "country": "DE", "phone": "+4930123456"},
    {"seniority": "manager", "job_title": "Head of Growth", "department": "Marketing"},
    {"job_title": "Student", "email": "kim@university.edu"},
    {"email": "joe@gmail.com", "country": "US"},
    {"seniority": "c_level", "job_title": "CEO", "country": "GB"},
    {},
]
COMPANIES: list[dict[str, Any]] = [
    {"industry": "Software", "employee_count": 250, "annual_revenue": Decimal("25000000.00")},
    {"industry": "Retail", "employee_count": 12},
    {"industry": "", "employee_count": None, "country": "FR"},
    {"industry": "Software", "employee_count": 5000, "annual_revenue": Decimal("1.50")},
]


def varied_leads(make_lead: MakeLead) -> list[Lead]:
    leads = []
    for i, person in enumerate(PEOPLE * 2):
        data = {"email": f"p{i}@firm{i % 4}.example", **person}
        lead = make_lead(**data)
        if i % 3 != 2:
            company = Company.objects.create(
                name=f"Firm {i}", domain=f"co{i}.example", **COMPANIES[i % 4]
            )
            Lead.objects.filter(pk=lead.pk).update(company=company)
        leads.append(lead)
    now = timezone.now()
    kinds = ["page_view", "pricing_page_view", "email_opened", "demo_request", "unsubscribed"]
    urls = ["https://x.example/pricing", "https://x.example/blog", None]
    events_record(
        [
            EventIn(
                type=kinds[(i + k) % len(kinds)],
                occurred_at=now - dt.timedelta(days=k * 3, seconds=i),
                lead_id=lead.pk,
                properties={} if urls[k % 3] is None else {"url": urls[k % 3]},
            )
            for i, lead in enumerate(leads)
            for k in range(i % 5)
        ]
    )
    leads_rescore([lead.pk for lead in leads])
    return leads


def test_scores_of_every_lead_equal_the_one_lead_path(make_lead: MakeLead) -> None:
    leads = varied_leads(make_lead)
    engine = engine_for(rule_set_active())
    at = timezone.now()

    bulk = scores_all(engine, at=at, progress=lambda done, total: None)

    rows = dict(Lead.objects.values_list("pk", "fit_score"))
    assert sorted(bulk.ids.tolist()) == sorted({lead.pk for lead in leads})
    assert len(set(rows.values())) > 3  # the leads differ in fit: the test can tell
    for pk, fit in zip(bulk.ids.tolist(), bulk.fit.tolist(), strict=True):
        assert fit == pytest.approx(rows[pk], abs=1e-9), pk


def test_publish_of_the_same_rules_changes_no_score(marketer: User, make_lead: MakeLead) -> None:
    varied_leads(make_lead)
    before = dict(Lead.objects.values_list("pk", "fit_score"))
    engaged_before = dict(Lead.objects.values_list("pk", "engagement_score"))
    grades_before = dict(Lead.objects.values_list("pk", "fit_grade"))
    assert any(v > 0 for v in engaged_before.values())

    same = rule_set_draft_create(actor=marketer)
    job_run(publish_start(rule_set=same, actor=marketer, enqueue=False).pk)

    assert dict(Lead.objects.values_list("pk", "fit_score")) == pytest.approx(before, abs=1e-9)
    assert dict(Lead.objects.values_list("pk", "fit_grade")) == grades_before
    after = dict(Lead.objects.values_list("pk", "engagement_score"))
    assert after == pytest.approx(engaged_before, abs=1e-6)


def test_the_event_reader_gives_exact_times_and_properties(make_lead: MakeLead) -> None:
    lead = make_lead()
    at = timezone.now().replace(microsecond=123457) - dt.timedelta(days=400)
    events_record(
        [
            EventIn(type="page_view", occurred_at=at, lead_id=lead.pk, properties={"url": "/é"}),
            EventIn(type="email_opened", occurred_at=at + dt.timedelta(seconds=1), lead_id=lead.pk),
            EventIn(type="anonymous", occurred_at=at, visitor_id="visitor-123456"),
        ]
    )
    stored = {e.type: e for e in Event.objects.filter(lead=lead)}

    chunks = [c for c in lead_events_read(chunk=1) if c.types[0] in stored]

    assert len(chunks) == len(stored) == Event.objects.filter(lead__isnull=False).count()
    assert "anonymous" not in stored  # the visitor's event is not a lead's
    for chunk in chunks:
        [kind] = chunk.types
        assert chunk.lead.tolist() == [lead.pk]
        assert chunk.time[0] == stored[kind].occurred_at.timestamp()
        [code] = chunk.properties.codes.tolist()
        assert (chunk.properties.values[code] or {}) == stored[kind].properties
    assert np.float64(at.timestamp()) in {c.time[0] for c in chunks}
