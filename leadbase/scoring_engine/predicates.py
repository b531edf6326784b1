"""The predicate language shared by fit rules (over lead and company fields) and engagement rules
(over event properties).

A predicate is JSON data: a condition ``{"field": "job_title", "op": "contains", "value": "vp"}``
or a combination ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``. Text comparisons
ignore case and surrounding spaces; numeric operators read numbers (and numeric strings) and
never match anything else. A field missing from the record reads as empty.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from difflib import get_close_matches
from typing import Any

REGEX_MAX_LENGTH = 200  # characters in a pattern; longer ones are rejected when parsing
REGEX_INPUT_MAX_LENGTH = 2_000  # characters of a field value a pattern is matched against
# A quantified group that itself contains a quantifier, e.g. (a+)+ or (\w*)*: the shape that
# makes a backtracking engine take exponential time. Rejected rather than risked.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")

TEXT_OPS = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "regex",
)
NUMERIC_OPS = ("gt", "gte", "lt", "lte", "between")
EMPTINESS_OPS = ("is_empty", "is_not_empty")
OPERATORS = TEXT_OPS + NUMERIC_OPS + EMPTINESS_OPS

Scalar = str | float
Record = Mapping[str, Any]


class Problems:
    """Collects every problem found while parsing, each with the path of what is wrong."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}" if path else message)

    def __bool__(self) -> bool:
        return bool(self.items)


def suggest(word: str, choices: Sequence[str]) -> str:
    """' (did you mean "x"?)' when a choice is close to `word`, else ''."""
    close = get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def resolve(record: Record, path: str) -> Any:
    """The value at a dotted path ("company.industry"), None when any step is missing."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def as_text(value: Any) -> str:
    return str(value).strip().casefold()


def as_number(value: Any) -> float | None:
    """A finite float from a number or a numeric string; None for anything else (bools too)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return not value
    return False


def _items(value: Any) -> list[Any]:
    """A list field (e.g. tags) is matched element by element; anything else is one item."""
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if not is_empty(v)]
    return [] if is_empty(value) else [value]


