"""The predicate language: each operator, case-insensitivity, numbers, emptiness, combinations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from leadbase.scoring_engine.predicates import Problems, parse_predicate

LEAD: dict[str, Any] = {
    "job_title": "  VP of Marketing ",
    "seniority": "vp",
    "email": "ann@Acme.example",
    "phone": "",
    "tags": ["Partner", "EMEA"],
    "company": {
        "industry": "Software",
        "employee_count": 250,
        "annual_revenue": Decimal("2e7"),
        "name": "Acme",
        "size_text": "1,200",
    },
}


def check(condition: dict[str, Any], record: dict[str, Any] | None = None) -> bool:
    problems = Problems()
    predicate = parse_predicate(condition, "when", problems)
    assert predicate is not None, problems.items
    return predicate.matches(LEAD if record is None else record)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # text comparisons ignore case and surrounding spaces
        ({"field": "job_title", "op": "equals", "value": "vp of marketing"}, True),
        ({"field": "job_title", "op": "not_equals", "value": "VP OF MARKETING"}, False),
        ({"field": "company.industry", "op": "in", "value": ["saas", "SOFTWARE"]}, True),
        ({"field": "company.industry", "op": "not_in", "value": ["retail"]}, True),
        ({"field": "job_title", "op": "contains", "value": "Market"}, True),
        ({"field": "job_title", "op": "not_contains", "value": "sales"}, True),
        ({"field": "job_title", "op": "starts_with", "value": "vp"}, True),
        ({"field": "email", "op": "ends_with", "value": "@acme.example"}, True),
        ({"field": "job_title", "op": "regex", "value": r"\bvp\b"}, True),
        ({"field": "job_title", "op": "regex", "value": r"^chief"}, False),
        # numbers: ints, Decimals and numeric strings; both ends of between are included
        ({"field": "company.employee_count", "op": "between", "value": [50, 250]}, True),
        ({"field": "company.employee_count", "op": "between", "value": [251, None]}, False),
        ({"field": "company.annual_revenue", "op": "gte", "value": 10_000_000}, True),
        ({"field": "company.size_text", "op": "gt", "value": 1000}, True),
        ({"field": "company.employee_count", "op": "lt", "value": 250}, False),
        ({"field": "company.employee_count", "op": "lte", "value": 250}, True),
        ({"field": "company.employee_count", "op": "equals", "value": 250}, True),
        # a text field never matches a numeric operator
        ({"field": "job_title", "op": "gt", "value": 0}, False),
        # emptiness: missing, blank and whitespace are empty
        ({"field": "phone", "op": "is_empty"}, True),
        ({"field": "department", "op": "is_empty"}, True),
        ({"field": "company.city", "op": "is_empty"}, True),
        ({"field": "job_title", "op": "is_not_empty"}, True),
        # a missing field matches no positive test, and every negative one
        ({"field": "department", "op": "equals", "value": "sales"}, False),
        ({"field": "department", "op": "not_equals", "value": "sales"}, True),
        # list fields match element by element
        ({"field": "tags", "op": "in", "value": ["partner"]}, True),
        ({"field": "tags", "op": "contains", "value": "eme"}, True),
        # combinations
        (
            {
                "all": [
                    {"field": "seniority", "op": "equals", "value": "vp"},
                    {"field": "company.employee_count", "op": "gte", "value": 100},
                ]
            },
            True,
        ),
        (
            {
                "any": [
                    {"field": "seniority", "op": "equals", "value": "owner"},
                    {"field": "phone", "op": "is_not_empty"},
                ]
            },
            False,
        ),
        ({"not": {"field": "seniority", "op": "equals", "value": "vp"}}, False),
    ],
)
def test_condition_matches_as_documented(condition: dict[str, Any], expected: bool) -> None:
    assert check(condition) is expected


def test_a_boolean_is_not_a_number() -> None:
    assert not check({"field": "flag", "op": "gte", "value": 0}, {"flag": True})


def test_regex_ignores_case_and_reads_a_bounded_prefix() -> None:
    record = {"note": "x" * 5000 + "needle"}
    assert check({"field": "note", "op": "regex", "value": "X{3}"}, record)
    assert not check({"field": "note", "op": "regex", "value": "needle"}, record)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "job_title", "op": "equal", "value": "x"}, 'did you mean "equals"'),
        ({"field": "job title", "op": "equals", "value": "x"}, "must be a field name"),
        ({"field": "x", "op": "regex", "value": "a" * 201}, "keep it to at most 200"),
        ({"field": "x", "op": "regex", "value": "(a+)+$"}, "exponential time"),
        ({"field": "x", "op": "regex", "value": "(unclosed"}, "not a valid regular expression"),
        ({"field": "x", "op": "between", "value": [10, 1]}, "swap them"),
        ({"field": "x", "op": "between", "value": 5}, "needs [low, high]"),
        ({"field": "x", "op": "gt", "value": "5"}, "compares numbers"),
        ({"field": "x", "op": "in", "value": []}, "non-empty list"),
        ({"field": "x", "op": "is_empty", "value": 1}, "takes no value"),
        ({"field": "x", "op": "contains"}, "needs a value"),
        ({"field": "x", "op": "equals", "value": 1, "extra": 2}, "unknown keys ['extra']"),
        ({"all": []}, "non-empty list"),
        ("job_title = CTO", "must be an object"),
    ],
)
def test_invalid_condition_is_reported_with_a_fix(condition: Any, message: str) -> None:
    problems = Problems()
    assert parse_predicate(condition, "when", problems) is None
    assert any(message in item for item in problems.items), problems.items


def test_every_problem_in_a_combination_is_reported() -> None:
    problems = Problems()
    condition = {"any": [{"field": "a", "op": "nope"}, {"field": "b", "op": "gt", "value": "x"}]}
    assert parse_predicate(condition, "when", problems) is None
    assert [p.split(":")[0] for p in problems.items] == ["when.any[0].op", "when.any[1].value"]


def test_unknown_field_is_reported_when_fields_are_known() -> None:
    problems = Problems()
    known = ["job_title", "company.industry"]
    condition = {"field": "company.industy", "op": "equals", "value": "x"}
    assert parse_predicate(condition, "when", problems, known) is None
    assert 'did you mean "company.industry"' in problems.items[0]
    # custom attributes are always allowed
    condition = {"field": "attributes.plan", "op": "equals", "value": "pro"}
    assert parse_predicate(condition, "when", Problems(), known) is not None
