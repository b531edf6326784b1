"""A lead's scores with their explanation, in a shape a template or an API renders as is.

`LeadScore.to_dict()` gives plain dicts and lists; every line carries its numbers and a
ready sentence, e.g. "+25 demo request, 3 days ago, decayed to 23.3".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from leadbase.scoring_engine.engagement import EngagementResult, EventContribution
from leadbase.scoring_engine.fit import FitMatch, FitResult
from leadbase.scoring_engine.rules import RuleSet

MINUTE, HOUR, DAY_SECONDS = 60.0, 3600.0, 86_400.0


@dataclass(frozen=True, slots=True)
class FitLine:
    rule_id: str
    label: str
    points: float
    text: str


@dataclass(frozen=True, slots=True)
class EventLine:
    rule_id: str
    label: str
    event_type: str
    ref: int | str | None  # the caller's event id
    at: float  # POSIX seconds
    age_seconds: float
    points: float  # the rule's points
    counted: float  # after the daily cap
    now: float  # after decay and the rule's cap, at the evaluation time
    text: str


@dataclass(frozen=True, slots=True)
class RuleLine:
    rule_id: str
    label: str
    events: int
    now: float
    capped: bool
    day_capped: bool
    text: str


@dataclass(frozen=True, slots=True)
class LeadScore:
    at: float
    fit: float  # 0..100
    engagement: float  # 0..engagement_max
    total: float  # fit_weight * fit + engagement_weight * engagement
    grade: str  # A..D, from fit
    fit_raw: float  # before clamping
    engagement_raw: float
    fit_lines: tuple[FitLine, ...]
    rule_lines: tuple[RuleLine, ...]
    event_lines: tuple[EventLine, ...]  # newest first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def total_score(rule_set: RuleSet, fit: float, engagement: float) -> float:
    return rule_set.fit_weight * fit + rule_set.engagement_weight * engagement


def lead_score(
    rule_set: RuleSet, fit: FitResult, engagement: EngagementResult, at: float
) -> LeadScore:
    return LeadScore(
        at=at,
        fit=fit.score,
        engagement=engagement.score,
        total=total_score(rule_set, fit.score, engagement.score),
        grade=fit.grade,
        fit_raw=fit.raw,
        engagement_raw=engagement.raw,
        fit_lines=tuple(_fit_line(m) for m in fit.matches),
        rule_lines=tuple(
            RuleLine(
                rule_id=r.rule_id,
                label=r.label,
                events=r.events,
                now=r.now,
                capped=r.capped,
                day_capped=r.day_capped,
                text=_rule_text(r.label, r.events, r.now, r.capped, r.day_capped),
            )
            for r in engagement.rules
        ),
        event_lines=tuple(_event_line(e) for e in engagement.events),
    )


def _fit_line(match: FitMatch) -> FitLine:
    return FitLine(
        rule_id=match.rule_id,
        label=match.label,
        points=match.points,
        text=f"{signed(match.points)} {match.label}",
    )


def _event_line(part: EventContribution) -> EventLine:
    words = [f"{signed(part.points)} {part.label}", ago(part.age_seconds)]
    if not _same(part.counted, part.points):
        words.append(f"counted {number(part.counted)} (daily cap)")
    if not _same(part.now, part.counted):
        words.append(
            f"{'decayed' if abs(part.now) < abs(part.counted) else 'now'} to {number(part.now)}"
        )
    return EventLine(
        rule_id=part.rule_id,
        label=part.label,
        event_type=part.event_type,
        ref=part.ref,
        at=part.at,
        age_seconds=part.age_seconds,
        points=part.points,
        counted=part.counted,
        now=part.now,
        text=", ".join(words),
    )


def _rule_text(label: str, events: int, now: float, capped: bool, day_capped: bool) -> str:
    noun = "event" if events == 1 else "events"
    notes = [n for n, on in (("rule cap reached", capped), ("daily cap", day_capped)) if on]
    suffix = f" ({', '.join(notes)})" if notes else ""
    return f"{signed(now)} {label}: {events} {noun}{suffix}"


def _same(a: float, b: float) -> bool:
    """Equal as shown: a change hidden by the rounding is not worth a word."""
    return number(a) == number(b)


def number(value: float) -> str:
    """Points as people read them: one decimal at most ("19", "0.8", "-2.5")."""
    rounded = round(value, 1)
    return f"{rounded:g}" if rounded != 0 else "0"


def signed(value: float) -> str:
    text = number(value)
    return text if text.startswith("-") else f"+{text}"


def ago(seconds: float) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "3 days ago", "in the future" (clock skew)."""
    if seconds < 0:
        return "in the future" if -seconds >= MINUTE else "just now"
    for size, unit in ((DAY_SECONDS, "day"), (HOUR, "hour"), (MINUTE, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"
