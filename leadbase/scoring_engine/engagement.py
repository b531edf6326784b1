"""Engagement: which rules an event matches, and the engagement of one lead from its events.

The semantics (docs/scoring-engine.md, "Caps and decay"), for each engagement rule r with
points p, half-life h, daily cap D and cap C, evaluated at time T:

1. every event that matches r counts p raw points at its own time t;
2. daily cap: the events of r in one UTC day (by event time) whose raw points add up to P count
   p * min(1, D / |P|) each: the day's total is capped at D, shared in proportion;
3. decay: each event's counted points are worth counted * 2 ** (-(T - t) / h) at T;
4. cap: the rule's decayed sum V is worth sign(V) * min(|V|, C) at T, each event's share
   scaled alike;
5. engagement = clamp(sum over rules, 0, engagement_max).

Nothing depends on the order events arrive in, so the incremental path (state.py), the
vectorised full recompute (recompute.py) and `engagement_explain` below give the same numbers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from leadbase.scoring_engine.predicates import Predicate
from leadbase.scoring_engine.rules import DAY, EngagementRule, RuleSet


@dataclass(frozen=True, slots=True)
class EventIn:
    """One event of a lead. `at` is POSIX seconds (`datetime.timestamp()`); `ref` is the
    caller's id for it (Event.pk), carried into explanations."""

    type: str
    at: float
    properties: Mapping[str, Any] = field(default_factory=dict)
    ref: int | str | None = None


@dataclass(frozen=True, slots=True)
class EventContribution:
    """One event's part in one rule, for the explanation: `points` raw, `counted` after the
    daily cap, `now` after decay and the rule's cap at the evaluation time."""

    rule_id: str
    label: str
    event_type: str
    ref: int | str | None
    at: float
    age_seconds: float
    points: float
    counted: float
    now: float


@dataclass(frozen=True, slots=True)
class RuleContribution:
    rule_id: str
    label: str
    events: int
    uncapped: float  # decayed sum before the rule's cap
    now: float  # after the cap
    capped: bool
    day_capped: bool  # some day of this rule went over its daily cap


@dataclass(frozen=True, slots=True)
class EngagementResult:
    raw: float  # the sum over rules, before clamping to 0..engagement_max
    score: float
    rules: tuple[RuleContribution, ...]
    events: tuple[EventContribution, ...]  # newest first


class CompiledRules:
    """A rule set's engagement rules as lookup tables and numpy arrays (built once per rule
    set; cheap). Index i everywhere is the rule's position in rule_set.engagement_rules."""

    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set = rule_set
        rules = rule_set.engagement_rules
        self.rules: tuple[EngagementRule, ...] = rules
        self.index = rule_set.rule_index()
        by_type: dict[str, list[int]] = defaultdict(list)
        for i, rule in enumerate(rules):
            for event_type in rule.event_types:
                by_type[event_type].append(i)
        self.by_type = {t: tuple(ids) for t, ids in by_type.items()}
        self.points: npt.NDArray[np.float64] = np.array([r.points for r in rules], dtype=float)
        half_lives = [rule_set.half_life_seconds(r) for r in rules]
        # decay factor 2 ** (-age * rate); rate 0 for rules that never decay
        self.rate = np.array([0.0 if math.isinf(h) else 1.0 / h for h in half_lives])
        self.cap = np.array([math.inf if r.cap is None else r.cap for r in rules], dtype=float)
        self.daily_cap = np.array(
            [math.inf if r.daily_cap is None else r.daily_cap for r in rules], dtype=float
        )
        self.rate_list: list[float] = self.rate.tolist()
        self.cap_list: list[float] = self.cap.tolist()
        self.daily_cap_list: list[float] = self.daily_cap.tolist()
        self.points_list: list[float] = self.points.tolist()

    def matching(self, event_type: str, properties: Mapping[str, Any]) -> tuple[int, ...]:
        """Indexes of the rules an event matches (every matching rule counts)."""
        candidates = self.by_type.get(event_type, ())
        if not candidates:
            return ()
        found = []
        for i in candidates:
            when = self.rules[i].when
            if when is None or when.matches(properties):
                found.append(i)
        return tuple(found)

    def decay(self, rule: int, age: float) -> float:
        """The factor a point of `rule` is worth after `age` seconds."""
        rate = self.rate_list[rule]
        return 1.0 if rate == 0.0 else math.exp2(-age * rate)

    def clamp(self, raw: float) -> float:
        return min(max(raw, 0.0), self.rule_set.engagement_max)


def day_of(at: float) -> int:
    """The UTC day number of a POSIX time (the bucket of the daily cap)."""
    return math.floor(at / DAY)


def day_scale(daily_cap: float, raw_points: float) -> float:
    """The share of its raw points a day counts: 1 up to the daily cap, then cap / |raw|."""
    magnitude = abs(raw_points)
    return 1.0 if magnitude <= daily_cap else daily_cap / magnitude


