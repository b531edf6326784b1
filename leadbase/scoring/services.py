"""Scoring leads with the rule set in force: incrementally when they change, all at once when
rules are published, and as time passes (decay).

`leads_rescore(ids)` is the one write path of a lead's scores. Per lead, under its row lock (the
same lock `leads.events.events_record` takes, so a lead's events are folded in the order they
were stored): fit from its fields; engagement from its state plus the events stored since
(O(1) each), or rebuilt from all its events when the state was made under another rule set,
when events were re-pointed to it (merge, a visitor identifying), or when an event came too
late for the O(1) path; then total, grade and classification. Each change of temperature,
qualification or prospect is a `LifecycleTransition` with its reason; reaching MQL or SQL also
moves the lifecycle stage forward (never back). After the commit, the transitions go to the
hook point `scoring.hooks` (routing and nurture react there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadbase.core.fastinsert import in_values, update_rows
from leadbase.leads.models import Lead, LifecycleStage, LifecycleTransition
from leadbase.scoring_engine import (
    Change,
    Classification,
    ClassificationResult,
    EngagementState,
    EventIn,
    Scores,
    ScoringEngine,
    StateRebuildNeeded,
)

from . import hooks
from .inputs import events_of, lead_inputs
from .models import RuleSet
from .predictive.prediction import lead_prediction, leads_predict
from .rule_sets import engine_for, rule_set_active
from .state_store import StoredState, states_read, states_write

CHUNK = 500
SCORE_FIELDS = (
    "fit_score",
    "fit_grade",
    "engagement_score",
    "total_score",
    "temperature",
    "qualification",
    "is_prospect",
)
# Reaching a qualification moves the lifecycle stage forward from these stages only.
STAGE_FOR = {"mql": LifecycleStage.MQL, "sql": LifecycleStage.SQL}
ADVANCES_FROM = {
    LifecycleStage.MQL: {LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD},
    LifecycleStage.SQL: {LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD, LifecycleStage.MQL},
}


@dataclass
class RescoreResult:
    scored: int = 0
    rebuilt: int = 0
    transitions: list[LifecycleTransition] = field(default_factory=list)


def _chunks(ids: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def leads_rescore(
    lead_ids: Iterable[int],
    *,
    rebuild: bool = False,
    at: dt.datetime | None = None,
    classify: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> RescoreResult:
    """Score these leads now (see the module's notes); deleted ids are skipped. With
    `classify=False` the scores (and the prospect flag, which follows fit alone) are written but
    temperature and qualification are left as they are, and no transition is recorded (loading
    data whose classes come from elsewhere, e.g. the demo)."""
    rule_set = rule_set_active()
    engine = engine_for(rule_set)
    now = at or timezone.now()
    result = RescoreResult()
    ids = sorted(set(lead_ids))
    for chunk in _chunks(ids, CHUNK):
        with transaction.atomic():
            _rescore_chunk(engine, rule_set, chunk, rebuild, now, result, classify)
        if progress is not None:
            progress(min(len(ids), result.scored), len(ids))
    return result


def _previous(lead: dict[str, Any]) -> Classification:
    current = lead["_class"]
    return Classification(
        temperature=current["temperature"],
        qualification=current["qualification"],
        prospect=bool(current["is_prospect"]),
    )


def _fold(
    engine: ScoringEngine, stored: StoredState, events: Sequence[EventIn]
) -> tuple[EngagementState, int] | None:
    """The stored state with `events` applied, or None when it must be rebuilt."""
    state = EngagementState.from_dict(stored.state)
    last = stored.last_event_id
    try:
        for event in events:
            engine.apply_event(state, event)
            last = max(last, int(event.ref or 0))
    except StateRebuildNeeded:
        return None
    return state, last


def _rescore_chunk(
    engine: ScoringEngine,
    rule_set: RuleSet,
    chunk: Sequence[int],
    rebuild: bool,
    now: dt.datetime,
    result: RescoreResult,
    classify: bool,
) -> None:
    if len(chunk) == 1:  # the usual case: one lead, locked and read in one statement
        leads = lead_inputs(chunk, lock=True)
    else:
        locked = list(
            Lead.objects.select_for_update()
            .filter(pk__in=in_values(Lead, "id", chunk))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        leads = lead_inputs(locked)
    stored = states_read(list(leads))
    current = {
        pk: s
        for pk, s in stored.items()
        if not rebuild and s.rule_set_id == rule_set.pk and pk in leads
    }
    fresh = events_of(current, after_id={pk: s.last_event_id for pk, s in current.items()})
    states: dict[int, tuple[EngagementState, int]] = {}
    for pk, row in current.items():
        folded = _fold(engine, row, fresh.get(pk, []))
        if folded is not None:
            states[pk] = folded
    to_build = [pk for pk in leads if pk not in states]
    for pk, events in events_of(to_build).items():
        states[pk] = (
            engine.rebuild_state(events),
            max((int(e.ref or 0) for e in events), default=0),
        )
    for pk in to_build:
        states.setdefault(pk, (engine.new_state(), 0))
    result.rebuilt += len(to_build)
    # The active predictive model's probability (open leads), so classification sees it.
    for pk, probability in leads_predict(leads, now).items():
        leads[pk]["_class"]["predicted_probability"] = probability
    _write(engine, rule_set, leads, states, now, result, classify)


def _write(
    engine: ScoringEngine,
    rule_set: RuleSet,
    leads: dict[int, dict[str, Any]],
    states: dict[int, tuple[EngagementState, int]],
    now: dt.datetime,
    result: RescoreResult,
    classify: bool,
) -> None:
    at = now.timestamp()
    label = f"scoring v{rule_set.version}"
    rows: list[list[Any]] = []
    transitions: list[LifecycleTransition] = []
    stages: dict[int, tuple[str, str, str]] = {}
    for pk, lead in leads.items():
        state, _ = states[pk]
        fit = engine.fit(lead)
        engagement = engine.engagement(state, at=at)
        probability = lead["_class"]["predicted_probability"]
        previous = _previous(lead)
        classified = engine.classify(
            previous, Scores(fit=fit.score, engagement=engagement, probability=probability)
        )
        if not classify:  # keep the classes as they are; prospect is derived from fit alone
            kept = replace(previous, prospect=classified.classification.prospect)
            classified = ClassificationResult(classification=kept, changes=())
        new = classified.classification
        total = engine.total(fit.score, engagement)
        rows.append(
            [pk, fit.score, fit.grade, engagement, total, new.temperature, new.qualification,
             new.prospect]
        )  # fmt: skip
        for change in classified.changes:
            transitions.append(
                LifecycleTransition(
                    lead_id=pk,
                    kind=change.kind,
                    from_value=change.from_value,
                    to_value=change.to_value,
                    at=now,
                    reason=change.reason[:500],
                    actor_label=label,
                )
            )
            if advance := stage_advance(change, lead["lifecycle_stage"]):
                stages[pk] = advance
    update_rows(Lead, list(SCORE_FIELDS), rows)
    stages_advance(stages, now, label, transitions)
    LifecycleTransition.objects.bulk_create(transitions)
    states_write(
        [(pk, state.to_dict(), last) for pk, (state, last) in states.items()],
        rule_set_id=rule_set.pk,
        at=now,
    )
    result.scored += len(rows)
    result.transitions += transitions
    if transitions:
        hooks.transitions_recorded(transitions)


def stage_advance(change: Change, stage: str) -> tuple[str, str, str] | None:
    """(from stage, to stage, reason) when a qualification change moves the lifecycle stage
    forward (reaching MQL or SQL from an earlier stage); None otherwise."""
    target = STAGE_FOR.get(change.to_value) if change.kind == "qualification" else None
    if target and stage in ADVANCES_FROM[target]:
        return stage, target, change.reason
    return None


def stages_advance(
    stages: dict[int, tuple[str, str, str]],
    now: dt.datetime,
    label: str,
    transitions: list[LifecycleTransition],
) -> None:
    """Move leads that reached MQL or SQL to that lifecycle stage, stamping the first time."""
    from leadbase.leads.models import STAGE_TIMESTAMP_FIELD

    for pk, (before, stage, reason) in stages.items():
        if Lead.objects.filter(pk=pk, lifecycle_stage=before).update(lifecycle_stage=stage):
            if stamp := STAGE_TIMESTAMP_FIELD.get(stage):
                Lead.objects.filter(pk=pk, **{f"{stamp}__isnull": True}).update(**{stamp: now})
            transitions.append(
                LifecycleTransition(
                    lead_id=pk,
                    kind="stage",
                    from_value=before,
                    to_value=stage,
                    at=now,
                    reason=f"qualification reached {stage.upper()}: {reason}"[:500],
                    actor_label=label,
                )
            )


def lead_score_explain(*, lead: Lead, at: dt.datetime | None = None) -> dict[str, Any]:
    """The lead's scores now with every contribution (the lead page, GET /leads/{id}/score)."""
    rule_set = rule_set_active()
    engine = engine_for(rule_set)
    now = at or timezone.now()
    inputs = lead_inputs([lead.pk])[lead.pk]
    events = events_of([lead.pk]).get(lead.pk, [])
    explained = engine.score(inputs, events, at=now.timestamp()).to_dict()
    explained["rule_set"] = {"id": rule_set.pk, "version": rule_set.version, "name": rule_set.name}
    explained["temperature"] = lead.temperature
    explained["qualification"] = lead.qualification
    explained["is_prospect"] = lead.is_prospect
    explained["at"] = now.isoformat()
    explained["prediction"] = lead_prediction(lead=lead, at=now)
    return explained