@dataclass(frozen=True, slots=True)
class Condition:
    """One test of one field. `value` is what the rule author wrote, normalised: casefolded
    text, a float, a tuple of those (in/not_in), a (low, high) pair with None for an open end
    (between), or None (is_empty/is_not_empty)."""

    field: str
    op: str
    value: Any = None
    pattern: re.Pattern[str] | None = dataclasses.field(default=None, compare=False, repr=False)
    # the value as the author wrote it (case kept), for to_dict(); not part of the meaning
    written: Any = dataclasses.field(default=None, compare=False, repr=False)
    # in/not_in: the text choices as a set and the numeric ones apart, for O(1) membership
    _texts: frozenset[str] = dataclasses.field(
        default=frozenset(), init=False, compare=False, repr=False
    )
    _numbers: tuple[float, ...] = dataclasses.field(
        default=(), init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.op in ("in", "not_in") and isinstance(self.value, tuple):
            texts = frozenset(v for v in self.value if isinstance(v, str))
            numbers = tuple(v for v in self.value if isinstance(v, float))
            object.__setattr__(self, "_texts", texts)
            object.__setattr__(self, "_numbers", numbers)

    def matches(self, record: Record) -> bool:
        return self.test(resolve(record, self.field))

    def test(self, raw: Any) -> bool:
        """Whether the field's value `raw` passes."""
        op = self.op
        if op == "is_empty":
            return is_empty(raw)
        if op == "is_not_empty":
            return not is_empty(raw)
        if op.startswith("not_"):
            return not self._positive(op[4:], raw)
        return self._positive(op, raw)

    def _positive(self, op: str, raw: Any) -> bool:
        if op in NUMERIC_OPS:
            number = as_number(raw)
            return number is not None and self._numeric(op, number)
        if type(raw) is str:  # the usual value: what _items makes of it, without the list
            return bool(raw.strip()) and self._text(op, raw)
        return any(self._text(op, item) for item in _items(raw))

    def _numeric(self, op: str, number: float) -> bool:
        if op == "between":
            low, high = self.value
            return (low is None or number >= low) and (high is None or number <= high)
        limit = float(self.value)
        if op == "gt":
            return number > limit
        if op == "gte":
            return number >= limit
        if op == "lt":
            return number < limit
        return number <= limit

    def _text(self, op: str, item: Any) -> bool:
        if op == "regex":
            assert self.pattern is not None
            return self.pattern.search(str(item)[:REGEX_INPUT_MAX_LENGTH]) is not None
        text = as_text(item)
        if op == "equals":
            return _equal(text, item, self.value)
        if op == "in":
            if text in self._texts:
                return True
            if not self._numbers:
                return False
            number = as_number(item)
            return number is not None and number in self._numbers
        if op == "contains":
            return bool(self.value) and self.value in text
        if op == "starts_with":
            return text.startswith(self.value)
        if op == "ends_with":
            return text.endswith(self.value)
        raise AssertionError(op)  # parse() admits no other operator

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "op": self.op}
        if self.op in EMPTINESS_OPS:
            return data
        if self.written is not None:
            data["value"] = copy.deepcopy(self.written)
        elif self.op == "regex":
            assert self.pattern is not None
            data["value"] = self.pattern.pattern
        else:
            data["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return data


def _equal(text: str, item: Any, expected: Scalar) -> bool:
    if isinstance(expected, float):
        number = as_number(item)
        return number is not None and number == expected
    return text == expected


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Predicate, ...]

    def matches(self, record: Record) -> bool:
        return all(item.matches(record) for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"all": [item.to_dict() for item in self.items]}


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Predicate, ...]

    def matches(self, record: Record) -> bool:
        return any(item.matches(record) for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"any": [item.to_dict() for item in self.items]}


@dataclass(frozen=True, slots=True)
class Not:
    item: Predicate

    def matches(self, record: Record) -> bool:
        return not self.item.matches(record)

    def to_dict(self) -> dict[str, Any]:
        return {"not": self.item.to_dict()}


Predicate = Condition | AllOf | AnyOf | Not


def parse_predicate(
    data: Any, path: str, problems: Problems, known_fields: Sequence[str] | None = None
) -> Predicate | None:
    """The predicate in `data`, or None after adding to `problems` what is wrong with it."""
    if not isinstance(data, Mapping):
        problems.add(path, 'a condition must be an object like {"field": ..., "op": ...}')
        return None
    for key in ("all", "any"):
        if key in data:
            return _parse_group(key, data, path, problems, known_fields)
    if "not" in data:
        if len(data) != 1:
            problems.add(path, '"not" takes one condition and nothing beside it')
            return None
        inner = parse_predicate(data["not"], f"{path}.not", problems, known_fields)
        return Not(inner) if inner is not None else None
    return _parse_condition(data, path, problems, known_fields)


def _parse_group(
    key: str, data: Mapping[str, Any], path: str, problems: Problems, known: Sequence[str] | None
) -> Predicate | None:
    if len(data) != 1:
        problems.add(path, f'"{key}" takes a list of conditions and nothing beside it')
        return None
    raw = data[key]
    if not isinstance(raw, list) or not raw:
        problems.add(f"{path}.{key}", "must be a non-empty list of conditions")
        return None
    parsed = [
        parse_predicate(item, f"{path}.{key}[{i}]", problems, known) for i, item in enumerate(raw)
    ]
    items = tuple(p for p in parsed if p is not None)
    if len(items) != len(parsed):
        return None
    return AllOf(items) if key == "all" else AnyOf(items)


