"""Fixtures of the scoring-engine tests. These tests never touch the database: the engine is
plain Python (no `db` fixture anywhere here), so they run in a second or two."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from leadbase.scoring_engine import RuleSet, ScoringEngine, rule_set_from_dict

DAY = 86_400.0
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a day boundary

THRESHOLDS: dict[str, Any] = {
    "grade": {"A": 75, "B": 50, "C": 25},
    "prospect_fit": 60,
    "temperature": {"warm": {"engagement": 20}, "hot": {"engagement": 50}},
    "qualification": {
        "iql": {"engagement": 5},
        "mql": {"fit": 50, "engagement": 30},
        "sql": {"fit": 60, "engagement": 60, "probability": 0.5},
    },
    "margin": {"fit": 5, "engagement": 5, "probability": 0.05},
}

# Every kind of engagement rule: decay per rule and by default, never decaying, daily caps with
# fractional points, rule caps, negative points, a condition, two rules matching one event, a
# rule over two event types.
# fmt: off
ENGAGEMENT_RULES: list[dict[str, Any]] = [
    {"id": "view", "event": "page_view", "points": 1.5, "daily_cap": 4, "cap": 10,
     "half_life_days": 3},
    {"id": "pricing", "event": "page_view", "points": 5, "daily_cap": 7.5,
     "when": {"field": "url", "op": "contains", "value": "pricing"}},
    {"id": "demo", "label": "demo request", "event": ["demo_request", "quote_request"],
     "points": 25, "cap": 40},
    {"id": "open", "event": "email_opened", "points": 0.7, "half_life_days": None,
     "daily_cap": 1},
    {"id": "unsub", "event": "unsubscribed", "points": -20, "cap": 15, "half_life_days": 30},
    {"id": "webinar", "event": "webinar_attended", "points": 12},
]
# fmt: on


def rule_set_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": 1,
        "name": "test rules",
        "fit_rules": [],
        "engagement": {"half_life_days": 7, "max": 100, "late_window_days": 2},
        "engagement_rules": copy.deepcopy(ENGAGEMENT_RULES),
        "thresholds": copy.deepcopy(THRESHOLDS),
    }
    data.update(overrides)
    return data


@pytest.fixture(scope="session")
def test_rules() -> RuleSet:
    return rule_set_from_dict(rule_set_data())


@pytest.fixture(scope="session")
def engine(test_rules: RuleSet) -> ScoringEngine:
    return ScoringEngine(test_rules)
