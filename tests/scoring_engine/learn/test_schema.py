"""infer_schema: the kind of each column and the reason a column is left out."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from leadbase.scoring_engine.learn import infer_schema
from leadbase.scoring_engine.learn.schema import date_format, parse_datetime, parse_number

N = 60


def column(values: list[object]) -> list[object]:
    return (values * N)[:N]


def test_kinds_are_inferred_from_the_values() -> None:
    table = {
        "visits": column(["3", "0", "12", ""]),
        "revenue": column([1.5, 2, None, 7.25]),
        "source": column(["Google", "Select", "Referral"]),  # "Select" is just a category
        "opted_in": column(["Yes", "no", ""]),
        "active": column([True, False]),
        "signed_up": column(["2025-01-03", "2025-02-11 10:30", "2024-12-31"]),
        "first_seen": column([date(2025, 1, 1), datetime(2025, 3, 1, 12)]),
        "mixed": ["n/a", *column(["12", "7", "9", "4"])[1:]],  # 1 in 60 unparsable: missing
    }
    schema = infer_schema(table)
    assert {c.name: c.kind for c in schema.columns} == {
        "visits": "numeric",
        "revenue": "numeric",
        "source": "categorical",
        "opted_in": "boolean",
        "active": "boolean",
        "signed_up": "datetime",
        "first_seen": "datetime",
        "mixed": "numeric",
    }
    assert schema.skipped == {}


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([f"id-{i}" for i in range(N)], "identifier: unique per row"),
        ([str(10_000 + 7 * i) for i in range(N)], "identifier: unique per row"),
        (["same"] * N, "constant"),
        ([None] * (N - 1) + ["x"], "mostly empty"),
        ([f"note {i}" for i in range(N - 3)] + ["a", "a", "a"], "nearly unique text"),
    ],
)
def test_useless_columns_are_skipped_with_a_reason(values: list[object], reason: str) -> None:
    schema = infer_schema({"col": values, "ok": column(["a", "b"])})
    assert schema.features == ["ok"]
    assert schema.skipped["col"].startswith(reason)


def test_floats_unique_per_row_are_measurements_not_identifiers() -> None:
    schema = infer_schema({"score": [i * 0.37 for i in range(N)]})
    assert schema.features == ["score"]


def test_target_time_drop_and_overrides() -> None:
    table = {
        "won": column(["1", "0"]),
        "at": column(["2025-01-01", "2025-01-02"]),
        "secret": column(["a", "b"]),
        "zip": column(["01000", "75001", "69002"]),
    }
    schema = infer_schema(
        table, target="won", time_column="at", drop=["secret"], kinds={"zip": "categorical"},
        labels={"zip": "Postal code"},
    )  # fmt: skip
    assert schema.skipped == {"won": "target", "at": "time column", "secret": "dropped by --drop"}
    assert [(c.name, c.kind, c.label) for c in schema.columns] == [
        ("zip", "categorical", "Postal code")
    ]
    with pytest.raises(ValueError, match="unknown kinds"):
        infer_schema(table, kinds={"zip": "postcode"})


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1.5", 1.5),
        ("1,5", 1.5),  # a decimal comma (semicolon-separated exports)
        ("-12,50", -12.5),
        ("1,000", None),  # a thousands separator or a decimal comma: ambiguous
        ("1,2,3", None),
        ("inf", None),
        ("", None),
    ],
)
def test_numbers_in_text(text: str, number: float | None) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize(
    ("values", "month_of_first"),
    [
        (["03/04/2025", "25/12/2025", "13/01/2024"], 4),  # days past 12: DD/MM for the column
        (["03/04/2025", "12/25/2025", "01/13/2024"], 3),  # MM/DD
        (["03/04/2025", "05/06/2025"], 3),  # cannot tell: MM/DD, the same for every row
        (["2025-03-04", "2025-12-25T10:00:00+02:00"], 3),
    ],
)
def test_a_date_column_is_read_in_one_format(values: list[object], month_of_first: int) -> None:
    form = date_format(values)
    moments = [parse_datetime(v, form) for v in values]
    assert all(moments) and moments[0] is not None and moments[0].month == month_of_first
    schema = infer_schema({"d": column(values)})
    assert schema.columns[0].kind == "datetime"