def cap_value(cap: float, value: float) -> float:
    return value if abs(value) <= cap else math.copysign(cap, value)


def engagement_explain(
    compiled: CompiledRules, events: Iterable[EventIn], at: float
) -> EngagementResult:
    """The engagement of one lead at `at` from all its events, with every contribution:
    the plain-Python reference of the semantics above, O(events)."""
    rows: dict[int, list[EventIn]] = defaultdict(list)
    for event in events:
        for index in compiled.matching(event.type, event.properties):
            rows[index].append(event)
    rule_parts: list[RuleContribution] = []
    event_parts: list[EventContribution] = []
    raw = 0.0
    for rule_index in sorted(rows):
        rule = compiled.rules[rule_index]
        matched = rows[rule_index]
        per_day: dict[int, float] = defaultdict(float)
        for event in matched:
            per_day[day_of(event.at)] += rule.points
        daily_cap = compiled.daily_cap_list[rule_index]
        counted = [rule.points * day_scale(daily_cap, per_day[day_of(e.at)]) for e in matched]
        decayed = [
            c * compiled.decay(rule_index, at - e.at) for c, e in zip(counted, matched, strict=True)
        ]
        uncapped = math.fsum(decayed)
        value = cap_value(compiled.cap_list[rule_index], uncapped)
        share = value / uncapped if uncapped else 1.0
        raw += value
        day_capped = any(day_scale(daily_cap, p) < 1.0 for p in per_day.values())
        rule_parts.append(
            RuleContribution(
                rule_id=rule.id,
                label=rule.label,
                events=len(matched),
                uncapped=uncapped,
                now=value,
                capped=value != uncapped,
                day_capped=day_capped,
            )
        )
        for event, count, worth in zip(matched, counted, decayed, strict=True):
            event_parts.append(
                EventContribution(
                    rule_id=rule.id,
                    label=rule.label,
                    event_type=event.type,
                    ref=event.ref,
                    at=event.at,
                    age_seconds=at - event.at,
                    points=rule.points,
                    counted=count,
                    now=worth * share,
                )
            )
    event_parts.sort(key=lambda part: (-part.at, part.rule_id))
    return EngagementResult(
        raw=raw, score=compiled.clamp(raw), rules=tuple(rule_parts), events=tuple(event_parts)
    )


@dataclass(frozen=True)
class PropertyTable:
    """A batch's event properties as their distinct values and one code per event (an index
    into `values`): a conditional rule then tests each distinct value once, which pays when
    many events share properties (the same page, the same email)."""

    codes: npt.NDArray[np.intp]
    values: Sequence[Mapping[str, Any] | None]


def event_rows(
    compiled: CompiledRules,
    types: Sequence[str],
    properties: Sequence[Mapping[str, Any] | None] | PropertyTable | None = None,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int16]]:
    """Match a batch of events to rules: (event position, rule index) for every match, the
    input of the vectorised recompute. Rules without conditions are matched per distinct type;
    only events of a type that has a conditional rule read their properties."""
    code_of = {event_type: code for code, event_type in enumerate(dict.fromkeys(types))}
    inverse = np.fromiter(map(code_of.__getitem__, types), dtype=np.intp, count=len(types))
    positions: list[npt.NDArray[np.intp]] = []
    rule_ids: list[npt.NDArray[np.int16]] = []
    for event_type, k in sorted(code_of.items()):
        candidates = compiled.by_type.get(event_type, ())
        if not candidates:
            continue
        where = np.flatnonzero(inverse == k)
        for rule in candidates:
            when = compiled.rules[rule].when
            hits = where if when is None else _matching(when, where, properties)
            positions.append(hits)
            rule_ids.append(np.full(len(hits), rule, dtype=np.int16))
    if not positions:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.int16)
    return np.concatenate(positions), np.concatenate(rule_ids)


def _matching(
    when: Predicate,
    where: npt.NDArray[np.intp],
    properties: Sequence[Mapping[str, Any] | None] | PropertyTable | None,
) -> npt.NDArray[np.intp]:
    """The positions in `where` whose properties satisfy `when`."""
    if properties is None:
        return where if when.matches(_EMPTY) else where[:0]
    if isinstance(properties, PropertyTable):
        codes = properties.codes[where]
        ok = np.zeros(len(properties.values), dtype=bool)
        for code in np.unique(codes).tolist():
            ok[code] = when.matches(properties.values[code] or _EMPTY)
        return where[ok[codes]]
    keep = [p for p in where.tolist() if when.matches(properties[p] or _EMPTY)]
    return np.asarray(keep, dtype=np.intp)


_EMPTY: Mapping[str, Any] = MappingProxyType({})
