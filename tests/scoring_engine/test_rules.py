"""Rule sets as data: parsing, every problem reported with its path, round trip, the default."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

import pytest

from leadbase.scoring_engine import RuleSetError, default_rule_set, rule_set_from_dict
from tests.scoring_engine.conftest import rule_set_data

# The lead fields fit rules may name, as the Lead and Company models have them.
LEAD_FIELDS = [
    "email",
    "email_domain",
    "phone",
    "first_name",
    "last_name",
    "job_title",
    "seniority",
    "department",
    "country",
    "region",
    "city",
    "source_channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "company.name",
    "company.domain",
    "company.industry",
    "company.employee_count",
    "company.annual_revenue",
    "company.country",
    "company.region",
    "company.city",
]


def problems_of(data: Any) -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        rule_set_from_dict(data)
    return caught.value.problems


def test_default_rule_set_parses_and_names_only_real_lead_fields() -> None:
    text = resources.files("leadbase.scoring_engine").joinpath("default_rule_set.json")
    data = json.loads(text.read_text("utf-8"))
    rule_set = rule_set_from_dict(data, known_fields=LEAD_FIELDS)
    assert rule_set == default_rule_set()
    assert rule_set.description
    assert {"personal_email", "student", "competitor"} <= {r.id for r in rule_set.fit_rules}
    assert all(r.points < 0 for r in rule_set.fit_rules if r.id in {"student", "competitor"})
    negative = {r.id for r in rule_set.engagement_rules if r.points < 0}
    assert {"unsubscribed", "email_bounced"} <= negative


def test_default_rule_set_covers_the_event_catalogue() -> None:
    catalogue = {
        "page_view",
        "pricing_page_view",
        "content_download",
        "webinar_registered",
        "webinar_attended",
        "demo_request",
        "quote_request",
        "trial_signup",
        "form_submitted",
        "email_opened",
        "email_clicked",
        "social_engagement",
        "referral_made",
        "unsubscribed",
        "email_bounced",
    }
    covered = {t for r in default_rule_set().engagement_rules for t in r.event_types}
    assert catalogue <= covered


def test_round_trip_gives_an_equal_rule_set_and_fingerprint() -> None:
    rule_set = default_rule_set()
    again = rule_set_from_dict(json.loads(json.dumps(rule_set.to_dict())))
    assert again == rule_set
    assert again.fingerprint == rule_set.fingerprint
    assert again.to_dict() == rule_set.to_dict()


def test_fingerprint_changes_with_any_rule() -> None:
    data = rule_set_data()
    base = rule_set_from_dict(data)
    data["engagement_rules"][0]["points"] = 2
    assert rule_set_from_dict(data).fingerprint != base.fingerprint


def test_half_life_absent_inherits_and_null_never_decays() -> None:
    rule_set = rule_set_from_dict(rule_set_data())
    by_id = {r.id: r for r in rule_set.engagement_rules}
    assert rule_set.half_life_seconds(by_id["demo"]) == 7 * 86_400  # the rule set's default
    assert rule_set.half_life_seconds(by_id["view"]) == 3 * 86_400
    assert math.isinf(rule_set.half_life_seconds(by_id["open"]))
    round_trip = rule_set_from_dict(rule_set.to_dict())
    assert {r.id: r.half_life_days for r in round_trip.engagement_rules}["open"] == math.inf


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    data = rule_set_data(version=0, extra=1)
    data["fit_rules"] = [
        {"id": "title", "when": {"field": "job_title", "op": "equal", "value": "cto"}, "points": 5},
        {"id": "title", "when": {"field": "seniority", "op": "equals", "value": "vp"}},
    ]
    data["engagement_rules"][1]["daily_cap"] = -1
    data["engagement_rules"][2]["event"] = "Demo Request"
    data["thresholds"]["temperature"]["hot"] = {"engagement": 10}
    problems = problems_of(data)
    paths = [p.split(": ")[0] for p in problems]
    assert paths == [
        "extra",
        "version",
        "fit_rules[0] (title).when.op",
        "fit_rules[1] (title).id",
        "fit_rules[1] (title).points",
        "engagement_rules[1] (pricing).daily_cap",
        "engagement_rules[2] (demo).event",
        "thresholds.temperature.hot.engagement",
    ]
    assert 'did you mean "equals"' in problems[2]
    assert "ids must be unique" in problems[3]
    assert "a higher level is never easier to reach" in problems[7]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # given/when: one field of a good rule set is broken; then: the message says how to fix
        ({"name": ""}, "name: must be non-empty text"),
        ({"format": 2}, "format: this version of Leadbase reads format 1"),
        ({"engagement": {"half_life_days": 0}}, "engagement.half_life_days: must be a positive"),
        ({"engagement": {"max": "100"}}, "engagement.max: must be a number"),
        ({"weights": {"fit": -1}}, "weights.fit: must be at least 0"),
        ({"fit_rules": {}}, "fit_rules: must be a list of rules"),
        ({"fit_rules": [{"id": "x", "points": 1}]}, "fit_rules[0] (x).when: is required"),
        ({"thresholds": None}, "thresholds: is required"),
    ],
)
def test_a_broken_field_is_named(change: dict[str, Any], message: str) -> None:
    problems = problems_of(rule_set_data(**change))
    assert any(p.startswith(message) for p in problems), problems


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"grade": {"A": 10, "B": 50, "C": 25}}, "thresholds.grade: must not increase"),
        ({"grade": {"A": 75, "B": 50, "C": 25, "D": 0}}, "D is below C"),
        ({"grade": {"A": 75, "B": 50}}, "thresholds.grade.C: is required"),
        ({"temperature": {"warm": {}, "hot": {"engagement": 5}}}, "needs at least one of"),
        ({"temperature": {"warm": {"engagement": 20}, "hott": {}}}, 'did you mean "hot"'),
        (
            {
                "qualification": {
                    "iql": {"engagement": 5},
                    "mql": {"fit": 50, "engagement": 30},
                    "sql": {"fit": 60, "engagement": 60, "probability": 2},
                }
            },
            "thresholds.qualification.sql.probability: must be between 0 and 1",
        ),
        ({"margin": {"fit": -1}}, "thresholds.margin.fit: must be at least 0"),
    ],
)
def test_threshold_problems_are_named(thresholds: dict[str, Any], message: str) -> None:
    data = rule_set_data()
    data["thresholds"].update(thresholds)
    problems = problems_of(data)
    assert any(message in p for p in problems), problems


def test_a_rule_set_that_is_not_a_dict_is_refused() -> None:
    assert problems_of([1, 2]) == ["a rule set must be an object (a dict)"]


def test_every_operator_survives_the_round_trip() -> None:
    conditions: list[dict[str, Any]] = [
        {"field": "a", "op": "equals", "value": 3},
        {"field": "a", "op": "not_equals", "value": "x"},
        {"field": "a", "op": "in", "value": ["x", 2]},
        {"field": "a", "op": "not_in", "value": ["y"]},
        {"field": "a", "op": "contains", "value": "z"},
        {"field": "a", "op": "not_contains", "value": "z"},
        {"field": "a", "op": "starts_with", "value": "z"},
        {"field": "a", "op": "ends_with", "value": "z"},
        {"field": "a", "op": "regex", "value": "^A.c$"},
        {"field": "a", "op": "gt", "value": 1},
        {"field": "a", "op": "gte", "value": 1.5},
        {"field": "a", "op": "lt", "value": 1},
        {"field": "a", "op": "lte", "value": 1},
        {"field": "a", "op": "between", "value": [None, 4]},
        {"field": "a", "op": "is_empty"},
        {"field": "a.b", "op": "is_not_empty"},
    ]
    when = {"all": [{"any": conditions[:8]}, {"not": {"all": conditions[8:]}}]}
    data = rule_set_data(fit_rules=[{"id": "every_op", "when": when, "points": 1}])
    rule_set = rule_set_from_dict(data)
    assert rule_set_from_dict(rule_set.to_dict()) == rule_set
    # the regex keeps the author's pattern (the compiled one ignores case)
    written = rule_set.to_dict()["fit_rules"][0]["when"]["all"][1]["not"]["all"][0]
    assert written == {"field": "a", "op": "regex", "value": "^A.c$"}


def test_values_are_written_back_as_the_author_wrote_them() -> None:
    when = {"field": "country", "op": "in", "value": ["US", "GB"]}
    data = rule_set_data(fit_rules=[{"id": "market", "when": when, "points": 10}])
    assert rule_set_from_dict(data).to_dict()["fit_rules"][0]["when"] == when
