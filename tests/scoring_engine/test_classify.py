"""Classification: thresholds make temperature, qualification and prospect; hysteresis keeps
leads from flapping; every change says why."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.scoring_engine import (
    Classification,
    RuleSet,
    RuleSetError,
    Scores,
    classify,
    default_rule_set,
    rule_set_from_dict,
)
from tests.scoring_engine.conftest import rule_set_data

THRESHOLDS = default_rule_set().thresholds  # warm 20 / hot 50; iql 5, mql 50+30, sql 60+60+0.5
MARGINS = THRESHOLDS.margins  # fit 5, engagement 5, probability 0.05
ORDER = {"cold": 0, "warm": 1, "hot": 2, "": 0, "iql": 1, "mql": 2, "sql": 3}


def step(
    previous: Classification | None, fit: float, engagement: float, probability: float | None = None
) -> Classification:
    return classify(THRESHOLDS, previous, Scores(fit, engagement, probability)).classification


def test_a_new_lead_reaches_each_level_at_its_threshold() -> None:
    assert step(None, 0, 0) == Classification("cold", "", False)
    assert step(None, 60, 20) == Classification("warm", "iql", True)
    assert step(None, 55, 50) == Classification("hot", "mql", False)
    assert step(None, 60, 60) == Classification("hot", "sql", True)  # no probability: not needed


def test_a_known_probability_must_also_reach_its_threshold() -> None:
    assert step(None, 60, 60, probability=0.4).qualification == "mql"
    assert step(None, 60, 60, probability=0.5).qualification == "sql"


def test_leads_move_down_only_below_threshold_less_margin() -> None:
    hot = step(None, 70, 55)
    assert step(hot, 70, 45.5).temperature == "hot"  # below 50 but above 45: stays
    assert step(hot, 70, 44.9).temperature == "warm"
    assert step(hot, 70, 10).temperature == "cold"  # below warm's 15 too: straight to cold
    prospect = step(None, 60, 0)
    assert step(prospect, 55, 0).prospect
    assert not step(prospect, 54.9, 0).prospect


def test_a_lead_falls_to_the_highest_level_it_still_holds() -> None:
    sql = step(None, 70, 70, probability=0.9)
    # probability drops under sql's 0.45: mql still held (fit 70 >= 45, engagement 27 >= 25)
    assert step(sql, 70, 27, probability=0.1).qualification == "mql"
    assert step(sql, 70, 24, probability=0.1).qualification == "iql"


def test_changes_carry_their_reasons() -> None:
    result = classify(THRESHOLDS, None, Scores(62, 51.25))
    reasons = {c.kind: (c.from_value, c.to_value, c.reason) for c in result.changes}
    assert reasons["temperature"] == ("cold", "hot", "engagement 51.25 ≥ 50: reached hot")
    assert reasons["qualification"] == (
        "",
        "mql",
        "fit 62 ≥ 50 and engagement 51.25 ≥ 30: reached MQL",
    )
    assert reasons["prospect"] == ("no", "yes", "fit 62 reached the ideal-customer fit 60")
    down = classify(THRESHOLDS, result.classification, Scores(62, 40))
    (change,) = [c for c in down.changes if c.kind == "temperature"]
    assert change.reason == "engagement 40 fell below 45 (hot at 50, less the margin of 5)"
    assert classify(THRESHOLDS, down.classification, Scores(62, 40)).changes == ()


SCORE = st.floats(0, 100, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    fit=SCORE,
    engagement=SCORE,
    probability=st.one_of(st.none(), st.floats(0, 0.9)),
    wiggles=st.lists(
        st.tuples(st.floats(0, 0.999), st.floats(0, 0.999), st.floats(0, 0.999)),
        min_size=2,
        max_size=30,
    ),
    start=st.sampled_from([None, Classification("hot", "sql", True), Classification()]),
)
def test_scores_moving_within_the_margin_never_flap(
    fit: float,
    engagement: float,
    probability: float | None,
    wiggles: list[tuple[float, float, float]],
    start: Classification | None,
) -> None:
    # given scores that oscillate in a box narrower than the margins, once the class has settled
    # after the first step, each ladder only ever moves one way (no up-then-down or back)
    current = step(start, fit, engagement, probability)
    history = [current]
    for f, e, p in wiggles:
        current = step(
            current,
            fit + f * MARGINS.fit,
            engagement + e * MARGINS.engagement,
            None if probability is None else probability + p * MARGINS.probability,
        )
        history.append(current)
    for ladder in ("temperature", "qualification", "prospect"):
        levels = [ORDER.get(getattr(c, ladder), getattr(c, ladder)) for c in history]
        moves = {(b > a) - (b < a) for a, b in itertools.pairwise(levels)} - {0}
        assert len(moves) <= 1, (ladder, levels)


def test_an_unknown_previous_level_is_read_as_the_lowest() -> None:
    assert step(Classification("lukewarm", "xql", False), 0, 30).temperature == "warm"


def grade_rules(sql: dict[str, object]) -> RuleSet:
    data = rule_set_data()
    data["thresholds"]["qualification"]["mql"] = {"fit": 30, "engagement": 30}
    data["thresholds"]["qualification"]["sql"] = sql
    return rule_set_from_dict(data)


def test_a_level_can_ask_for_a_fit_grade() -> None:
    # "SQL needs fit grade B or better and a probability of at least 0.5" (B starts at 50)
    rules = grade_rules({"grade": "b", "engagement": 60, "probability": 0.5})
    sql = rules.thresholds.qualification[-1]
    assert (sql.grade, sql.fit_min) == ("B", 50)
    assert rules.to_dict()["thresholds"]["qualification"]["sql"]["grade"] == "B"
    assert rule_set_from_dict(rules.to_dict()) == rules  # round trip

    def qualification(fit: float, probability: float) -> str:
        scores = Scores(fit, 70, probability)
        return classify(rules.thresholds, None, scores).classification.qualification

    assert qualification(50, 0.5) == "sql"
    assert qualification(49.9, 0.9) == "mql"  # grade C: not SQL, whatever the probability
    assert qualification(80, 0.49) == "mql"
    reason = classify(rules.thresholds, None, Scores(55, 70, 0.6)).changes[-1].reason
    assert "fit 55 ≥ 50 (grade B)" in reason


def test_a_grade_and_a_fit_together_take_the_higher() -> None:
    sql = grade_rules({"grade": "C", "fit": 60, "engagement": 60}).thresholds.qualification[-1]
    assert sql.fit_min == 60


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ({"grade": "E", "engagement": 60}, "must be a grade with a threshold: A, B, C"),
        ({"grade": 2, "engagement": 60}, "must be a grade with a threshold"),
        # mql asks for fit 30: an SQL of grade C (25) would be easier to reach
        ({"grade": "C", "engagement": 60}, "must be at least mql's fit (30)"),
    ],
)
def test_a_bad_grade_is_reported(sql: dict[str, object], message: str) -> None:
    with pytest.raises(RuleSetError) as error:
        grade_rules(sql)
    assert any(message in problem for problem in error.value.problems), error.value.problems
