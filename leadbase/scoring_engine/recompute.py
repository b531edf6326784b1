"""The full recompute: the engagement of every lead from every event, one vectorised pass.

Input: parallel arrays with one row per (event, matching rule), as `event_rows` makes them:
the lead's index (0..n_leads-1), the rule's index, the event time (POSIX seconds). Output: the
engagement per lead, by the semantics in engagement.py, equal to the incremental path.

Cost: a few passes over the rows, no sort of them all: per-(lead, rule) sums go through one
`np.bincount` (dense leads x rules); daily caps only look at the rows of day-capped rules, and
only sort those of (lead, day)s busy enough to pass a cap. That relies on the rows coming
ordered by (lead, time) (the order of the event table's (lead, occurred_at) index); other
orders pay one O(rows log rows) sort of the day-capped rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from leadbase.scoring_engine.engagement import CompiledRules
from leadbase.scoring_engine.rules import DAY

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.integer]


@dataclass(frozen=True, slots=True)
class EngagementArrays:
    raw: FloatArray  # per lead: the sum of the rules' capped values
    score: FloatArray  # raw clamped to 0..engagement_max


def engagement_recompute(
    compiled: CompiledRules,
    *,
    lead: IntArray,
    rule: IntArray,
    time: FloatArray,
    n_leads: int,
    at: float,
) -> EngagementArrays:
    """Engagement of leads 0..n_leads-1 at `at` from rows (lead, rule, time)."""
    raw = _raw(compiled, np.asarray(lead), np.asarray(rule), np.asarray(time, float), n_leads, at)
    score = np.clip(raw, 0.0, compiled.rule_set.engagement_max)
    return EngagementArrays(raw=raw, score=score)


DENSE_LIMIT = 64_000_000  # leads x rules up to which per-(lead, rule) sums use a dense array


def _raw(
    compiled: CompiledRules,
    lead: IntArray,
    rule: IntArray,
    time: FloatArray,
    n_leads: int,
    at: float,
) -> FloatArray:
    if not len(lead):
        return np.zeros(n_leads)
    # each row's points decayed to `at`: points * 2 ** (-(at - t) / half_life), in place
    worth = time - at
    per_row = np.take(compiled.rate, rule)
    worth *= per_row
    np.exp2(worth, out=worth)
    np.take(compiled.points, rule, out=per_row)
    worth *= per_row
    del per_row
    _apply_daily_caps(compiled, lead, rule, time, worth)
    capped = np.isfinite(compiled.cap)
    if not capped.any():
        return np.bincount(lead, weights=worth, minlength=n_leads)
    # per (lead, rule): the decayed sum, capped by magnitude, then summed per lead
    n_rules = len(compiled.rules)
    key = lead.astype(np.int64) * n_rules
    key += rule
    if n_leads * n_rules <= DENSE_LIMIT:
        per_rule = np.bincount(key, weights=worth, minlength=n_leads * n_rules)
        dense = per_rule.reshape(n_leads, n_rules)
        np.clip(dense, -compiled.cap, compiled.cap, out=dense)
        return dense.sum(axis=1)
    pairs, inverse = np.unique(key, return_inverse=True)
    sums = np.bincount(inverse, weights=worth)
    cap = compiled.cap[pairs % n_rules]
    return np.bincount(pairs // n_rules, weights=np.clip(sums, -cap, cap), minlength=n_leads)


def _apply_daily_caps(
    compiled: CompiledRules, lead: IntArray, rule: IntArray, time: FloatArray, worth: FloatArray
) -> None:
    """Scale `worth` (in place) of the rows of day-capped rules whose (lead, rule, UTC day)
    has more raw points than the daily cap: each by cap / |raw points of its day|."""
    points = np.abs(compiled.points)
    daily = np.isfinite(compiled.daily_cap) & (points > 0)
    if not daily.any():
        return
    # the fewest rows of one (lead, day) that can pass a daily cap (most often 1 or 2)
    least = int(np.min(np.floor(compiled.daily_cap[daily] / points[daily]))) + 1
    day = time / DAY
    np.floor(day, out=day)  # the UTC day, as engagement.day_of computes it
    n_rules = len(compiled.rules)
    if not _by_lead_and_day(lead, day):
        # any order: one sort of the day-capped rows by a (lead, day, rule) key
        rows = np.flatnonzero(daily[rule])
        if not len(rows):
            return
        days = day[rows]
        first = days.min()
        span = int(days.max() - first) + 1
        if (int(lead.max()) + 1) * span * n_rules >= 2**62:
            raise ValueError("rows span too many leads x days to group; pass them by (lead, time)")
        key = lead[rows].astype(np.int64) * span
        key += (days - first).astype(np.int64)
        key *= n_rules
        key += rule[rows]
        _scale_groups(compiled, rows, key, worth)
        return
    if least > 1:
        # a day can only pass its cap where rows share it: keep those (a superset is fine)
        same = lead[1:] == lead[:-1]
        same &= day[1:] == day[:-1]
        shared = np.zeros(len(lead), dtype=bool)
        shared[1:] = same
        shared[:-1] |= same
        shared &= daily[rule]
        rows = np.flatnonzero(shared)
    else:
        rows = np.flatnonzero(daily[rule])
    if not len(rows):
        return
    # (lead, day) segments are contiguous: number them, and group them with the rule
    sub_lead, sub_day = lead[rows], day[rows]
    new_segment = np.empty(len(rows), dtype=bool)
    new_segment[0] = True
    np.not_equal(sub_lead[1:], sub_lead[:-1], out=new_segment[1:])
    new_segment[1:] |= sub_day[1:] != sub_day[:-1]
    key = np.cumsum(new_segment) - 1
    key *= n_rules
    key += rule[rows]
    _scale_groups(compiled, rows, key, worth)


def _scale_groups(
    compiled: CompiledRules,
    rows: npt.NDArray[np.intp],
    key: npt.NDArray[np.int64],
    worth: FloatArray,
) -> None:
    """Rows with equal `key` (which ends in the rule index) are one (lead, day, rule)."""
    n_rules = len(compiled.rules)
    if len(key) > 1 and bool((key[1:] >= key[:-1]).all()):
        order = None  # already grouped (the (lead, time) path numbers segments in order)
    else:
        order = np.argsort(key)
        key, rows = key[order], rows[order]
    starts = np.empty(len(key), dtype=bool)
    starts[0] = True
    np.not_equal(key[1:], key[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    counts = np.diff(first, append=len(key))
    group_rule = key[first] % n_rules
    raw = counts * np.abs(compiled.points[group_rule])
    cap = compiled.daily_cap[group_rule]
    over = raw > cap
    if not over.any():
        return
    scale = np.where(over, cap / np.maximum(raw, 1e-300), 1.0)
    worth[rows] *= np.repeat(scale, counts)


def _by_lead_and_day(lead: IntArray, day: FloatArray) -> bool:
    if len(lead) < 2:
        return True
    if not bool((lead[1:] >= lead[:-1]).all()):
        return False
    return bool(((lead[1:] != lead[:-1]) | (day[1:] >= day[:-1])).all())
