"""read_csv: delimiters and encodings detected, trailing empty columns dropped, values kept as
text (formulas included), and clear errors for files it cannot read."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbase.scoring_engine.learn import read_csv, take


def write(tmp_path: Path, content: bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # semicolon, as spreadsheets write it in much of Europe (decimal commas stay text)
        (b"name;score\nAda;1,5\nBo;2\n", {"name": ["Ada", "Bo"], "score": ["1,5", "2"]}),
        # tab-separated, with a comma inside a value
        (b"name\tcity\nAda\tParis, FR\nBo\tLyon\n",
         {"name": ["Ada", "Bo"], "city": ["Paris, FR", "Lyon"]}),
        # a trailing comma on every line: the empty unnamed column is dropped
        (b"a,b,\n1,2,\n3,4,\n", {"a": ["1", "3"], "b": ["2", "4"]}),
        # a UTF-8 byte-order mark does not end up in the first column's name
        ("\ufeffé,b\n1,2\n".encode(), {"é": ["1"], "b": ["2"]}),
        # quoted values with the delimiter and newlines inside
        (b'a,b\n"x, y","line1\nline2"\n', {"a": ["x, y"], "b": ["line1\nline2"]}),
    ],
)  # fmt: skip
def test_read_csv_detects_the_format(
    tmp_path: Path, content: bytes, expected: dict[str, list[str]]
) -> None:
    assert read_csv(write(tmp_path, content)) == expected


def test_read_csv_detects_latin1(tmp_path: Path) -> None:
    content = "ville;société\nMünchen;Café Crème\nSão Paulo;Ørsted\n".encode("latin-1")
    table = read_csv(write(tmp_path, content))
    assert table == {"ville": ["München", "São Paulo"], "société": ["Café Crème", "Ørsted"]}


def test_hostile_and_unicode_values_stay_plain_strings(tmp_path: Path) -> None:
    content = "a,b\n\"=cmd|' /C calc'!A0\",+1+1\n@SUM(1),日本語 🚀\n".encode()
    table = read_csv(write(tmp_path, content))
    assert table == {"a": ["=cmd|' /C calc'!A0", "@SUM(1)"], "b": ["+1+1", "日本語 🚀"]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b",,\n1,2,3\n4,5,6\n", "no header row: the first line \\(1, 2, 3\\)"),
        (b"a,b,c\n1,2,3\n4,5\n", "line 3 has 2 fields but the header has 3"),
    ],
)
def test_read_csv_says_what_is_wrong(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_csv(write(tmp_path, content))


def test_take_picks_rows_in_order() -> None:
    table: dict[str, list[object]] = {"a": [1, 2, 3], "b": ["x", "y", "z"]}
    assert take(table, np.array([2, 0])) == {"a": [3, 1], "b": ["z", "x"]}


cells = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12).map(str.strip)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([",", ";", "\t"]),
    st.lists(st.lists(cells, min_size=3, max_size=3), min_size=2, max_size=8),
)
def test_read_csv_round_trips_what_csv_writes(
    tmp_path: Path, delimiter: str, rows: list[list[str]]
) -> None:
    rows = [row for row in rows if any(row)]  # blank lines are skipped by design
    header = ["first", "second", "third"]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL).writerows([header, *rows])
    table = read_csv(write(tmp_path, buffer.getvalue().encode()), delimiter=None)
    assert table == {name: [row[i] for row in rows] for i, name in enumerate(header)}
