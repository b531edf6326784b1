"""From a table of raw values to the numeric matrix the models read, learned on training rows.

Each feature column becomes one or more encoded columns of a float matrix (NaN = missing):

- numeric: the number; boolean: 1/0.
- categorical: a code. Categories seen at least `MIN_COUNT` times in the training rows keep
  their own code (the `MAX_CATEGORIES` most frequent at most); the rarer ones share one
  "other" code. At prediction time an unseen value is "other" when the training rows had rare
  values, else missing.
- datetime: the day of the week, and the month when the training rows span at least two years
  (`SEASON_DAYS`), both as categories. Over a shorter span a month names a period, not a
  season: it would learn "leads of last March converted" and apply it to no future lead. For
  the same reason the absolute date is never a feature (the model learns from the past and is
  applied to later leads, where a date would only extrapolate). Ages (days since first seen,
  ...) are the caller's to compute as of each lead's cut-off and pass as numbers.

The encoder's state is plain data (lists, dicts, floats) so that it stores safely.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from leadbase.scoring_engine.learn.schema import (
    Schema,
    as_text,
    date_format,
    is_missing,
    parse_boolean,
    parse_datetime,
    parse_number,
)

MIN_COUNT = 5
MAX_CATEGORIES = 250  # below HistGradientBoosting's 255 bins for native categories
SEASON_DAYS = 730
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# fmt: off
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
# fmt: on


class Encoder:
    """Turns tables into matrices; `Encoder.learn` fits it, `state` / `from_state` store it."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.encoded: list[dict[str, Any]] = state["encoded"]

    @classmethod
    def learn(cls, table: Mapping[str, Sequence[object]], schema: Schema) -> Encoder:
        encoded: list[dict[str, Any]] = []
        for column in schema.columns:
            values = table[column.name]
            base = {"source": column.name, "kind": column.kind, "label": column.label}
            if column.kind == "datetime":
                form = date_format(values)
                moments = [m for v in values if (m := parse_datetime(v, form)) is not None]
                span = (max(moments) - min(moments)).days if moments else 0
                parts = (("month", MONTHS),) if span >= SEASON_DAYS else ()
                for part, names in (*parts, ("weekday", WEEKDAYS)):
                    encoded.append(
                        {
                            **base,
                            "name": f"{column.name} ({part})",
                            "label": f"{column.label} ({part})",
                            "part": part,
                            "categories": list(names),
                            "other": False,
                            "format": form,
                        }
                    )
            elif column.kind == "categorical":
                counts = Counter(as_text(v) for v in values if not is_missing(v))
                ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
                kept = [v for v, n in ranked if n >= MIN_COUNT][:MAX_CATEGORIES]
                other = len(kept) < len(ranked)
                encoded.append({**base, "name": column.name, "categories": kept, "other": other})
            else:
                encoded.append({**base, "name": column.name})
        encoder = cls({"encoded": encoded})
        matrix = encoder.transform(table)
        for position, spec in enumerate(encoded):
            spec["reference"] = _typical(matrix[:, position], categorical="categories" in spec)
        return encoder

    @property
    def names(self) -> list[str]:
        return [spec["name"] for spec in self.encoded]

    @property
    def categorical(self) -> np.ndarray:
        return np.array(["categories" in spec for spec in self.encoded], dtype=bool)

    @property
    def sources(self) -> list[str]:
        return [spec["source"] for spec in self.encoded]

    @property
    def reference(self) -> np.ndarray:
        return np.array([spec["reference"] for spec in self.encoded], dtype=float)

    def transform(self, table: Mapping[str, Sequence[object]]) -> np.ndarray:
        n = len(next(iter(table.values()))) if table else 0
        matrix = np.full((n, len(self.encoded)), np.nan)
        for position, spec in enumerate(self.encoded):
            values = table.get(spec["source"])
            if values is None:
                continue  # a column the caller does not have: missing everywhere
            matrix[:, position] = _encode(values, spec)
        return matrix

    def describe(self, spec: Mapping[str, Any], code: float) -> str:
        """A category code back in words (for explanations)."""
        if math.isnan(code):
            return "missing"
        categories: list[str] = spec["categories"]
        index = int(code)
        return categories[index] if index < len(categories) else "other"


def _typical(column: np.ndarray, *, categorical: bool) -> float:
    present = column[~np.isnan(column)]
    if present.size == 0:
        return math.nan
    if categorical:
        codes, counts = np.unique(present, return_counts=True)
        return float(codes[int(np.argmax(counts))])
    return float(np.median(present))


def _encode(values: Sequence[object], spec: Mapping[str, Any]) -> np.ndarray:
    kind = spec["kind"]
    if kind == "numeric":
        return np.array([_nan(parse_number(v)) for v in values], dtype=float)
    if kind == "boolean":
        return np.array([_nan(parse_boolean(v)) for v in values], dtype=float)
    if kind == "datetime":
        out = np.full(len(values), np.nan)
        for i, value in enumerate(values):
            moment = parse_datetime(value, spec.get("format"))
            if moment is not None:
                out[i] = moment.month - 1 if spec["part"] == "month" else moment.weekday()
        return out
    codes = {category: float(i) for i, category in enumerate(spec["categories"])}
    unseen = float(len(codes)) if spec["other"] else math.nan
    return np.array(
        [math.nan if is_missing(v) else codes.get(as_text(v), unseen) for v in values],
        dtype=float,
    )


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
