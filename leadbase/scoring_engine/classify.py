"""Classification: (previous class, scores) -> new class, with a reason for every change.

Temperature (cold, warm, hot) and qualification ("", iql, mql, sql) are ladders of levels, each
reached when every score it names is at or above its threshold (a probability threshold counts
only for leads that have a predicted probability). Hysteresis: a lead moves up as soon as it
reaches a level, but leaves a level only when a score falls below that level's threshold less
the margin for that score. So scores moving within a band narrower than the margin never make a
lead go up and down again. A lead is a prospect when its fit reaches `prospect_fit`, with the
same hysteresis on the fit margin.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadbase.scoring_engine.rules import QUALIFICATIONS, TEMPERATURES, Level, Margins, Thresholds

LABELS = {"": "not qualified", "iql": "IQL", "mql": "MQL", "sql": "SQL"}


@dataclass(frozen=True, slots=True)
class Scores:
    fit: float
    engagement: float
    probability: float | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    temperature: str = "cold"
    qualification: str = ""
    prospect: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # "temperature" or "qualification" (TransitionKind values), or "prospect"
    from_value: str
    to_value: str
    reason: str


@dataclass(frozen=True, slots=True)
class ClassificationResult:
    classification: Classification
    changes: tuple[Change, ...]  # empty when nothing moved


def classify(
    thresholds: Thresholds, previous: Classification | None, scores: Scores
) -> ClassificationResult:
    """The class of a lead with `scores` that was `previous` (None: a new lead, cold and not
    qualified). Pure: the caller stores the result and records each change."""
    before = previous or Classification()
    margins = thresholds.margins
    changes: list[Change] = []
    temperature, reason = _ladder(
        thresholds.temperature, TEMPERATURES, before.temperature, scores, margins
    )
    if temperature != before.temperature:
        changes.append(Change("temperature", before.temperature, temperature, reason))
    qualification, reason = _ladder(
        thresholds.qualification, QUALIFICATIONS, before.qualification, scores, margins
    )
    if qualification != before.qualification:
        changes.append(Change("qualification", before.qualification, qualification, reason))
    prospect = _prospect(thresholds.prospect_fit, margins.fit, before.prospect, scores.fit)
    if prospect != before.prospect:
        if prospect:
            ideal = _n(thresholds.prospect_fit)
            reason = f"fit {_n(scores.fit)} reached the ideal-customer fit {ideal}"
        else:
            reason = _below("fit", scores.fit, thresholds.prospect_fit, margins.fit, "prospect")
        changes.append(Change("prospect", _yes(before.prospect), _yes(prospect), reason))
    result = Classification(temperature=temperature, qualification=qualification, prospect=prospect)
    return ClassificationResult(classification=result, changes=tuple(changes))


def _ladder(
    levels: tuple[Level, ...],
    names: tuple[str, ...],
    previous: str,
    scores: Scores,
    margins: Margins,
) -> tuple[str, str]:
    """The new level name and the reason it changed ('' when it did not)."""
    current = names.index(previous) if previous in names else 0
    reached = 0
    for i, level in enumerate(levels, start=1):
        if not _failing(level, scores, None):
            reached = i
    if reached > current:
        level = levels[reached - 1]
        return names[reached], f"{_conditions(level, scores)}: reached {_label(level.name)}"
    if current == 0:
        return names[0], ""
    failing = _failing(levels[current - 1], scores, margins)
    if not failing:
        return names[current], ""
    # down to the highest lower level still held (its thresholds less the margins)
    new = next(
        (i for i in range(current - 1, 0, -1) if not _failing(levels[i - 1], scores, margins)), 0
    )
    score, value, threshold, margin = failing[0]
    return names[new], _below(score, value, threshold, margin, _label(names[current]))


def _failing(
    level: Level, scores: Scores, margins: Margins | None
) -> list[tuple[str, float, float, float]]:
    """(score, value, threshold, margin) of each condition of `level` that `scores` miss, at
    the threshold (margins None) or at the threshold less the margin."""
    failing = []
    for name in ("fit", "engagement", "probability"):
        threshold = _threshold(level, name)
        value = getattr(scores, name)
        if threshold is None or value is None:
            continue
        margin = getattr(margins, name) if margins is not None else 0.0
        if value < threshold - margin:
            failing.append((name, value, threshold, margin))
    return failing


def _conditions(level: Level, scores: Scores) -> str:
    parts = []
    for name in ("fit", "engagement", "probability"):
        threshold, value = _threshold(level, name), getattr(scores, name)
        if threshold is not None and value is not None:
            grade = f" (grade {level.grade})" if name == "fit" and level.grade else ""
            parts.append(f"{name} {_n(value)} ≥ {_n(threshold)}{grade}")
    return " and ".join(parts)


def _threshold(level: Level, name: str) -> float | None:
    """The level's threshold for one score; fit's comes from `fit` and `grade` together."""
    return level.fit_min if name == "fit" else getattr(level, name)


def _below(score: str, value: float, threshold: float, margin: float, level: str) -> str:
    limit = threshold - margin
    return (
        f"{score} {_n(value)} fell below {_n(limit)} ({level} at {_n(threshold)}, "
        f"less the margin of {_n(margin)})"
    )


def _prospect(threshold: float, margin: float, previous: bool, fit: float) -> bool:
    return fit >= threshold - margin if previous else fit >= threshold


def _label(name: str) -> str:
    return LABELS.get(name, name)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _n(value: float) -> str:
    return f"{round(value, 2):g}"
