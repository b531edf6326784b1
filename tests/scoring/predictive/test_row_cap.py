"""The cap on the labelled leads trained on (LEADBASE_PREDICTIVE_MAX_ROWS): the most recent by
cut-off, both classes kept."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_django import Settings

from leadbase.scoring.predictive.dataset import (
    MIN_CLASS_SHARE,
    Outcome,
    cap_outcomes,
    dataset_build,
    outcomes,
)

from .world import World

outcome_lists = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 50)), min_size=0, max_size=60
).map(
    lambda rows: [
        Outcome(i, label, float(t), "won" if label else "lost") for i, (label, t) in enumerate(rows)
    ]
)


def _recency_rank(found: list[Outcome]) -> dict[int, int]:
    ordered = sorted(found, key=lambda o: (-o.cutoff, o.lead_id))
    return {o.lead_id: rank for rank, o in enumerate(ordered)}


@given(found=outcome_lists, limit=st.integers(-1, 70))
def test_cap_keeps_the_most_recent_and_both_classes(found: list[Outcome], limit: int) -> None:
    kept = cap_outcomes(found, limit)
    if limit <= 0 or len(found) <= limit:
        assert kept == found
        return
    assert len(kept) == limit
    assert [o.lead_id for o in kept] == sorted({o.lead_id for o in kept})  # lead order, no repeat
    rank = _recency_rank(found)
    for label in (0, 1):
        of_class = [o for o in found if o.label == label]
        kept_class = {o.lead_id for o in kept if o.label == label}
        # each class keeps its floor (or all it has)...
        floor = min(len(of_class), math.ceil(limit * MIN_CLASS_SHARE), limit // 2)
        assert len(kept_class) >= floor
        # ...and what a class keeps is its most recent ones
        newest = sorted(of_class, key=lambda o: rank[o.lead_id])[: len(kept_class)]
        assert kept_class == {o.lead_id for o in newest}
    # when no class needed its floor, the kept leads are exactly the most recent ones
    top = {o.lead_id for o in found if rank[o.lead_id] < limit}
    floors_met = all(
        sum(rank[o.lead_id] < limit and o.label == label for o in found)
        >= min(sum(o.label == label for o in found), math.ceil(limit * MIN_CLASS_SHARE), limit // 2)
        for label in (0, 1)
    )
    if floors_met:
        assert {o.lead_id for o in kept} == top


def test_a_rare_class_among_the_oldest_is_still_kept() -> None:
    # 5 old conversions, then 100 newer losses; a cap of 40 keeps 2 (5 %) conversions
    found = [Outcome(i, 1, float(i), "won") for i in range(5)]
    found += [Outcome(100 + i, 0, 1000.0 + i, "lost") for i in range(100)]
    kept = cap_outcomes(found, 40)
    assert sorted(o.lead_id for o in kept if o.label == 1) == [3, 4]
    assert [o.lead_id for o in kept if o.label == 0] == list(range(162, 200))


@pytest.mark.django_db
def test_dataset_uses_at_most_the_setting_and_says_so(world: World, settings: Settings) -> None:
    every = outcomes()
    settings.LEADBASE_PREDICTIVE_MAX_ROWS = 50
    data = dataset_build()
    assert len(data.y) == 50
    assert data.summary["labelled"] == 50
    assert data.summary["labelled_before_cap"] == len(every) > 50
    assert data.summary["capped"] is True and data.summary["max_rows"] == 50
    # the leads used are the 50 most recent outcomes
    newest = sorted(every, key=lambda o: (-o.cutoff, o.lead_id))[:50]
    assert sorted(data.lead_ids) == sorted(o.lead_id for o in newest)
    assert 0 < data.y.sum() < 50
    settings.LEADBASE_PREDICTIVE_MAX_ROWS = 0
    uncapped = dataset_build()
    assert len(uncapped.y) == len(every)
    assert uncapped.summary["capped"] is False and uncapped.summary["max_rows"] is None
