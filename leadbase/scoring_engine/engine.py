"""`ScoringEngine`: the one object the `scoring` app holds per rule set and calls.

Per lead, on a change of its fields: `fit(lead)`. On each event: `apply_event(state, event)`
(O(1) in past events; on `StateRebuildNeeded`, `rebuild_state(events)`), then
`engagement(state, at)`, `total(...)`, `classify(...)`. For the lead page: `score(lead, events,
at=...)` with the full explanation. For a publish or a preview: `event_rows(...)` then
`recompute(...)` and `fit_many(...)`, one vectorised pass over all leads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from leadbase.scoring_engine.classify import (
    Classification,
    ClassificationResult,
    Scores,
    classify,
)
from leadbase.scoring_engine.engagement import (
    CompiledRules,
    EngagementResult,
    EventIn,
    PropertyTable,
    engagement_explain,
    event_rows,
)
from leadbase.scoring_engine.explain import LeadScore, lead_score, total_score
from leadbase.scoring_engine.fit import (
    FitResult,
    fields_read,
    fit_columns,
    fit_score,
    fit_scores,
    lead_record,
)
from leadbase.scoring_engine.predicates import resolve
from leadbase.scoring_engine.recompute import EngagementArrays, engagement_recompute
from leadbase.scoring_engine.rules import RuleSet
from leadbase.scoring_engine.state import (
    EngagementState,
    state_apply,
    state_new,
    state_rebuild,
    state_value,
)


class ScoringEngine:
    """The maths of one rule set. Immutable and cheap to build; keep one per published rule
    set (and one per draft being previewed)."""

    FIT_MEMO_MAX = 50_000  # fit results remembered, by the values of the fields rules read

    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set = rule_set
        self.compiled = CompiledRules(rule_set)
        self._fit_paths = tuple(sorted(fields_read(rule_set)))
        self._fit_memo: dict[tuple[Any, ...], FitResult] = {}

    # one lead -------------------------------------------------------------------------------

    def fit(self, lead: Mapping[str, Any]) -> FitResult:
        """The lead's fit. A lead's fields change far less often than it is rescored (each of
        its events rescores it), so results are remembered by the values of the fields the
        rules read (with their types, and numbers as written: 1 and True, 1.0 and 1.00 read
        differently)."""
        record = lead_record(lead)
        values = tuple(resolve(record, path) for path in self._fit_paths)
        key = tuple((type(v), repr(v) if isinstance(v, float | Decimal) else v) for v in values)
        try:
            hit = self._fit_memo.get(key)
        except TypeError:  # an unhashable value (a list of tags): not remembered
            return fit_score(self.rule_set, lead)
        if hit is None:
            hit = fit_score(self.rule_set, lead)
            if len(self._fit_memo) >= self.FIT_MEMO_MAX:
                self._fit_memo.clear()
            self._fit_memo[key] = hit
        return hit

    def engagement_of(self, events: Iterable[EventIn], *, at: float) -> EngagementResult:
        return engagement_explain(self.compiled, events, at)

    def score(self, lead: Mapping[str, Any], events: Iterable[EventIn], *, at: float) -> LeadScore:
        """Fit, engagement, total, grade and the explanation of one lead at `at`."""
        return lead_score(self.rule_set, self.fit(lead), self.engagement_of(events, at=at), at)

    def total(self, fit: float, engagement: float) -> float:
        return total_score(self.rule_set, fit, engagement)

    def classify(self, previous: Classification | None, scores: Scores) -> ClassificationResult:
        return classify(self.rule_set.thresholds, previous, scores)

    # the incremental path ---------------------------------------------------------------------

    def new_state(self) -> EngagementState:
        return state_new(self.compiled)

    def apply_event(self, state: EngagementState, event: EventIn) -> None:
        """Add `event` to `state` in place; raises StateRebuildNeeded when it cannot."""
        state_apply(self.compiled, state, event)

    def rebuild_state(self, events: Iterable[EventIn]) -> EngagementState:
        return state_rebuild(self.compiled, events)

    def engagement_raw(self, state: EngagementState, *, at: float) -> float:
        return state_value(self.compiled, state, at)

    def engagement(self, state: EngagementState, *, at: float) -> float:
        """The engagement score (clamped) of a state at `at`."""
        return self.compiled.clamp(state_value(self.compiled, state, at))

    # all leads at once ------------------------------------------------------------------------

    def event_rows(
        self,
        types: Sequence[str],
        properties: Sequence[Mapping[str, Any] | None] | PropertyTable | None = None,
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int16]]:
        """(event position, rule index) of every (event, matching rule) pair of a batch."""
        return event_rows(self.compiled, types, properties)

    def recompute(
        self,
        *,
        lead: npt.NDArray[np.integer],
        rule: npt.NDArray[np.integer],
        time: npt.NDArray[np.float64],
        n_leads: int,
        at: float,
    ) -> EngagementArrays:
        return engagement_recompute(
            self.compiled, lead=lead, rule=rule, time=time, n_leads=n_leads, at=at
        )

    @property
    def fit_fields(self) -> frozenset[str]:
        """The lead field paths the fit rules read (see fit.fields_read)."""
        return fields_read(self.rule_set)

    def fit_many(
        self, leads: Sequence[Mapping[str, Any]]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
        return fit_scores(self.rule_set, leads)

    def fit_columns(
        self, columns: Mapping[str, Sequence[Any]], n: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
        """fit_many for leads given as columns (path -> values), as a bulk reader has them."""
        return fit_columns(self.rule_set, columns, n)
