"""A rule set's definition as readable lines for the UI: each fit rule's condition and points,
each engagement rule's event, points, caps and half-life, and the thresholds.

Works on the stored JSON as it is (a draft being edited may be incomplete), so every lookup
tolerates a missing or odd value: the editor shows what it can and the problems beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "regex": "matches the pattern",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "between": "is between",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
}
MAX_CONDITION_CHARS = 300
QUALIFICATION_LABELS = {"": "not qualified", "none": "not qualified"}
STAGE_LABELS = {"mql": "MQL", "sql": "SQL"}


@dataclass(frozen=True)
class FitRuleLine:
    id: str
    label: str
    condition: str
    points: str


@dataclass(frozen=True)
class EngagementRuleLine:
    id: str
    label: str
    event: str
    condition: str
    points: str
    half_life: str
    cap: str
    daily_cap: str


@dataclass(frozen=True)
class Summary:
    name: str
    description: str
    fit_rules: list[FitRuleLine]
    engagement_rules: list[EngagementRuleLine]
    half_life: str
    engagement_max: str
    weights: str
    thresholds: list[tuple[str, str]]


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _signed(value: Any) -> str:
    text = _number(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return f"+{text}"
    return text


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if value is None:
        return "any"
    if isinstance(value, str):
        return f"“{value}”"
    return _number(value)


def condition_text(when: Any) -> str:
    """`{"field": "seniority", "op": "in", "value": [...]}` as "seniority is one of ..."."""
    text = _condition(when)
    if len(text) > MAX_CONDITION_CHARS:
        return text[: MAX_CONDITION_CHARS - 1] + "…"
    return text


def _condition(when: Any) -> str:
    if when is None:
        return "always"
    if not isinstance(when, Mapping):
        return str(when)
    for key, joiner in (("all", " and "), ("any", " or ")):
        if key in when:
            parts = when[key] if isinstance(when[key], list) else [when[key]]
            inner = [_condition(part) for part in parts]
            return "(" + joiner.join(inner) + ")" if len(inner) > 1 else "".join(inner)
    if "not" in when:
        return f"not {_condition(when['not'])}"
    field, op = str(when.get("field", "?")), str(when.get("op", "?"))
    if op in {"is_empty", "is_not_empty"}:
        return f"{field} {OPS[op]}"
    value = when.get("value")
    if op == "between" and isinstance(value, list) and len(value) == 2:
        low, high = value
        if low is None:
            return f"{field} ≤ {_number(high)}"
        if high is None:
            return f"{field} ≥ {_number(low)}"
        return f"{field} is between {_number(low)} and {_number(high)}"
    return f"{field} {OPS.get(op, op)} {_value(value)}"


def _items(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    found = data.get(key)
    return [item for item in found if isinstance(item, Mapping)] if isinstance(found, list) else []


def _days(value: Any) -> str:
    if value is None:
        return "no decay"
    return f"{_number(value)} days"


def _level(spec: Any) -> str:
    if not isinstance(spec, Mapping):
        return str(spec)
    parts = [f"{name} ≥ {_number(bar)}" for name, bar in spec.items()]
    return " and ".join(parts) if parts else "always"


def _thresholds(thresholds: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    grade = thresholds.get("grade")
    if isinstance(grade, Mapping):
        bars = [f"{letter} from fit {_number(bar)}" for letter, bar in grade.items()]
        rows.append(("Grade", ", ".join(bars) + ", D below"))
    if "prospect_fit" in thresholds:
        rows.append(("Prospect", f"fit ≥ {_number(thresholds['prospect_fit'])}"))
    for ladder, title in (("temperature", "Temperature"), ("qualification", "Qualification")):
        levels = thresholds.get(ladder)
        if isinstance(levels, Mapping):
            for level, spec in levels.items():
                name = level.upper() if ladder == "qualification" else level
                rows.append((f"{title}: {name}", _level(spec)))
    margin = thresholds.get("margin")
    if isinstance(margin, Mapping):
        text = ", ".join(f"{name} {_number(value)}" for name, value in margin.items())
        rows.append(("Margin (moving down)", text))
    return rows


def summarize(definition: Any) -> Summary:
    data: Mapping[str, Any] = definition if isinstance(definition, Mapping) else {}
    engagement = data.get("engagement")
    engagement = engagement if isinstance(engagement, Mapping) else {}
    default_half_life = engagement.get("half_life_days", 30)
    fit = [
        FitRuleLine(
            id=str(rule.get("id", "")),
            label=str(rule.get("label") or str(rule.get("id", "")).replace("_", " ")),
            condition=condition_text(rule.get("when")),
            points=_signed(rule.get("points", 0)),
        )
        for rule in _items(data, "fit_rules")
    ]
    rules = []
    for rule in _items(data, "engagement_rules"):
        event = rule.get("event", "")
        rules.append(
            EngagementRuleLine(
                id=str(rule.get("id", "")),
                label=str(rule.get("label") or str(rule.get("id", "")).replace("_", " ")),
                event=", ".join(map(str, event)) if isinstance(event, list) else str(event),
                condition=condition_text(rule["when"]) if rule.get("when") is not None else "",
                points=_signed(rule.get("points", 0)),
                half_life=_days(rule.get("half_life_days", default_half_life)),
                cap=_number(rule["cap"]) if rule.get("cap") is not None else "",
                daily_cap=_number(rule["daily_cap"]) if rule.get("daily_cap") is not None else "",
            )
        )
    weights = data.get("weights")
    weights_text = (
        " + ".join(f"{_number(w)} * {name}" for name, w in weights.items())
        if isinstance(weights, Mapping)
        else "0.5 * fit + 0.5 * engagement"
    )
    thresholds = data.get("thresholds")
    return Summary(
        name=str(data.get("name", "")),
        description=str(data.get("description", "")),
        fit_rules=fit,
        engagement_rules=rules,
        half_life=_days(default_half_life),
        engagement_max=_number(engagement.get("max", 100)),
        weights=weights_text,
        thresholds=_thresholds(thresholds) if isinstance(thresholds, Mapping) else [],
    )


def move_label(kind: str, value: str) -> str:
    """A class value as the UI names it: "IQL", "not qualified", "cold", "yes"."""
    if kind == "qualification":
        return QUALIFICATION_LABELS.get(value, value.upper())
    if kind == "stage":
        return STAGE_LABELS.get(value, value.replace("_", " ")) if value else "—"
    return value or "none"
