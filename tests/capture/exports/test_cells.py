"""Properties of exported cells: no text cell can start a formula, nothing else changes, and
whatever the text, the CSV and the XLSX give back exactly the cell that was written."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbase.capture.exports import (
    FORMULA_PREFIXES,
    HEADERS,
    cell,
    csv_chunks,
    neutralise,
    xlsx_write,
)

from .conftest import read_csv, read_xlsx

# Any text but lone surrogates (not valid UTF-8, so no database column can hold them);
# xlsxwriter escapes the control characters XML has no place for, and they come back.
XLSX_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)


@given(st.text())
def test_no_text_cell_starts_a_formula(text: str) -> None:
    out = cell(text, "text")
    assert isinstance(out, str)
    assert not out.startswith(FORMULA_PREFIXES)
    assert out in (text, "'" + text)
    assert (out == text) == (not text.startswith(FORMULA_PREFIXES))


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (-5.0, "number", -5.0),
        (Decimal("1200.00"), "number", 1200),
        (Decimal("12.5"), "number", 12.5),
        (None, "number", None),
        (None, "text", ""),
        (True, "bool", "true"),
        (
            dt.datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC),
            "datetime",
            "2025-01-02T03:04:05+00:00",
        ),
        ({}, "json", ""),
        ({"a": "ü"}, "json", '{"a": "ü"}'),
        (["=1"], "json", '["=1"]'),
        ("-1", "text", "'-1"),
        ("a=1", "text", "a=1"),
    ],
)
def test_cell(value: object, kind: str, expected: object) -> None:
    assert cell(value, kind) == expected  # type: ignore[arg-type]


def _row(texts: list[str]) -> list[str | int | float | None]:
    """An exported row: an id (every lead has one), then the texts, then blanks."""
    row: list[str | int | float | None] = [1, *(neutralise(t) for t in texts)]
    return row + [""] * (len(HEADERS) - len(row))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=5))
def test_csv_gives_back_every_text(texts: list[str]) -> None:
    rows = [_row(texts)]
    data = b"".join(csv_chunks(rows))
    [read] = read_csv(data)
    assert [read[name] for name in HEADERS[1 : len(texts) + 1]] == rows[0][1 : len(texts) + 1]


@settings(max_examples=30, deadline=None)
@given(st.lists(XLSX_TEXT, min_size=1, max_size=5))
def test_xlsx_gives_back_every_text(texts: list[str]) -> None:
    rows = [_row(texts)]
    target = io.BytesIO()
    xlsx_write(rows, target)
    [read] = read_xlsx(target.getvalue())
    assert [read[name] for name in HEADERS[1 : len(texts) + 1]] == rows[0][1 : len(texts) + 1]
