"""Rule sets as data: a JSON-compatible dict parsed into frozen dataclasses, and back.

`rule_set_from_dict` checks everything at once and raises `RuleSetError` listing every problem
with its path ("engagement_rules[2] (page_view).daily_cap: must be a positive number ...").
`RuleSet.to_dict()` gives a dict that parses back to an equal rule set. The shipped default
is `default_rule_set()` (default_rule_set.json beside this module; see docs/scoring-engine.md).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from leadbase.scoring_engine.predicates import Predicate, Problems, parse_predicate, suggest

FORMAT = 1
DAY = 86_400.0
TEMPERATURES = ("cold", "warm", "hot")  # as Lead.temperature stores them, lowest first
QUALIFICATIONS = ("", "iql", "mql", "sql")  # "" is "not qualified", as Lead.qualification
GRADES = ("A", "B", "C", "D")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class RuleSetError(ValueError):
    """A rule set that cannot be used; `problems` lists every reason, each with its path."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"- {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the rule set:\n{listing}")


@dataclass(frozen=True, slots=True)
class FitRule:
    id: str
    label: str
    when: Predicate
    points: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "when": self.when.to_dict(),
            "points": self.points,
        }


@dataclass(frozen=True, slots=True)
class EngagementRule:
    """Points for each event of one of `event_types` whose properties match `when`.

    half_life_days: None inherits the rule set's default; math.inf never decays (null in JSON).
    cap: the rule's contribution at any moment is at most this many points (by magnitude).
    daily_cap: the raw points of one UTC day (by event time) count at most this many; when a day
    has more, each of its events counts in proportion (see docs/scoring-engine.md).
    """

    id: str
    label: str
    event_types: tuple[str, ...]
    points: float
    when: Predicate | None = None
    half_life_days: float | None = None
    cap: float | None = None
    daily_cap: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "label": self.label}
        data["event"] = (
            self.event_types[0] if len(self.event_types) == 1 else list(self.event_types)
        )
        if self.when is not None:
            data["when"] = self.when.to_dict()
        data["points"] = self.points
        if self.half_life_days is not None:
            data["half_life_days"] = (
                None if math.isinf(self.half_life_days) else self.half_life_days
            )
        for key in ("cap", "daily_cap"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass(frozen=True, slots=True)
class Level:
    """The lowest scores that put a lead at `name` (None: that score is not looked at).
    A probability threshold applies only to leads that have a predicted probability."""

    name: str
    fit: float | None = None
    engagement: float | None = None
    probability: float | None = None
    # "at least grade B": the fit that grade starts at, held in `grade_fit` (the letter is
    # what the author wrote; the fit threshold then is the higher of `fit` and `grade_fit`)
    grade: str | None = None
    grade_fit: float | None = field(default=None, compare=False)

    @property
    def fit_min(self) -> float | None:
        """The lowest fit this level takes, from `fit` and `grade` together."""
        given = [v for v in (self.fit, self.grade_fit) if v is not None]
        return max(given) if given else None

    def to_dict(self) -> dict[str, float | str]:
        data: dict[str, float | str] = {}
        if self.grade is not None:
            data["grade"] = self.grade
        for k in ("fit", "engagement", "probability"):
            if (v := getattr(self, k)) is not None:
                data[k] = v
        return data


@dataclass(frozen=True, slots=True)
class Margins:
    """How far below a threshold a score must fall before a lead moves down (hysteresis)."""

    fit: float = 5.0
    engagement: float = 5.0
    probability: float = 0.05


@dataclass(frozen=True, slots=True)
class Thresholds:
    grades: tuple[tuple[str, float], ...]  # (("A", 75), ("B", 50), ("C", 25)); D below the last
    prospect_fit: float
    temperature: tuple[Level, ...]  # warm, hot: lowest first; cold is below all
    qualification: tuple[Level, ...]  # iql, mql, sql; "" (not qualified) is below all
    margins: Margins = field(default_factory=Margins)

    def to_dict(self) -> dict[str, Any]:
        m = self.margins
        return {
            "grade": dict(self.grades),
            "prospect_fit": self.prospect_fit,
            "temperature": {level.name: level.to_dict() for level in self.temperature},
            "qualification": {level.name: level.to_dict() for level in self.qualification},
            "margin": {"fit": m.fit, "engagement": m.engagement, "probability": m.probability},
        }


@dataclass(frozen=True, slots=True)
class RuleSet:
    version: int
    name: str
    fit_rules: tuple[FitRule, ...]
    engagement_rules: tuple[EngagementRule, ...]
    thresholds: Thresholds
    description: str = ""
    half_life_days: float = 30.0  # default for engagement rules without their own
    engagement_max: float = 100.0  # engagement is clamped to 0..engagement_max
    fit_weight: float = 0.5  # total = fit_weight * fit + engagement_weight * engagement
    engagement_weight: float = 0.5
    late_window_days: float = 3.0  # how late an event of a day-capped rule may come in O(1)
    fingerprint: str = field(default="", compare=False)

    def half_life_seconds(self, rule: EngagementRule) -> float:
        days = self.half_life_days if rule.half_life_days is None else rule.half_life_days
        return days * DAY

    def rule_index(self) -> dict[str, int]:
        return {rule.id: i for i, rule in enumerate(self.engagement_rules)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "fit_rules": [rule.to_dict() for rule in self.fit_rules],
            "engagement": {
                "half_life_days": None if math.isinf(self.half_life_days) else self.half_life_days,
                "max": self.engagement_max,
                "late_window_days": self.late_window_days,
            },
            "engagement_rules": [rule.to_dict() for rule in self.engagement_rules],
            "weights": {"fit": self.fit_weight, "engagement": self.engagement_weight},
            "thresholds": self.thresholds.to_dict(),
        }


def rule_set_from_dict(data: Any, *, known_fields: Sequence[str] | None = None) -> RuleSet:
    """Parse and check a rule set. `known_fields`, when given, lists the lead fields fit rules
    may name (dotted, e.g. "company.industry"; "attributes.*" is always allowed)."""
    problems = Problems()
    if not isinstance(data, Mapping):
        raise RuleSetError(["a rule set must be an object (a dict)"])
    reader = _Reader(data, "", problems)
    known = {"format", "version", "name", "description", "fit_rules", "engagement"}
    known |= {"engagement_rules", "weights", "thresholds"}
    for key in sorted(set(data) - known):
        problems.add(key, f"unknown key{suggest(key, sorted(known))}")
    if data.get("format", FORMAT) != FORMAT:
        problems.add("format", f"this version of Leadbase reads format {FORMAT}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.add("version", "must be a whole number from 1 (the rule set's version)")
    name = reader.text("name", required=True)
    description = reader.text("description")
    engagement = _Reader(data.get("engagement", {}), "engagement", problems)
    weights = _Reader(data.get("weights", {}), "weights", problems)
    fit_rules = _fit_rules(data.get("fit_rules", []), problems, known_fields)
    engagement_rules = _engagement_rules(data.get("engagement_rules", []), problems)
    thresholds = _thresholds(data.get("thresholds"), problems)
    half_life = engagement.number("half_life_days", 30.0, positive=True, nullable=True)
    engagement_max = engagement.real("max", 100.0, positive=True)
    late_window_days = engagement.real("late_window_days", 3.0, minimum=0.0)
    fit_weight = weights.real("fit", 0.5, minimum=0.0)
    engagement_weight = weights.real("engagement", 0.5, minimum=0.0)
    if problems:
        raise RuleSetError(problems.items)
    assert isinstance(version, int) and thresholds is not None
    parsed = RuleSet(
        version=version,
        name=name,
        description=description,
        fit_rules=tuple(fit_rules),
        engagement_rules=tuple(engagement_rules),
        thresholds=thresholds,
        half_life_days=math.inf if half_life is None else half_life,
        engagement_max=engagement_max,
        fit_weight=fit_weight,
        engagement_weight=engagement_weight,
        late_window_days=late_window_days,
    )
    canonical = json.dumps(parsed.to_dict(), sort_keys=True, separators=(",", ":"))
    return replace(parsed, fingerprint=hashlib.sha256(canonical.encode()).hexdigest()[:16])


def default_rule_set() -> RuleSet:
    """The rule set Leadbase ships with, for a typical B2B business."""
    text = resources.files(__package__).joinpath("default_rule_set.json").read_text("utf-8")
    return rule_set_from_dict(json.loads(text))


class _Reader:
    """Reads typed values out of one object of the rule set, reporting problems by path."""

    def __init__(self, data: Any, path: str, problems: Problems) -> None:
        if not isinstance(data, Mapping):
            problems.add(path, "must be an object")
            data = {}
        self.data, self.path, self.problems = data, path, problems

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            self.problems.add(
                self.at(key), "must be " + ("non-empty " if required else "") + "text"
            )
            return ""
        return value

    def number(
        self,
        key: str,
        default: float | None,
        *,
        positive: bool = False,
        minimum: float | None = None,
        nullable: bool = False,
    ) -> float | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if value is None and nullable:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            hint = " (or null)" if nullable else ""
            self.problems.add(self.at(key), f"must be a number{hint}, not {value!r}")
            return default
        if positive and value <= 0:
            self.problems.add(self.at(key), f"must be a positive number, not {value!r}")
        if minimum is not None and value < minimum:
            self.problems.add(self.at(key), f"must be at least {minimum:g}, not {value!r}")
        return float(value)

    def real(self, key: str, default: float, **limits: Any) -> float:
        """Like number(), for a key that always has a value (its default when absent)."""
        value = self.number(key, default, **limits)
        return default if value is None else value


def _rule_path(kind: str, index: int, item: Any) -> str:
    rid = item.get("id") if isinstance(item, Mapping) else None
    return f"{kind}[{index}] ({rid})" if isinstance(rid, str) and rid else f"{kind}[{index}]"


def _common(
    kind: str, index: int, item: Any, problems: Problems, seen: set[str], allowed: set[str]
) -> tuple[_Reader, str, str, float]:
    path = _rule_path(kind, index, item)
    reader = _Reader(item, path, problems)
    for key in sorted(set(reader.data) - allowed):
        problems.add(reader.at(key), f"unknown key{suggest(key, sorted(allowed))}")
    rid = reader.data.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        problems.add(reader.at("id"), "must be a snake_case identifier, e.g. demo_request")
        rid = ""
    elif rid in seen:
        problems.add(reader.at("id"), f'"{rid}" is used by another rule; ids must be unique')
    seen.add(rid)
    label = reader.text("label") or rid.replace("_", " ")
    points = reader.number("points", None)
    if points is None:
        problems.add(reader.at("points"), "is required: a number, negative to take points away")
    return reader, rid, label, points or 0.0


def _fit_rules(data: Any, problems: Problems, known_fields: Sequence[str] | None) -> list[FitRule]:
    if not isinstance(data, list):
        problems.add("fit_rules", "must be a list of rules")
        return []
    rules, seen = [], set[str]()
    for i, item in enumerate(data):
        reader, rid, label, points = _common(
            "fit_rules", i, item, problems, seen, {"id", "label", "when", "points"}
        )
        if "when" not in reader.data:
            problems.add(reader.at("when"), "is required: the condition a lead must meet")
            continue
        when = parse_predicate(reader.data["when"], reader.at("when"), problems, known_fields)
        if when is not None:
            rules.append(FitRule(id=rid, label=label, when=when, points=points))
    return rules


def _engagement_rules(data: Any, problems: Problems) -> list[EngagementRule]:
    if not isinstance(data, list):
        problems.add("engagement_rules", "must be a list of rules")
        return []
    allowed = {"id", "label", "event", "when", "points", "half_life_days", "cap", "daily_cap"}
    rules, seen = [], set[str]()
    for i, item in enumerate(data):
        reader, rid, label, points = _common("engagement_rules", i, item, problems, seen, allowed)
        raw_types = reader.data.get("event")
        types = [raw_types] if isinstance(raw_types, str) else raw_types
        if (
            not isinstance(types, list)
            or not types
            or not all(isinstance(t, str) and _EVENT_TYPE.match(t) for t in types)
        ):
            problems.add(
                reader.at("event"), 'must be an event type such as "demo_request" or a list of them'
            )
            types = []
        when = None
        if "when" in reader.data:
            when = parse_predicate(reader.data["when"], reader.at("when"), problems)
        half_life = reader.number("half_life_days", None, positive=True, nullable=True)
        if "half_life_days" in reader.data and reader.data["half_life_days"] is None:
            half_life = math.inf
        cap = reader.number("cap", None, positive=True)
        daily_cap = reader.number("daily_cap", None, positive=True)
        rules.append(
            EngagementRule(
                id=rid,
                label=label,
                event_types=tuple(types),
                when=when,
                points=points,
                half_life_days=half_life,
                cap=cap,
                daily_cap=daily_cap,
            )
        )
    return rules


def _thresholds(data: Any, problems: Problems) -> Thresholds | None:
    reader = _Reader(data if data is not None else {}, "thresholds", problems)
    if data is None:
        problems.add("thresholds", "is required (grade, prospect_fit, temperature, qualification)")
    grade_reader = _Reader(reader.data.get("grade", {}), "thresholds.grade", problems)
    grades = []
    for letter in GRADES[:-1]:
        value = grade_reader.number(letter, None)
        if value is None:
            problems.add(grade_reader.at(letter), "is required: the lowest fit for this grade")
        else:
            grades.append((letter, value))
    extra = sorted(set(grade_reader.data) - set(GRADES[:-1]))
    if extra:
        problems.add(
            "thresholds.grade", f"only A, B and C have thresholds (D is below C), not {extra}"
        )
    if any(a[1] < b[1] for a, b in itertools.pairwise(grades)):
        problems.add("thresholds.grade", "must not increase from A to C")
    prospect = reader.number("prospect_fit", None)
    if prospect is None:
        problems.add(reader.at("prospect_fit"), "is required: the fit of an ideal customer")
    temperature = _levels(reader, "temperature", TEMPERATURES[1:], problems, dict(grades))
    qualification = _levels(reader, "qualification", QUALIFICATIONS[1:], problems, dict(grades))
    margin = _Reader(reader.data.get("margin", {}), "thresholds.margin", problems)
    margins = Margins(
        fit=margin.real("fit", 5.0, minimum=0.0),
        engagement=margin.real("engagement", 5.0, minimum=0.0),
        probability=margin.real("probability", 0.05, minimum=0.0),
    )
    if problems:
        return None
    assert prospect is not None
    return Thresholds(
        grades=tuple(grades),
        prospect_fit=prospect,
        temperature=temperature,
        qualification=qualification,
        margins=margins,
    )


def _levels(
    parent: _Reader,
    key: str,
    names: tuple[str, ...],
    problems: Problems,
    grade_fit: Mapping[str, float],
) -> tuple[Level, ...]:
    reader = _Reader(parent.data.get(key, {}), parent.at(key), problems)
    for extra in sorted(set(reader.data) - set(names)):
        problems.add(
            reader.at(extra),
            f"unknown level{suggest(extra, names)}; levels are " + ", ".join(names),
        )
    levels: list[Level] = []
    for name in names:
        if name not in reader.data:
            problems.add(reader.at(name), 'is required, e.g. {"engagement": 50}')
            continue
        level = _Reader(reader.data[name], reader.at(name), problems)
        for extra in sorted(set(level.data) - {"fit", "engagement", "probability", "grade"}):
            problems.add(
                level.at(extra), "unknown score; use fit, grade, engagement or probability"
            )
        values = {s: level.number(s, None) for s in ("fit", "engagement", "probability")}
        grade = level.data.get("grade")
        if grade is not None and (not isinstance(grade, str) or grade.upper() not in grade_fit):
            letters = ", ".join(sorted(grade_fit)) or "A, B, C"
            problems.add(level.at("grade"), f"must be a grade with a threshold: {letters}")
            grade = None
        grade = grade.upper() if isinstance(grade, str) else None
        if all(v is None for v in values.values()) and grade is None:
            problems.add(level.path, "needs at least one of fit, grade, engagement, probability")
        probability = values["probability"]
        if probability is not None and not 0 <= probability <= 1:
            problems.add(level.at("probability"), "must be between 0 and 1")
        current = Level(
            name=name, **values, grade=grade, grade_fit=grade_fit.get(grade) if grade else None
        )
        for lower in levels:
            for score in ("fit_min", "engagement", "probability"):
                low, high = getattr(lower, score), getattr(current, score)
                if low is not None and (high is None or high < low):
                    shown = "fit" if score == "fit_min" else score
                    problems.add(
                        level.at(shown),
                        f"must be at least {lower.name}'s {shown} "
                        f"({low:g}): a higher level is never easier to reach",
                    )
        levels.append(current)
    return tuple(levels)
