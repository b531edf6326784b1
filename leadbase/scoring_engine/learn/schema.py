"""What each column is: numeric, categorical, boolean, datetime, or skipped with a reason.

The rules are general (no column is special-cased by name or by value):

- missing: None, "" or blank text. A form's default answer ("Select") is just a category.
- skipped: the target and the time column; columns named in `drop`; "mostly empty" (at least
  98 % missing); "constant" (one distinct value, or none); "identifier: unique per row" (text,
  or whole numbers, that differ on every row: ids, emails, hashes); "nearly unique text" (text
  with more than 90 % distinct values on at least 50 rows: free text or an id).
- boolean: bool values, or text all among yes/no, true/false, y/n, t/f (any case).
- numeric: numbers, or text of which at least 97 % parses as a number (the rest is missing); a
  decimal comma is read when unambiguous ("1,5" but not "1,000").
- datetime: date/datetime values, or text of which at least 97 % parses as a date in one
  format for the whole column (ISO `YYYY-MM-DD[ HH:MM[:SS]]`, `YYYY/MM/DD`, `MM/DD/YYYY`,
  `DD/MM/YYYY`, `DD.MM.YYYY`, optionally with `HH:MM`).
- categorical: everything else.

`kinds` overrides the inference for the columns it names (the Django side knows its fields).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

DECIMAL_COMMA = re.compile(r"^[+-]?\d+,(\d{1,2}|\d{4,})$")
KINDS = ("numeric", "categorical", "boolean", "datetime")
MOSTLY_EMPTY = 0.98
PARSE_SHARE = 0.97
NEAR_UNIQUE_SHARE = 0.9
NEAR_UNIQUE_MIN_ROWS = 50
TRUE_WORDS = frozenset({"yes", "true", "y", "t"})
FALSE_WORDS = frozenset({"no", "false", "n", "f"})
ISO = "iso"
# In this order of preference when formats tie (MM/DD before DD/MM: a column whose days never
# pass 12 cannot tell them apart).
DATE_FORMATS = (ISO, "%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d %H:%M",
                "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M")  # fmt: skip
FORMAT_SAMPLE = 5_000


@dataclass(frozen=True)
class Column:
    """One column used as a feature: its name, kind and the words that describe it."""

    name: str
    kind: str
    label: str


@dataclass(frozen=True)
class Schema:
    """The feature columns (in table order) and the columns left out, each with its reason."""

    columns: tuple[Column, ...]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [column.name for column in self.columns]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [[c.name, c.kind, c.label] for c in self.columns],
            "skipped": dict(self.skipped),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        columns = tuple(Column(str(n), str(k), str(lb)) for n, k, lb in data["columns"])
        return cls(columns=columns, skipped={str(k): str(v) for k, v in data["skipped"].items()})


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


def as_text(value: object) -> str:
    """A value as the category it names: text stripped, whole floats without `.0`."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def parse_number(value: object) -> float | None:
    """A number, or None. Text may use a decimal comma ("1,5", "12,50") when it has one comma,
    no dot and not exactly three digits after the comma ("1,000" is ambiguous: not a number)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in {"nan", "inf", "-inf", "infinity"}:
            return None
        if DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
        return None if math.isinf(number) else number
    return None


def parse_boolean(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    text = as_text(value).lower()
    if text in TRUE_WORDS or text == "1":
        return 1.0
    if text in FALSE_WORDS or text == "0":
        return 0.0
    return None


def parse_datetime(value: object, form: str | None = None) -> datetime | None:
    """A date or time as a naive datetime (an aware one converted to UTC), or None. Text is
    read in `form` (one of DATE_FORMATS, from `date_format`), else in the first that fits."""
    moment = _parse_datetime(value, form)
    if moment is not None and moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _parse_datetime(value: object, form: str | None) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) < 8 or not text[0].isdigit():
        return None
    for candidate in (form,) if form else DATE_FORMATS:
        try:
            if candidate == ISO:
                return datetime.fromisoformat(text)
            return datetime.strptime(text, candidate)  # naive: dates are compared as such
        except ValueError:
            continue
    return None


def date_format(values: Sequence[object]) -> str | None:
    """The format (of DATE_FORMATS) that reads the most of these texts (a sample of them), so
    that a whole column is read one way: 03/04/2025 is March 4 or April 3 for all its rows."""
    texts = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if not texts:
        return None
    sample = texts[:: max(1, len(texts) // FORMAT_SAMPLE)]
    shares = [_share(sample, lambda v, f=form: _parse_datetime(v, f)) for form in DATE_FORMATS]
    best = max(range(len(shares)), key=lambda i: (shares[i], -i))
    return DATE_FORMATS[best] if shares[best] > 0 else None


def _share(values: Sequence[object], parse: Any) -> float:
    if not values:
        return 0.0
    return sum(parse(v) is not None for v in values) / len(values)


def _infer_kind(present: Sequence[object]) -> str:
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, datetime | date) for v in present):
        return "datetime"
    texts = {as_text(v).lower() for v in present}
    if texts <= TRUE_WORDS | FALSE_WORDS:
        return "boolean"
    if _share(present, parse_number) >= PARSE_SHARE:
        return "numeric"
    form = date_format(present)
    if form and _share(present, lambda v: parse_datetime(v, form)) >= PARSE_SHARE:
        return "datetime"
    return "categorical"


def _skip_reason(kind: str, present: Sequence[object], n_rows: int) -> str | None:
    if n_rows == 0 or len(present) <= (1 - MOSTLY_EMPTY) * n_rows:
        return "mostly empty"
    distinct = {as_text(v) for v in present}
    if len(distinct) <= 1:
        return "constant"
    whole = kind == "numeric" and all(
        (n := parse_number(v)) is not None and n.is_integer() for v in present
    )
    if (kind == "categorical" or whole) and len(distinct) == len(present) and len(present) > 2:
        return "identifier: unique per row"
    if (
        kind == "categorical"
        and len(present) >= NEAR_UNIQUE_MIN_ROWS
        and len(distinct) > NEAR_UNIQUE_SHARE * len(present)
    ):
        return "nearly unique text: free text or an identifier"
    return None


def infer_schema(
    table: Mapping[str, Sequence[object]],
    *,
    target: str | None = None,
    drop: Collection[str] = (),
    time_column: str | None = None,
    kinds: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Schema:
    """The kind of every column of the table (see the module's docstring for the rules)."""
    kinds = dict(kinds or {})
    labels = dict(labels or {})
    unknown = {k: v for k, v in kinds.items() if v not in KINDS}
    if unknown:
        raise ValueError(f"unknown kinds {unknown}: use one of {', '.join(KINDS)}")
    columns: list[Column] = []
    skipped: dict[str, str] = {}
    for name, values in table.items():
        if name == target:
            skipped[name] = "target"
            continue
        if name == time_column:
            skipped[name] = "time column"
            continue
        if name in drop:
            skipped[name] = "dropped by --drop"
            continue
        present = [v for v in values if not is_missing(v)]
        kind = kinds.get(name) or _infer_kind(present)
        reason = _skip_reason(kind, present, len(values))
        if reason is not None and not (name in kinds and reason.startswith("nearly")):
            skipped[name] = reason
            continue
        columns.append(Column(name, kind, labels.get(name, name)))
    return Schema(columns=tuple(columns), skipped=skipped)
