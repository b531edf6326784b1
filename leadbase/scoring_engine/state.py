"""The incremental path: a small per-lead state, updated in O(1) per event.

The state holds, per rule that has seen events, its decayed value as of `as_of` (the newest
event time seen), plus for rules with a daily cap the open days: for each, the decayed sum of
its events before the day's cap and their raw points, so that a later event of the same day can
re-share the cap. Days older than `late_window_days` before `as_of` are settled into the value.

Out of order: an event older than `as_of` is applied exactly (its points decayed to `as_of`),
with one exception: an event of a day-capped rule whose day was already settled raises
`StateRebuildNeeded`, and the caller rebuilds the state from the lead's events
(`state_rebuild`, O(events of that lead)). Either way the result equals a full recompute.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leadbase.scoring_engine.engagement import (
    CompiledRules,
    EventIn,
    cap_value,
    day_of,
    day_scale,
)
from leadbase.scoring_engine.rules import DAY


class StateRebuildNeeded(Exception):
    """The event cannot be applied in O(1): rebuild this lead's state from all its events."""


@dataclass(slots=True)
class RuleState:
    settled: float = 0.0  # decayed to as_of: events without a daily cap, and settled days
    days: dict[int, list[float]] = field(default_factory=dict)  # day -> [decayed sum, raw]


@dataclass(slots=True)
class EngagementState:
    """Per-lead engagement state; `to_dict()` is JSON-compatible and `from_dict` reads it back.
    `fingerprint` names the rule set it was built with: a different one needs a rebuild."""

    fingerprint: str
    as_of: float | None = None
    rules: dict[str, RuleState] = field(default_factory=dict)
    events: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "as_of": self.as_of,
            "events": self.events,
            "rules": {
                rid: {"settled": s.settled, "days": [[d, *v] for d, v in sorted(s.days.items())]}
                for rid, s in self.rules.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngagementState:
        rules = {
            rid: RuleState(
                settled=float(r["settled"]),
                days={int(d): [float(s), float(p)] for d, s, p in r["days"]},
            )
            for rid, r in data["rules"].items()
        }
        as_of = data["as_of"]
        return cls(
            fingerprint=str(data["fingerprint"]),
            as_of=None if as_of is None else float(as_of),
            rules=rules,
            events=int(data.get("events", 0)),
        )


def state_new(compiled: CompiledRules) -> EngagementState:
    return EngagementState(fingerprint=compiled.rule_set.fingerprint)


def state_apply(compiled: CompiledRules, state: EngagementState, event: EventIn) -> None:
    """Add one event to `state` (in place), in O(rules) whatever the number of past events.
    Raises StateRebuildNeeded (leaving the state unchanged) when it cannot be exact."""
    if state.fingerprint != compiled.rule_set.fingerprint:
        raise StateRebuildNeeded("the state was built with another rule set")
    matched = compiled.matching(event.type, event.properties)
    if state.as_of is not None and event.at < state.as_of:
        horizon = _horizon(compiled, state.as_of)
        for rule in matched:
            if compiled.daily_cap_list[rule] != math.inf and day_of(event.at) < horizon:
                raise StateRebuildNeeded("a late event of a day-capped rule whose day is settled")
    state.events += 1
    if not matched:
        return
    if state.as_of is None:
        state.as_of = event.at
    elif event.at > state.as_of:
        _advance(compiled, state, event.at)
    age = state.as_of - event.at
    for rule in matched:
        rid = compiled.rules[rule].id
        rule_state = state.rules.get(rid)
        if rule_state is None:
            rule_state = state.rules[rid] = RuleState()
        points = compiled.points_list[rule]
        worth = points * compiled.decay(rule, age)
        daily_cap = compiled.daily_cap_list[rule]
        if daily_cap == math.inf:
            rule_state.settled += worth
            continue
        day = rule_state.days.setdefault(day_of(event.at), [0.0, 0.0])
        day[0] += worth  # [decayed sum at as_of before the day's cap, raw points]
        day[1] += points


def _horizon(compiled: CompiledRules, as_of: float) -> int:
    """The oldest day still open at `as_of`."""
    return day_of(as_of - compiled.rule_set.late_window_days * DAY)


def _advance(compiled: CompiledRules, state: EngagementState, to: float) -> None:
    """Decay every stored value from state.as_of to `to`, settling days past the window."""
    assert state.as_of is not None
    age = to - state.as_of
    horizon = _horizon(compiled, to)
    for rid, rule_state in state.rules.items():
        rule = compiled.index[rid]
        factor = compiled.decay(rule, age)
        rule_state.settled *= factor
        if not rule_state.days:
            continue
        daily_cap = compiled.daily_cap_list[rule]
        for day in [d for d in rule_state.days if d < horizon]:
            decayed, raw = rule_state.days.pop(day)
            rule_state.settled += decayed * factor * day_scale(daily_cap, raw)
        for values in rule_state.days.values():
            values[0] *= factor
    state.as_of = to


def state_value(compiled: CompiledRules, state: EngagementState, at: float) -> float:
    """The unclamped engagement (sum of the rules' capped values) of the state at `at`."""
    if state.as_of is None:
        return 0.0
    age = at - state.as_of
    total = 0.0
    for rid, rule_state in state.rules.items():
        rule = compiled.index[rid]
        value = rule_state.settled
        daily_cap = compiled.daily_cap_list[rule]
        for decayed, raw in rule_state.days.values():
            value += decayed * day_scale(daily_cap, raw)
        total += cap_value(compiled.cap_list[rule], value * compiled.decay(rule, age))
    return total


def state_rebuild(compiled: CompiledRules, events: Iterable[EventIn]) -> EngagementState:
    """The state after all `events` (any order), O(events): applied in time order, so no
    event is late and none needs a rebuild."""
    state = state_new(compiled)
    for event in sorted(events, key=lambda e: e.at):
        state_apply(compiled, state, event)
    return state
