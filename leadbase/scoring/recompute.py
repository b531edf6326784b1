"""All leads at once, for a rule set: the preview of a draft (nothing written) and the full
recompute when a version is published, both one vectorised engine pass over every event.

The events are read in (lead, time) order, a chunk at a time, matched to the rules
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

from leadbase.core.fastinsert import update_rows
from leadbase.leads.models import Event, Lead, LifecycleTransition
from leadbase.scoring_engine import Classification, Scores, ScoringEngine

from . import hooks
from .inputs import lead_inputs
from .models import RuleSet
from .services import SCORE_FIELDS, stage_advance, stages_advance

CHUNK = 5_000
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
    engine: ScoringEngine, index: dict[int, int], progress: Callable[[int], None]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    leads: list[npt.NDArray[np.int64]] = []
    rules: list[npt.NDArray[np.int64]] = []
    times: list[npt.NDArray[np.float64]] = []
    rows = (
        Event.objects.filter(lead__isnull=False)
        .order_by("lead_id", "occurred_at")
        .values_list("lead_id", "type", "occurred_at", "properties")
    )
    batch: list[tuple[int, str, dt.datetime, Any]] = []

    def flush() -> None:
        if not batch:
            return
        positions, matched = engine.event_rows(
            [b[1] for b in batch], [b[3] if isinstance(b[3], dict) else None for b in batch]
        )
        if len(positions):
            lead_of = np.fromiter((index[b[0]] for b in batch), dtype=np.int64, count=len(batch))
            time_of = np.fromiter(
                (b[2].timestamp() for b in batch), dtype=np.float64, count=len(batch)
            )
            leads.append(lead_of[positions])
            rules.append(matched.astype(np.int64))
            times.append(time_of[positions])
        progress(index.get(batch[-1][0], 0))
        batch.clear()

    for row in rows.iterator(chunk_size=EVENT_CHUNK):
        if row[0] in index:
            batch.append(row)
        if len(batch) >= EVENT_CHUNK:
            flush()
    flush()
    if not leads:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    return np.concatenate(leads), np.concatenate(rules), np.concatenate(times)


def _chunks(ids: npt.NDArray[np.int64]) -> Iterator[npt.NDArray[np.int64]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def scores_all(engine: ScoringEngine, *, at: dt.datetime, progress: Progress) -> AllScores:
    """Fit, grade and engagement of every lead at `at` (no writes)."""
    ids = np.fromiter(Lead.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    n = len(ids)
    total = 2 * n
    index = {int(pk): i for i, pk in enumerate(ids)}
    lead, rule, time = _event_arrays(engine, index, lambda done: progress(done, total))
    engagement = engine.recompute(lead=lead, rule=rule, time=time, n_leads=n, at=at.timestamp())
    fit = np.zeros(n, dtype=np.float64)
    grade = np.full(n, "D", dtype="<U1")
    done = 0
    for chunk in _chunks(ids):
        inputs = lead_inputs(chunk.tolist())
        ordered = [inputs[int(pk)] for pk in chunk]
        chunk_fit, chunk_grade = engine.fit_many(ordered)
        fit[done : done + len(chunk)] = chunk_fit
        grade[done : done + len(chunk)] = chunk_grade
        done += len(chunk)
        progress(n + done, total)
    return AllScores(ids=ids, fit=fit, grade=grade, engagement=np.asarray(engagement.score))


def _current_classes(ids: list[int]) -> dict[int, tuple[Classification, float | None, str]]:
    """Each lead's class, predicted probability and lifecycle stage."""
    rows = Lead.objects.filter(pk__in=ids).values_list(
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
    # Reading (events, then fit) is two thirds of the work, writing the last third.
    scores = scores_all(engine, at=now, progress=lambda d, t: progress(d, t + t // 2))
    label = f"scoring v{rule_set.version}"
    n = len(scores.ids)
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
            LifecycleTransition.objects.bulk_create(transitions)
            hooks.transitions_recorded(transitions)
        progress(2 * n + start + len(chunk), 3 * n)
    return n
