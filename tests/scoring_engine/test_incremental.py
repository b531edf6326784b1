"""The incremental path equals the full recompute, and both equal a plain reference, for any
sequence of events (in order, late within the window, or later: then a rebuild) and any
evaluation time. Out of order: an event older than the newest one seen is applied exactly;
only an event of a day-capped rule whose UTC day is older than the late window asks for a
rebuild of the lead's state (StateRebuildNeeded), which then gives the same numbers."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import event as count_case
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.scoring_engine import (
    EngagementState,
    EventIn,
    RuleSet,
    ScoringEngine,
    StateRebuildNeeded,
    rule_set_from_dict,
)
from tests.scoring_engine.conftest import DAY, T0, rule_set_data

RULES = rule_set_from_dict(rule_set_data())
ENGINE = ScoringEngine(RULES)
HOUR = 3600.0
TOLERANCE = 1e-9


def reference(rule_set: RuleSet, events: Sequence[EventIn], at: float) -> float:
    """The semantics of docs/scoring-engine.md, written as plainly as possible."""
    total = 0.0
    for rule in rule_set.engagement_rules:
        matched = [
            e
            for e in events
            if e.type in rule.event_types and (rule.when is None or rule.when.matches(e.properties))
        ]
        half_life = rule_set.half_life_seconds(rule)
        by_day: dict[int, list[EventIn]] = {}
        for event in matched:
            by_day.setdefault(math.floor(event.at / DAY), []).append(event)
        value = 0.0
        for day_events in by_day.values():
            raw = abs(rule.points * len(day_events))
            share = 1.0
            if rule.daily_cap is not None and raw > rule.daily_cap:
                share = rule.daily_cap / raw
            for event in day_events:
                value += rule.points * share * 0.5 ** ((at - event.at) / half_life)
        if rule.cap is not None:
            value = max(-rule.cap, min(rule.cap, value))
        total += value
    return total


def full_recompute(
    engine: ScoringEngine,
    leads: Sequence[Sequence[EventIn]],
    at: float,
    shuffle: random.Random | None = None,
) -> np.ndarray:
    """The vectorised pass over the rows of all leads, by (lead, time) or shuffled."""
    lead_ids, types, times, props = [], [], [], []
    for i, events in enumerate(leads):
        for event in sorted(events, key=lambda e: e.at):
            lead_ids.append(i)
            types.append(event.type)
            times.append(event.at)
            props.append(event.properties)
    position, rule = engine.event_rows(types, props)
    lead = np.asarray(lead_ids, dtype=np.int64)[position]
    time = np.asarray(times, dtype=float)[position]
    if shuffle is None:  # the (lead, time) order of the event index
        order = np.lexsort((time, lead))
    else:
        order = np.array(shuffle.sample(range(len(lead)), len(lead)), dtype=np.intp)
    lead, rule, time = lead[order], rule[order], time[order]
    return engine.recompute(lead=lead, rule=rule, time=time, n_leads=len(leads), at=at).raw


EVENT_TYPES = [
    "page_view",
    "email_opened",
    "demo_request",
    "quote_request",
    "unsubscribed",
    "webinar_attended",
    "form_submitted",
]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(EVENT_TYPES),
        st.sampled_from(["/", "/pricing", "/blog/pricing-tips"]),
        st.floats(0, 30),  # hours since the previous event
        st.sampled_from([0.0, 0.0, 0.0, 0.5, 20.0, 40.0, 24 * 10.0]),  # hours late
        st.one_of(st.none(), st.floats(0, 60)),  # evaluate this many days after, or not
        st.booleans(),  # store the state as JSON and read it back here
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_incremental_equals_full_recompute_and_reference(
    steps: list[tuple[str, str, float, float, float | None, bool]],
) -> None:
    state = ENGINE.new_state()
    seen: list[EventIn] = []
    clock = T0 + 7 * HOUR
    for i, (event_type, url, gap, late, evaluate, store) in enumerate(steps):
        clock += gap * HOUR
        event = EventIn(type=event_type, at=clock - late * HOUR, properties={"url": url}, ref=i)
        seen.append(event)
        try:
            ENGINE.apply_event(state, event)
        except StateRebuildNeeded:
            assert late > 24 * RULES.late_window_days  # only events past the window
            count_case("rebuilt the state")
            state = ENGINE.rebuild_state(seen)
        if store:
            state = EngagementState.from_dict(json.loads(json.dumps(state.to_dict())))
        if evaluate is not None:
            at = clock + evaluate * DAY
            expected = reference(RULES, seen, at)
            assert ENGINE.engagement_raw(state, at=at) == pytest.approx(expected, abs=TOLERANCE)
            assert full_recompute(ENGINE, [seen], at)[0] == pytest.approx(expected, abs=TOLERANCE)
            explained = ENGINE.engagement_of(seen, at=at)
            assert explained.raw == pytest.approx(expected, abs=TOLERANCE)
            assert ENGINE.engagement(state, at=at) == pytest.approx(explained.score, abs=TOLERANCE)


LEAD_EVENTS = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(EVENT_TYPES), st.sampled_from(["/", "/pricing"]), st.floats(0, 24 * 40)
        ),
        max_size=25,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(LEAD_EVENTS, st.floats(0, 60), st.randoms(use_true_random=False))
def test_full_recompute_of_many_leads_equals_reference_in_any_row_order(
    leads: list[list[tuple[str, str, float]]], days_after: float, rng: random.Random
) -> None:
    events = [
        [EventIn(type=t, at=T0 + h * HOUR, properties={"url": u}) for t, u, h in lead]
        for lead in leads
    ]
    at = T0 + (40 + days_after) * DAY
    expected = [reference(RULES, lead, at) for lead in events]
    assert full_recompute(ENGINE, events, at) == pytest.approx(expected, abs=TOLERANCE)
    shuffled = full_recompute(ENGINE, events, at, shuffle=rng)
    assert shuffled == pytest.approx(expected, abs=TOLERANCE)


def test_late_event_past_the_window_asks_for_a_rebuild_and_leaves_the_state_alone() -> None:
    state = ENGINE.new_state()
    events = [EventIn("page_view", T0 + 10 * DAY), EventIn("page_view", T0 + 1 * DAY)]
    ENGINE.apply_event(state, events[0])
    before = state.to_dict()
    with pytest.raises(StateRebuildNeeded):
        ENGINE.apply_event(state, events[1])
    assert state.to_dict() == before
    # the same late event of a rule without a daily cap is applied exactly, in O(1)
    ENGINE.apply_event(state, EventIn("demo_request", T0))
    rebuilt = ENGINE.rebuild_state(events)
    at = T0 + 11 * DAY
    assert ENGINE.engagement_raw(rebuilt, at=at) == pytest.approx(reference(RULES, events, at))


def test_a_state_of_another_rule_set_asks_for_a_rebuild() -> None:
    state = ENGINE.new_state()
    ENGINE.apply_event(state, EventIn("demo_request", T0))
    data = rule_set_data()
    data["engagement_rules"][2]["points"] = 30
    other = ScoringEngine(rule_set_from_dict(data))
    with pytest.raises(StateRebuildNeeded):
        other.apply_event(state, EventIn("demo_request", T0 + DAY))


def test_state_stays_small_whatever_the_number_of_events() -> None:
    # a year of daily activity: the state keeps one value per rule plus the open days
    state = ENGINE.new_state()
    for day in range(365):
        for event_type in ("page_view", "email_opened", "demo_request"):
            ENGINE.apply_event(state, EventIn(event_type, T0 + day * DAY + 3600))
    open_days = sum(len(rule.days) for rule in state.rules.values())
    assert len(state.rules) == 3
    assert open_days <= 2 * (RULES.late_window_days + 2)
    assert len(json.dumps(state.to_dict())) < 1000


@pytest.mark.parametrize("dense_limit", [0, 10**9])
@pytest.mark.parametrize("ordered", [True, False])
def test_full_recompute_when_one_event_passes_the_daily_cap(
    monkeypatch: pytest.MonkeyPatch, dense_limit: int, ordered: bool
) -> None:
    # given a rule whose single event is worth more than its daily cap, and both ways of
    # summing per (lead, rule) (a dense array, or a sort when leads x rules is too large)
    data = rule_set_data()
    data["engagement_rules"].append(
        {"id": "big", "event": "trial_signup", "points": 30, "daily_cap": 20, "cap": 35}
    )
    engine = ScoringEngine(rule_set_from_dict(data))
    monkeypatch.setattr("leadbase.scoring_engine.recompute.DENSE_LIMIT", dense_limit)
    rng = random.Random(5)
    leads = [
        [
            EventIn(
                rng.choice([*EVENT_TYPES, "trial_signup"]),
                T0 + rng.random() * 5 * DAY,
                {"url": rng.choice(["/", "/pricing"])},
            )
            for _ in range(rng.randint(0, 30))
        ]
        for _ in range(40)
    ]
    at = T0 + 6 * DAY
    expected = [reference(engine.rule_set, lead, at) for lead in leads]
    got = full_recompute(engine, leads, at, shuffle=None if ordered else rng)
    assert got == pytest.approx(expected, abs=TOLERANCE)
    assert any(e.type == "trial_signup" for lead in leads for e in lead)
