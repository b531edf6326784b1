"""Engagement rules: points per event, decay by half-life, daily and rule caps, negative points,
and the explanation of each contribution."""

from __future__ import annotations

import math

import pytest

from leadbase.scoring_engine import EventIn, ScoringEngine, default_rule_set, rule_set_from_dict
from tests.scoring_engine.conftest import DAY, T0, rule_set_data


def ev(event_type: str, days: float, ref: int | None = None, **properties: str) -> EventIn:
    return EventIn(type=event_type, at=T0 + days * DAY, properties=properties, ref=ref)


def test_points_halve_every_half_life(engine: ScoringEngine) -> None:
    # demo decays with the rule set's default half-life of 7 days
    events = [ev("demo_request", 0)]
    assert engine.engagement_of(events, at=T0).raw == 25
    assert engine.engagement_of(events, at=T0 + 7 * DAY).raw == pytest.approx(12.5)
    assert engine.engagement_of(events, at=T0 + 21 * DAY).raw == pytest.approx(25 / 8)


def test_a_rule_without_half_life_never_decays(engine: ScoringEngine) -> None:
    result = engine.engagement_of([ev("email_opened", 0)], at=T0 + 3650 * DAY)
    assert result.raw == pytest.approx(0.7)


def test_rule_cap_bounds_the_rule_at_any_moment(engine: ScoringEngine) -> None:
    # three demo requests (75 points) are capped at 40; after decay they stay at the cap until
    # the decayed sum falls below it (75 / 2 = 37.5 < 40 after one half-life)
    events = [ev("demo_request", 0), ev("quote_request", 0), ev("demo_request", 0)]
    assert engine.engagement_of(events, at=T0).raw == 40
    assert engine.engagement_of(events, at=T0 + 7 * DAY).raw == pytest.approx(37.5)


def test_daily_cap_shares_the_day_in_proportion(engine: ScoringEngine) -> None:
    # five page views of 1.5 points on one day (7.5 raw) count 4 in all: 0.8 each
    day_one = [ev("page_view", 0.1 * i, ref=i) for i in range(5)]
    result = engine.engagement_of(day_one, at=T0 + 0.4 * DAY)
    counted = [line.counted for line in result.events]
    assert counted == pytest.approx([0.8] * 5)
    assert result.rules[0].day_capped
    # the next UTC day has its own allowance
    result = engine.engagement_of([*day_one, ev("page_view", 1.1)], at=T0 + 0.4 * DAY)
    assert sum(line.counted for line in result.events) == pytest.approx(5.5)


def test_negative_points_take_away_and_are_capped_by_magnitude(engine: ScoringEngine) -> None:
    events = [ev("webinar_attended", 0), ev("unsubscribed", 0)]
    assert engine.engagement_of(events, at=T0).raw == pytest.approx(12 - 15)
    assert engine.engagement_of(events, at=T0).score == 0  # clamped at 0


def test_one_event_can_match_several_rules(engine: ScoringEngine) -> None:
    result = engine.engagement_of([ev("page_view", 0, url="/pricing")], at=T0)
    assert {line.rule_id for line in result.events} == {"view", "pricing"}
    assert result.raw == pytest.approx(6.5)
    # the condition on the event's properties keeps other pages out of the pricing rule
    assert engine.engagement_of([ev("page_view", 0, url="/blog")], at=T0).raw == 1.5


def test_unknown_event_types_score_nothing(engine: ScoringEngine) -> None:
    assert engine.engagement_of([ev("custom", 0), ev("video_played", 1)], at=T0).raw == 0


def test_engagement_is_clamped_to_the_maximum() -> None:
    data = rule_set_data(engagement={"half_life_days": 7, "max": 30})
    engine = ScoringEngine(rule_set_from_dict(data))
    events = [ev("demo_request", 0), ev("webinar_attended", 0)]
    result = engine.engagement_of(events, at=T0)
    assert (result.raw, result.score) == (37, 30)


def test_explanation_reads_as_points_age_and_decay() -> None:
    engine = ScoringEngine(default_rule_set())
    lead = {"email": "ann@acme.example", "seniority": "vp"}
    events = [ev("demo_request", 0, ref=41), ev("email_bounced", 1, ref=42)]
    for i in range(7):
        events.append(ev("page_view", 2 + i / 100, ref=100 + i, url="/docs"))
    score = engine.score(lead, events, at=T0 + 3 * DAY)
    texts = {line.ref: line.text for line in score.event_lines}
    decayed = 25 * 2 ** (-3 / 30)
    assert texts[41] == f"+25 demo request, 3 days ago, decayed to {round(decayed, 1):g}"
    assert texts[42] == "-10 email bounced, 2 days ago"  # never decays: no "decayed to"
    # 7 page views on one day count 5/7 each; decay over a day stays within the rounding
    assert texts[100] == "+1 page view, 1 day ago, counted 0.7 (daily cap)"
    assert [line.text for line in score.fit_lines] == ["+25 decision maker (C-level, owner, VP)"]
    assert score.event_lines[0].ref == 106  # newest first
    rule_texts = {line.rule_id: line.text for line in score.rule_lines}
    assert rule_texts["page_view"].endswith(": 7 events (daily cap)")
    # the numbers add up: rule lines sum to the engagement, event lines to their rule
    assert math.fsum(line.now for line in score.rule_lines) == pytest.approx(score.engagement_raw)
    page_views = [line.now for line in score.event_lines if line.rule_id == "page_view"]
    rule_now = {line.rule_id: line.now for line in score.rule_lines}
    assert math.fsum(page_views) == pytest.approx(rule_now["page_view"])
    assert score.total == pytest.approx(0.5 * score.fit + 0.5 * score.engagement)
    assert score.grade == "C"
    # plain data for a template or the API
    as_dict = score.to_dict()
    assert as_dict["event_lines"][0]["text"] == score.event_lines[0].text
