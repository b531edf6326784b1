"""`ScoringEngine`: the one object the `scoring` app holds per rule set and calls.

Per lead, on a change of its fields: `fit(lead)`. On each event: `apply_event(state, event)`
(O(1) in past events; on `StateRebuildNeeded`, `rebuild_state(events)`), then
`engagement(state, at)`, `total(...)`, `classify(...)`. For the lead page: `score(lead, events,
at=...)` with the full explanation. For a publish or a preview: `event_rows(...)` then
`recompute(...)` and `fit_many(...)`, one vectorised pass over all leads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    engagement_explain,
    event_rows,
)
from leadbase.scoring_engine.explain import LeadScore, lead_score, total_score
from leadbase.scoring_engine.fit import FitResult, fit_score, fit_scores
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

    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set = rule_set
        self.compiled = CompiledRules(rule_set)

    # one lead -------------------------------------------------------------------------------

    def fit(self, lead: Mapping[str, Any]) -> FitResult:
        return fit_score(self.rule_set, lead)

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
        properties: Sequence[Mapping[str, Any] | None] | None = None,
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

    def fit_many(
        self, leads: Sequence[Mapping[str, Any]]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.str_]]:
        return fit_scores(self.rule_set, leads)
