"""Matching events given as a PropertyTable (distinct values + a code per event, as the bulk
reader passes them) finds exactly the (event, rule) pairs that a plain list of properties
finds, whatever the sharing of values between events."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.scoring_engine import PropertyTable, ScoringEngine, rule_set_from_dict
from tests.scoring_engine.conftest import rule_set_data

ENGINE = ScoringEngine(rule_set_from_dict(rule_set_data()))
TYPES = ["page_view", "email_opened", "demo_request", "unsubscribed", "custom_thing"]
VALUES: list[dict[str, Any] | None] = [
    None,
    {},
    {"url": "/pricing"},
    {"url": "/blog/pricing-tips"},
    {"url": "/"},
    {"url": 3},
    {"other": "x"},
]


def pairs(position: np.ndarray, rule: np.ndarray) -> list[tuple[int, int]]:
    return sorted(zip(position.tolist(), rule.tolist(), strict=True))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TYPES), st.integers(0, len(VALUES) - 1)), max_size=80))
def test_property_table_matches_like_a_list(events: list[tuple[str, int]]) -> None:
    types = [t for t, _ in events]
    codes = np.array([c for _, c in events], dtype=np.intp)
    as_list = [VALUES[c] for _, c in events]

    plain = ENGINE.event_rows(types, as_list)
    table = ENGINE.event_rows(types, PropertyTable(codes=codes, values=VALUES))

    assert pairs(*table) == pairs(*plain)


def test_the_table_path_can_tell_values_apart() -> None:
    # the test above would pass if both paths ignored properties: show that they do not
    types = ["page_view", "page_view"]
    codes = np.array([2, 4], dtype=np.intp)  # /pricing, /
    with_pricing = pairs(*ENGINE.event_rows(types, PropertyTable(codes=codes, values=VALUES)))
    only_home = pairs(*ENGINE.event_rows(types, [VALUES[4], VALUES[4]]))
    assert with_pricing != only_home
