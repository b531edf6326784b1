"""All leads at once, for a rule set: the preview of a draft (nothing written) and the full
recompute when a version is published, both one vectorised engine pass over every event.

The events are read in storage order, a chunk at a time, matched to the rules
(`engine.event_rows`) into three arrays (lead index, rule index, time) and summed with decay
and caps in one numpy pass (`engine.recompute`); fit is computed a chunk of leads at a time
(`engine.fit_many`). Each lead is then classified from its current class, so the preview shows
exactly the moves a publish would record.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.utils import timezone

from leadbase.core.fastinsert import insert_rows, update_rows
from leadbase.leads.models import Event, Lead, LifecycleTransition
from leadbase.scoring_engine import Classification, Scores, ScoringEngine

from . import hooks
from .event_reader import lead_events_read
from .inputs import fit_columns_read
from .models import RuleSet
from .services import SCORE_FIELDS, stage_advance, stages_advance

CHUNK = 5_000
FIT_CHUNK = 200_000  # leads whose fit is computed together (a distinct value is tested once)
EVENT_CHUNK = 50_000
EXAMPLES = 5  # lead ids shown per move in a preview

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class AllScores:
    ids: npt.NDArray[np.int64]
    fit: npt.NDArray[np.float64]
    grade: npt.NDArray[np.str_]
    engagement: npt.NDArray[np.float64]


def _event_arrays(
    engine: ScoringEngine, ids: npt.NDArray[np.int64], progress: Callable[[int], None]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(lead index, rule index, time) of every (event, matching rule) pair; `ids` are the
    leads' ids in ascending order (a lead index is a position in it). Events of leads not in
    `ids` (created meanwhile) are left out."""
    leads: list[npt.NDArray[np.int64]] = []
    rules: list[npt.NDArray[np.int64]] = []
    times: list[npt.NDArray[np.float64]] = []
    read = 0
    for chunk in lead_events_read(chunk=EVENT_CHUNK):
        positions, matched = engine.event_rows(chunk.types, chunk.properties)
        if len(positions):
            lead_id = chunk.lead[positions]
            where = np.minimum(np.searchsorted(ids, lead_id), max(len(ids) - 1, 0))
            known = ids[where] == lead_id if len(ids) else np.zeros(len(lead_id), dtype=bool)
            leads.append(where[known].astype(np.int64))
            rules.append(matched[known].astype(np.int64))
            times.append(chunk.time[positions][known])
        read += len(chunk)
        progress(read)
    if not leads:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    return np.concatenate(leads), np.concatenate(rules), np.concatenate(times)


