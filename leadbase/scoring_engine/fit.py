"""Fit: how well a lead matches the ideal customer, from its own and its company's fields.

A lead is a mapping of field values, the company nested under "company", custom attributes
under "attributes" (as the Lead model has them); `email_domain` is derived from `email` when the
caller does not give it. The fit score is the sum of the points of the rules that match,
clamped to 0..100; the grade is the first of A, B, C whose threshold the score reaches, else D.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from leadbase.scoring_engine.predicates import AllOf, AnyOf, Condition, Predicate, resolve
from leadbase.scoring_engine.rules import RuleSet, Thresholds

FIT_MAX = 100.0


@dataclass(frozen=True, slots=True)
class FitMatch:
    rule_id: str
    label: str
    points: float


@dataclass(frozen=True, slots=True)
class FitResult:
    raw: float  # the sum of the matched rules' points
    score: float  # clamped to 0..100
    grade: str
    matches: tuple[FitMatch, ...]


def lead_record(lead: Mapping[str, Any]) -> Mapping[str, Any]:
    """The lead as rules read it: with `email_domain` derived from `email` when missing."""
    if "email_domain" in lead:
        return lead
    email = lead.get("email")
    if isinstance(email, str) and "@" in email:
        return {**lead, "email_domain": email.rsplit("@", 1)[1].strip().lower()}
    return lead


def grade_for(thresholds: Thresholds, fit: float) -> str:
    for letter, lowest in thresholds.grades:
        if fit >= lowest:
            return letter
    return "D"


def fit_score(rule_set: RuleSet, lead: Mapping[str, Any]) -> FitResult:
    record = lead_record(lead)
    matches = tuple(
        FitMatch(rule_id=rule.id, label=rule.label, points=rule.points)
        for rule in rule_set.fit_rules
        if rule.when.matches(record)
    )
    raw = sum(m.points for m in matches)
    score = min(max(raw, 0.0), FIT_MAX)
    return FitResult(
        raw=raw, score=score, grade=grade_for(rule_set.thresholds, score), matches=matches
    )


def fit_scores(
    rule_set: RuleSet, leads: Sequence[Mapping[str, Any]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    """(fit score, grade) of many leads, for the full recompute. A single-field condition is
    evaluated once per distinct value of its field, so the cost follows the distinct values,
    not the leads."""
    memo: dict[tuple[int, type, Any], bool] = {}

    def matches(predicate: Predicate, record: Mapping[str, Any]) -> bool:
        if isinstance(predicate, Condition):
            value = resolve(record, predicate.field)
            try:
                # equal values of other types read differently (True vs 1, 1.0 vs 1)
                exact = repr(value) if isinstance(value, float | Decimal) else value
                key = (id(predicate), type(value), exact)
                hit = memo.get(key)
            except TypeError:  # an unhashable value (a list): no memo
                return predicate.matches(record)
            if hit is None:
                hit = memo[key] = predicate.matches(record)
            return hit
        if isinstance(predicate, AllOf):
            return all(matches(p, record) for p in predicate.items)
        if isinstance(predicate, AnyOf):
            return any(matches(p, record) for p in predicate.items)
        return not matches(predicate.item, record)

    rules = rule_set.fit_rules
    raw = np.zeros(len(leads))
    for i, lead in enumerate(leads):
        record = lead_record(lead)
        raw[i] = sum(rule.points for rule in rules if matches(rule.when, record))
    score = np.clip(raw, 0.0, FIT_MAX)
    letters = [letter for letter, _ in rule_set.thresholds.grades] + ["D"]
    lows = np.array([low for _, low in rule_set.thresholds.grades])
    # the first grade whose threshold the score reaches: count thresholds above the score
    index = (score[:, None] < lows[None, :]).sum(axis=1) if len(lows) else np.zeros(len(raw))
    grades = np.asarray(letters)[index.astype(int)]
    return score, grades
