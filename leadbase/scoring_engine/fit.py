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


def email_domain(email: Any) -> str | None:
    """The domain of an email address as rules read it (lower case), None without one."""
    if isinstance(email, str) and "@" in email:
        return email.rsplit("@", 1)[1].strip().lower()
    return None


def lead_record(lead: Mapping[str, Any]) -> Mapping[str, Any]:
    """The lead as rules read it: with `email_domain` derived from `email` when missing."""
    if "email_domain" in lead:
        return lead
    domain = email_domain(lead.get("email"))
    return lead if domain is None else {**lead, "email_domain": domain}


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


def fields_read(rule_set: RuleSet) -> frozenset[str]:
    """The field paths the fit rules read ("seniority", "company.industry", "email_domain"),
    so a caller scoring many leads can load only those."""
    found: set[str] = set()

    def walk(predicate: Predicate) -> None:
        if isinstance(predicate, Condition):
            found.add(predicate.field)
        elif isinstance(predicate, AllOf | AnyOf):
            for item in predicate.items:
                walk(item)
        else:
            walk(predicate.item)

    for rule in rule_set.fit_rules:
        walk(rule.when)
    return frozenset(found)


def fit_scores(
    rule_set: RuleSet, leads: Sequence[Mapping[str, Any]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    """(fit score, grade) of many leads, for the full recompute. Column by column: each field a
    condition names is read once per lead (see fit_columns)."""
    records = [lead_record(lead) for lead in leads]
    columns = {path: [resolve(r, path) for r in records] for path in fields_read(rule_set)}
    return fit_columns(rule_set, columns, len(records))


def fit_columns(
    rule_set: RuleSet, columns: Mapping[str, Sequence[Any]], n: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
    """(fit score, grade) of `n` leads given as columns: field path (as fields_read names
    them, "email_domain" included) -> one value per lead; a path not given reads as empty.
    Each condition is tested once per distinct value of its field, and the rules' all/any/not
    and points are numpy operations over the leads."""
    tested: dict[int, npt.NDArray[np.bool_]] = {}
    nothing: list[Any] = [None] * n

    def column(path: str) -> Sequence[Any]:
        return columns.get(path, nothing)

    def passes(predicate: Predicate) -> npt.NDArray[np.bool_]:
        if isinstance(predicate, Condition):
            if id(predicate) not in tested:
                tested[id(predicate)] = _tested(predicate, column(predicate.field))
            return tested[id(predicate)]
        if isinstance(predicate, AllOf):
            result = np.ones(n, dtype=bool)
            for item in predicate.items:
                result &= passes(item)
            return result
        if isinstance(predicate, AnyOf):
            result = np.zeros(n, dtype=bool)
            for item in predicate.items:
                result |= passes(item)
            return result
        return ~passes(predicate.item)

    raw = np.zeros(n)
    for rule in rule_set.fit_rules:
        raw[passes(rule.when)] += rule.points
    score = np.clip(raw, 0.0, FIT_MAX)
    letters = [letter for letter, _ in rule_set.thresholds.grades] + ["D"]
    lows = np.array([low for _, low in rule_set.thresholds.grades])
    # the first grade whose threshold the score reaches: count thresholds above the score
    index = (score[:, None] < lows[None, :]).sum(axis=1) if len(lows) else np.zeros(len(raw))
    grades = np.asarray(letters)[index.astype(int)]
    return score, grades


def _tested(condition: Condition, values: Sequence[Any]) -> npt.NDArray[np.bool_]:
    """`condition` on each value, tested once per distinct value. Values of other types that
    compare equal (True and 1, 1.0 and 1) read differently, so they are told apart; a column
    with unhashable values (a list) is tested value by value."""
    kinds = set(map(type, values))
    if kinds <= {str, type(None)}:
        keys: Sequence[Any] = values
    else:
        keys = [(type(v), repr(v) if isinstance(v, float | Decimal) else v) for v in values]
    try:
        distinct = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    except TypeError:
        return np.fromiter(map(condition.test, values), dtype=bool, count=len(values))
    first = dict(zip(keys, values, strict=True))  # a value per key, to test
    outcome = np.fromiter((condition.test(first[k]) for k in distinct), dtype=bool)
    codes = np.fromiter(map(distinct.__getitem__, keys), dtype=np.intp, count=len(keys))
    return outcome[codes] if len(codes) else np.zeros(0, dtype=bool)