def _chunks(ids: npt.NDArray[np.int64], size: int) -> Iterator[npt.NDArray[np.int64]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def scores_all(engine: ScoringEngine, *, at: dt.datetime, progress: Progress) -> AllScores:
    """Fit, grade and engagement of every lead at `at` (no writes)."""
    ids = np.fromiter(Lead.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    n = len(ids)
    events = Event.objects.filter(lead__isnull=False).count()  # for the progress only
    total = events + n
    lead, rule, time = _event_arrays(engine, ids, lambda done: progress(min(done, events), total))
    engagement = engine.recompute(lead=lead, rule=rule, time=time, n_leads=n, at=at.timestamp())
    fit = np.zeros(n, dtype=np.float64)
    grade = np.full(n, "D", dtype="<U1")
    done = 0
    fields = engine.fit_fields
    for chunk in _chunks(ids, FIT_CHUNK):
        columns = fit_columns_read(chunk.tolist(), fields)
        chunk_fit, chunk_grade = engine.fit_columns(columns, len(chunk))
        fit[done : done + len(chunk)] = chunk_fit
        grade[done : done + len(chunk)] = chunk_grade
        done += len(chunk)
        progress(events + done, total)
    return AllScores(ids=ids, fit=fit, grade=grade, engagement=np.asarray(engagement.score))


def _current_classes(ids: list[int]) -> dict[int, tuple[Classification, float | None, str]]:
    """Each lead's class, predicted probability and lifecycle stage."""
    if not ids:
        return {}
    # ids ascend (a chunk of scores_all's): a range reads them without a list of parameters
    rows = Lead.objects.filter(pk__gte=min(ids), pk__lte=max(ids)).values_list(
        "pk", "temperature", "qualification", "is_prospect", "predicted_probability",
        "lifecycle_stage",
    )  # fmt: skip
    return {
        pk: (Classification(temperature=t, qualification=q, prospect=p), probability, stage)
        for pk, t, q, p, probability, stage in rows
    }


def preview(engine: ScoringEngine, *, progress: Progress) -> dict[str, Any]:
    """How many leads would move between temperatures, qualifications and prospect, with
    example lead ids, and how the scores would change on average. Writes nothing."""
    now = timezone.now()
    scores = scores_all(engine, at=now, progress=progress)
    moves: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    examples: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    current_total = dict(Lead.objects.values_list("pk", "total_score"))
    deltas: list[float] = []
    for start in range(0, len(scores.ids), CHUNK):
        chunk = [int(pk) for pk in scores.ids[start : start + CHUNK]]
        classes = _current_classes(chunk)
        for offset, pk in enumerate(chunk):
            i = start + offset
            previous, probability, _ = classes[pk]
            fit, engagement = float(scores.fit[i]), float(scores.engagement[i])
            result = engine.classify(previous, Scores(fit, engagement, probability))
            deltas.append(engine.total(fit, engagement) - float(current_total.get(pk, 0.0)))
            for change in result.changes:
                moves[change.kind][(change.from_value, change.to_value)] += 1
                key = f"{change.from_value or 'none'}->{change.to_value or 'none'}"
                if len(examples[change.kind][key]) < EXAMPLES:
                    examples[change.kind][key].append(pk)
    return {
        "leads": len(scores.ids),
        "at": now.isoformat(),
        "moves": {
            kind: [
                {
                    "from": a,
                    "to": b,
                    "leads": count,
                    "examples": examples[kind][f"{a or 'none'}->{b or 'none'}"],
                }
                for (a, b), count in counter.most_common()
            ]
            for kind, counter in moves.items()
        },
        "grades": dict(Counter(str(g) for g in scores.grade)),
        "mean_total_change": round(float(np.mean(deltas)), 3) if deltas else 0.0,
    }


def publish_recompute(rule_set: RuleSet, engine: ScoringEngine, *, progress: Progress) -> int:
    """Write every lead's scores and classes under `rule_set` (just published), recording each
    move as a transition. Returns the number of leads scored."""
    now = timezone.now()
    # Progress units: each event read, each lead's fit, then each lead written.
    reading = [0]

    def read_progress(done: int, total: int) -> None:
        reading[0] = total
        progress(done, total + total // 2)

    scores = scores_all(engine, at=now, progress=read_progress)
    label = f"scoring v{rule_set.version}"
    n = len(scores.ids)
    read_total = reading[0]
    total = read_total + max(n, read_total // 2)
    for start in range(0, n, CHUNK):
        chunk = [int(pk) for pk in scores.ids[start : start + CHUNK]]
        with transaction.atomic():
            classes = _current_classes(chunk)
            rows: list[list[Any]] = []
            transitions: list[LifecycleTransition] = []
            stages: dict[int, tuple[str, str, str]] = {}
            for offset, pk in enumerate(chunk):
                if pk not in classes:
                    continue  # deleted meanwhile
                i = start + offset
                previous, probability, stage = classes[pk]
                fit, engagement = float(scores.fit[i]), float(scores.engagement[i])
                result = engine.classify(previous, Scores(fit, engagement, probability))
                new = result.classification
                for change in result.changes:
                    if advance := stage_advance(change, stage):
                        stages[pk] = advance
                rows.append(
                    [pk, fit, str(scores.grade[i]), engagement, engine.total(fit, engagement),
                     new.temperature, new.qualification, new.prospect]
                )  # fmt: skip
                transitions += [
                    LifecycleTransition(
                        lead_id=pk,
                        kind=c.kind,
                        from_value=c.from_value,
                        to_value=c.to_value,
                        at=now,
                        reason=f"rule set v{rule_set.version} published: {c.reason}"[:500],
                        actor_label=label,
                    )
                    for c in result.changes
                ]
            update_rows(Lead, list(SCORE_FIELDS), rows)
            stages_advance(stages, now, label, transitions)
            _transitions_store(transitions)
            hooks.transitions_recorded(transitions)
        progress(read_total + (total - read_total) * (start + len(chunk)) // n, total)
    return n


TRANSITION_FIELDS = ("lead_id", "kind", "from_value", "to_value", "at", "reason", "actor_label")


def _transitions_store(transitions: list[LifecycleTransition]) -> None:
    """Insert the transitions in bulk (a publish can move most leads), giving each its id."""
    ids = insert_rows(
        LifecycleTransition,
        [{f: getattr(t, f) for f in TRANSITION_FIELDS} for t in transitions],
        return_ids=True,
    )
    for transition, pk in zip(transitions, ids, strict=True):
        transition.pk = pk
        transition._state.adding = False
