"""Fit rules: points for lead and company fields, clamped to 0..100, graded A-D."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.scoring_engine import ScoringEngine, default_rule_set, rule_set_from_dict
from leadbase.scoring_engine.fit import fit_score
from tests.scoring_engine.conftest import rule_set_data

ENGINE = ScoringEngine(default_rule_set())

IDEAL: dict[str, Any] = {
    "email": "ann@acme.example",
    "phone": "+14155550100",
    "job_title": "VP Marketing",
    "seniority": "vp",
    "department": "Marketing",
    "country": "US",
    "company": {
        "industry": "Software",
        "employee_count": 250,
        "annual_revenue": 3e7,
        "country": "US",
        "domain": "acme.example",
    },
}


def test_ideal_customer_gets_grade_a_with_each_matched_rule_listed() -> None:
    result = ENGINE.fit(IDEAL)
    assert result.score == 95  # 25 + 10 + 20 + 15 + 10 + 10 + 5
    assert result.grade == "A"
    assert [m.rule_id for m in result.matches] == [
        "decision_maker",
        "buying_department",
        "company_size_core",
        "target_industry",
        "revenue_10m",
        "target_market",
        "phone_given",
    ]


def test_personal_email_domain_is_derived_from_the_email_and_costs_points() -> None:
    result = ENGINE.fit({**IDEAL, "email": "Ann@GMAIL.com"})
    assert "personal_email" in {m.rule_id for m in result.matches}
    assert result.score == 80
    # an explicit email_domain wins over the derived one
    assert ENGINE.fit({**IDEAL, "email": "a@gmail.com", "email_domain": "acme.example"}).score == 95


def test_student_is_clamped_at_zero_and_graded_d() -> None:
    result = ENGINE.fit({"email": "bo@uni.edu", "job_title": "PhD student"})
    assert result.raw == -30  # the student rule matches once, whichever way it is found
    assert (result.score, result.grade) == (0, "D")


def test_competitor_loses_everything() -> None:
    competitor = {**IDEAL, "company": {**IDEAL["company"], "domain": "competitor.example"}}
    assert ENGINE.fit(competitor).score == 0


@pytest.mark.parametrize(
    ("lead", "grade"),
    [
        ({"seniority": "vp", "company": {"employee_count": 300, "industry": "saas"}}, "B"),
        ({"seniority": "manager", "company": {"employee_count": 20}}, "D"),
        ({"seniority": "manager", "country": "DE", "company": {"employee_count": 20}}, "C"),
        ({}, "D"),
    ],
)
def test_grade_follows_the_thresholds(lead: dict[str, Any], grade: str) -> None:
    assert ENGINE.fit(lead).grade == grade


LEADS = st.fixed_dictionaries(
    {
        "email": st.sampled_from(["a@gmail.com", "b@acme.example", "c@uni.edu", ""]),
        "seniority": st.sampled_from(["", "vp", "manager", "entry", "c_level"]),
        "job_title": st.sampled_from(["", "Head of Growth", "Intern", "CTO"]),
        "phone": st.sampled_from(["", "+441234"]),
        "company": st.fixed_dictionaries(
            {
                "employee_count": st.one_of(st.none(), st.integers(0, 20_000)),
                "industry": st.sampled_from(["", "Software", "Retail"]),
                "domain": st.sampled_from(["acme.example", "competitor.example"]),
            }
        ),
    }
)


@settings(max_examples=50, deadline=None)
@given(st.lists(LEADS, max_size=30))
def test_fit_many_equals_fit_one_by_one(leads: list[dict[str, Any]]) -> None:
    scores, grades = ENGINE.fit_many(leads)
    assert scores.tolist() == [ENGINE.fit(lead).score for lead in leads]
    assert grades.tolist() == [ENGINE.fit(lead).grade for lead in leads]


def test_fit_many_does_not_mix_up_equal_values_of_other_types() -> None:
    rule_set = rule_set_from_dict(
        rule_set_data(
            fit_rules=[
                {"id": "one", "when": {"field": "n", "op": "gte", "value": 1}, "points": 10},
                {"id": "dot", "when": {"field": "n", "op": "contains", "value": "."}, "points": 5},
            ]
        )
    )
    leads: list[dict[str, Any]] = [{"n": True}, {"n": 1}, {"n": 1.0}, {"n": Decimal("1")}]
    engine = ScoringEngine(rule_set)
    scores, _ = engine.fit_many(leads)
    assert scores.tolist() == [engine.fit(lead).score for lead in leads] == [0, 10, 15, 10]


@settings(max_examples=50, deadline=None)
@given(st.lists(LEADS, max_size=30))
def test_remembered_fit_equals_a_fresh_one(leads: list[dict[str, Any]]) -> None:
    """ScoringEngine.fit remembers results by the values the rules read: for any leads, in
    any order, with repeats, it answers what a fresh computation does."""
    for lead in leads + leads[::-1]:
        assert ENGINE.fit(lead) == fit_score(ENGINE.rule_set, lead)


def test_remembered_fit_tells_numbers_written_differently_apart() -> None:
    rule_set = rule_set_from_dict(
        rule_set_data(
            fit_rules=[
                {"id": "z", "when": {"field": "n", "op": "ends_with", "value": "00"}, "points": 5},
            ]
        )
    )
    engine = ScoringEngine(rule_set)
    values = [Decimal("1.0"), Decimal("1.00"), 1.0, 100, True]
    assert [engine.fit({"n": v}).score for v in values] == [0, 5, 0, 5, 0]