def _parse_condition(
    data: Mapping[str, Any], path: str, problems: Problems, known: Sequence[str] | None
) -> Condition | None:
    before = len(problems.items)
    extra = sorted(set(data) - {"field", "op", "value"})
    if extra:
        problems.add(path, f"unknown keys {extra}; a condition has field, op and value")
    name = data.get("field")
    if not isinstance(name, str) or not _FIELD_PATH.match(name):
        example = '"job_title" or "company.industry"'
        problems.add(f"{path}.field", f"must be a field name such as {example}")
    elif known is not None and name not in known and name.split(".")[0] != "attributes":
        problems.add(f"{path}.field", f'unknown field "{name}"{suggest(name, known)}')
    op = data.get("op")
    if op not in OPERATORS:
        hint = suggest(op, OPERATORS) if isinstance(op, str) else ""
        choices = ", ".join(OPERATORS)
        problems.add(f"{path}.op", f"unknown operator {op!r}{hint}; use one of {choices}")
        return None
    value, pattern = _parse_value(op, data, f"{path}.value", problems)
    if len(problems.items) != before:
        return None
    assert isinstance(name, str)
    written = copy.deepcopy(data.get("value"))
    return Condition(field=name, op=op, value=value, pattern=pattern, written=written)


def _parse_value(
    op: str, data: Mapping[str, Any], path: str, problems: Problems
) -> tuple[Any, re.Pattern[str] | None]:
    value = data.get("value")
    if op in EMPTINESS_OPS:
        if "value" in data:
            problems.add(path, f'"{op}" takes no value; remove it')
        return None, None
    if "value" not in data:
        problems.add(path, f'"{op}" needs a value')
        return None, None
    if op == "regex":
        return None, _parse_regex(value, path, problems)
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            problems.add(path, f'"{op}" needs a non-empty list, e.g. ["gmail.com", "yahoo.com"]')
            return None, None
        items = [_scalar(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
        return tuple(items), None
    if op == "between":
        return _parse_range(value, path, problems), None
    if op in NUMERIC_OPS:
        number = None if isinstance(value, str) else as_number(value)
        if number is None:
            problems.add(path, f'"{op}" compares numbers: give a number, e.g. 50')
        return number, None
    if op in ("equals", "not_equals"):
        return _scalar(value, path, problems), None
    if not isinstance(value, str) or not value.strip():
        problems.add(path, f'"{op}" needs a non-empty text value')
        return None, None
    return as_text(value), None


def _scalar(value: Any, path: str, problems: Problems) -> Scalar:
    if isinstance(value, str):
        return as_text(value)
    number = as_number(value) if isinstance(value, int | float) else None
    if number is None:
        problems.add(path, f"must be text or a number, not {value!r}")
        return ""
    return number


def _parse_range(value: Any, path: str, problems: Problems) -> tuple[float | None, float | None]:
    usage = '"between" needs [low, high] (numbers; null for an open end), e.g. [50, 500]'
    if not isinstance(value, list) or len(value) != 2 or value == [None, None]:
        problems.add(path, usage)
        return None, None
    ends: list[float | None] = []
    for end in value:
        if end is not None and (isinstance(end, str) or as_number(end) is None):
            problems.add(path, usage)
            return None, None
        ends.append(None if end is None else float(end))
    low, high = ends
    if low is not None and high is not None and low > high:
        problems.add(path, f"low end {low:g} is above high end {high:g}; swap them")
    return low, high


def _parse_regex(value: Any, path: str, problems: Problems) -> re.Pattern[str] | None:
    if not isinstance(value, str) or not value:
        problems.add(path, '"regex" needs a pattern as text')
        return None
    if len(value) > REGEX_MAX_LENGTH:
        limit = f"at most {REGEX_MAX_LENGTH} (split it into several rules)"
        problems.add(path, f"pattern is {len(value)} characters long; keep it to {limit}")
        return None
    if _NESTED_QUANTIFIER.search(value):
        problems.add(
            path,
            "pattern repeats a group that itself repeats (like (a+)+), which can take "
            "exponential time; write it without the nested repeat",
        )
        return None
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as error:
        problems.add(path, f"not a valid regular expression: {error}")
        return None
