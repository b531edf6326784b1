"""Scores of leads from the rule set in force: incremental on events, rebuilt when needed,
classification with transitions, decay over time, the explanation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks

from leadbase.leads.events import EventIn, events_record, visitor_identify
from leadbase.leads.models import Company, Event, Lead, LifecycleTransition
from leadbase.leads.services import lead_merge
from leadbase.scoring.models import LeadScoreState, RuleSet, RuleSetStatus
from leadbase.scoring.rule_sets import active_forget, rule_set_active
from leadbase.scoring.services import lead_score_explain, leads_rescore
from leadbase.scoring.tasks import decay_task, unscored_sweep_task

pytestmark = pytest.mark.django_db
MakeLead = Callable[..., Lead]
NOW = timezone.now()


@pytest.fixture(autouse=True)
def _fresh_active() -> None:
    active_forget()


def events(lead: Lead, *kinds: str, at: dt.datetime = NOW, **properties: Any) -> None:
    events_record(
        [EventIn(type=k, occurred_at=at, properties=properties, lead_id=lead.pk) for k in kinds]
    )


def good_fit_lead(make_lead: MakeLead, email: str = "cto@bigsoft.example") -> Lead:
    lead = make_lead(
        email=email, seniority="c_level", department="marketing", country="US", company="Bigsoft"
    )
    assert lead.company_id is not None
    Company.objects.filter(pk=lead.company_id).update(
        industry="software", employee_count=800, annual_revenue=50_000_000, country="US"
    )
    return lead


def fresh(lead: Lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


def test_the_default_rule_set_is_published_on_first_use() -> None:
    active = rule_set_active()
    assert active.status == RuleSetStatus.PUBLISHED and active.version == 1
    assert RuleSet.objects.count() == 1


def test_a_fitting_lead_with_hand_raising_events_becomes_hot_and_qualified(
    make_lead: MakeLead,
) -> None:
    lead = good_fit_lead(make_lead)
    events(lead, "demo_request", "pricing_page_view", "pricing_page_view", "webinar_attended")

    leads_rescore([lead.pk])

    scored = fresh(lead)
    assert scored.fit_score > 60 and scored.fit_grade in {"A", "B"}
    assert scored.engagement_score > 30
    assert scored.total_score > 0
    assert scored.is_prospect
    assert scored.temperature != "cold"
    kinds = set(LifecycleTransition.objects.filter(lead=lead).values_list("kind", flat=True))
    assert {"temperature", "prospect"} <= kinds
    assert all(
        t.reason and t.actor_label.startswith("scoring v")
        for t in LifecycleTransition.objects.filter(lead=lead, kind="temperature")
    )


def test_incremental_updates_equal_a_rebuild_from_all_events(make_lead: MakeLead) -> None:
    lead = good_fit_lead(make_lead)
    times = [NOW - dt.timedelta(days=d) for d in (20, 9, 3, 1)]
    for kind, at in zip(
        ["page_view", "content_download", "pricing_page_view", "demo_request"], times, strict=True
    ):
        events(lead, kind, at=at, url="https://example.com/x")
        leads_rescore([lead.pk], at=NOW)
    incremental = fresh(lead).engagement_score
    state = LeadScoreState.objects.get(lead=lead)
    assert state.last_event_id > 0

    leads_rescore([lead.pk], rebuild=True, at=NOW)

    assert fresh(lead).engagement_score == pytest.approx(incremental, abs=1e-9)


def test_engagement_decays_and_the_lead_cools_down_with_a_recorded_reason(
    make_lead: MakeLead,
) -> None:
    lead = good_fit_lead(make_lead)
    events(lead, "demo_request", "demo_request", "trial_signup", "pricing_page_view")
    leads_rescore([lead.pk], at=NOW)
    hot = fresh(lead)
    assert hot.temperature in {"warm", "hot"}

    leads_rescore([lead.pk], at=NOW + dt.timedelta(days=365))

    cooled = fresh(lead)
    assert cooled.engagement_score < hot.engagement_score / 10
    assert cooled.temperature == "cold"
    drop = LifecycleTransition.objects.filter(lead=lead, kind="temperature", to_value="cold").get()
    assert "engagement" in drop.reason


def test_negative_events_lower_engagement(make_lead: MakeLead) -> None:
    lead = good_fit_lead(make_lead)
    events(lead, "pricing_page_view", "content_download")
    leads_rescore([lead.pk])
    before = fresh(lead).engagement_score
    events(lead, "unsubscribed", "email_bounced")
    leads_rescore([lead.pk])
    assert fresh(lead).engagement_score < before


def test_events_score_the_lead_right_after_the_commit(
    make_lead: MakeLead, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    lead = good_fit_lead(make_lead)
    with django_capture_on_commit_callbacks(execute=True):
        events(lead, "demo_request")
    assert fresh(lead).engagement_score > 0
    assert LeadScoreState.objects.filter(lead=lead).exists()


def test_events_attached_by_identifying_or_merging_are_counted(
    make_lead: MakeLead, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    lead = good_fit_lead(make_lead)
    other = make_lead(email="ann@elsewhere.example")
    with django_capture_on_commit_callbacks(execute=True):
        events_record(
            [EventIn(type="pricing_page_view", occurred_at=NOW, visitor_id="visitor-0001")]
        )
        leads_rescore([lead.pk, other.pk])
        before = fresh(lead).engagement_score
        visitor_identify(visitor_id="visitor-0001", lead=lead)
    after_identify = fresh(lead).engagement_score
    with django_capture_on_commit_callbacks(execute=True):
        events(other, "demo_request")
        lead_merge(primary=lead, duplicate=other)
    assert after_identify > before
    assert fresh(lead).engagement_score > after_identify


def test_the_sweep_scores_leads_never_scored_and_decay_revisits_warm_ones(
    make_lead: MakeLead,
) -> None:
    lead = good_fit_lead(make_lead)
    events(lead, "demo_request", "trial_signup")
    assert not LeadScoreState.objects.exists()

    assert unscored_sweep_task.call() >= 1
    assert LeadScoreState.objects.filter(lead=lead).exists()
    assert decay_task.call() >= 1


def test_the_explanation_lists_each_contribution(make_lead: MakeLead) -> None:
    lead = good_fit_lead(make_lead)
    events(lead, "demo_request", at=NOW - dt.timedelta(days=3))
    leads_rescore([lead.pk])

    explained = lead_score_explain(lead=fresh(lead))

    assert explained["rule_set"]["version"] == 1
    assert any("decision maker" in line["label"] for line in explained["fit_lines"])
    [demo] = [e for e in explained["event_lines"] if e["event_type"] == "demo_request"]
    assert "3 days ago" in demo["text"] and "demo request" in demo["text"]
    assert explained["total"] == pytest.approx(fresh(lead).total_score)


def test_a_lead_without_any_event_is_rebuilt_to_no_engagement(make_lead: MakeLead) -> None:
    lead = good_fit_lead(make_lead)
    Event.objects.filter(lead=lead).delete()

    leads_rescore([lead.pk], rebuild=True)

    scored = fresh(lead)
    assert scored.engagement_score == 0 and scored.fit_score > 0
    assert LeadScoreState.objects.get(lead=lead).last_event_id == 0
