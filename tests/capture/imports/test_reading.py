"""Reading files: delimiters, quoting, encodings and BOMs, line ends, XLSX, and the file-level
errors (empty, no header, binary, a fake XLSX), all through `analyse` and `open_table`."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import zipfile
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbase.capture.imports.reading import (
    MAX_COLUMNS,
    Analysis,
    ImportFileError,
    analyse,
    detect_format,
    open_table,
)
from tests.capture.imports.conftest import Table, csv_bytes, xlsx_bytes

PEOPLE: Table = [
    ["email", "first_name", "company", "note"],
    ["ann@example.com", "Ann", "Acme, Inc.", 'She said "hi"'],
    ["bob@example.com", "Bob", "Bob & Co; Ltd | Group", "two\nlines"],
]


def read(content: bytes, name: str = "leads.csv", sheet: str = "") -> tuple[Analysis, Table]:
    """The analysis of the file and every data row it gives."""
    analysis = analyse(io.BytesIO(content), name=name, sheet=sheet)
    table = open_table(io.BytesIO(content), analysis.format, name=name)
    rows = [cells for _, cells in table.rows()]
    table.close()
    return analysis, rows


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected_and_quoted_cells_read_whole(delimiter: str) -> None:
    analysis, rows = read(csv_bytes(PEOPLE, delimiter=delimiter))
    assert analysis.format.delimiter == delimiter
    assert analysis.headers == tuple(PEOPLE[0])
    assert rows == [list(row) for row in PEOPLE[1:]]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),  # with a BOM
        ("utf-16", "utf-16"),  # BOM + little-endian
        ("utf-16-be", "utf-16-be"),  # no BOM: recognised by its zero bytes
        ("utf-32", "utf-32"),
        ("cp1252", "cp1252"),
        ("latin-1", "cp1252"),  # Latin-1 text reads the same as Windows-1252
    ],
)
def test_encodings_and_boms(encoding: str, detected: str) -> None:
    table = [
        ["E-Mail", "Vorname", "Straße", "Café"],
        *[[f"jose{i}@example.com", "José Müller", "Größe", "Ça va à Zoë"] for i in range(20)],
    ]
    analysis, rows = read(csv_bytes(table, delimiter=";", encoding=encoding))
    assert analysis.format.encoding == detected
    assert analysis.headers == ("E-Mail", "Vorname", "Straße", "Café")  # no BOM in a name
    assert rows[0] == ["jose0@example.com", "José Müller", "Größe", "Ça va à Zoë"]


def test_windows_1252_punctuation_is_read_as_such() -> None:
    content = "name,note\nAnn,“Quoted” \u2013 5 €\n".encode("cp1252")
    analysis, rows = read(content)
    assert analysis.format.encoding == "cp1252"
    assert rows == [["Ann", "“Quoted” \u2013 5 €"]]


def test_a_file_that_turns_non_utf8_late_is_not_read_as_utf8() -> None:
    """The whole file is checked, not only its start."""
    lines = ["email,city"] + [f"p{i}@example.com,Paris" for i in range(20_000)]
    content = "\n".join([*lines, "z@example.com,Zürich"]).encode("cp1252")
    analysis, rows = read(content)
    assert analysis.format.encoding == "cp1252"
    assert rows[-1] == ["z@example.com", "Zürich"]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_ends_and_line_breaks_inside_quotes(newline: str) -> None:
    _, rows = read(csv_bytes(PEOPLE, newline=newline))
    assert rows[1][3] == "two\nlines"
    assert len(rows) == 2


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    content = b'\n\nemail,note\na@example.com,"x\ny"\n\nb@example.com,z\n'
    analysis = analyse(io.BytesIO(content), name="x.csv")
    table = open_table(io.BytesIO(content), analysis.format, name="x.csv")
    assert analysis.header_row == 3
    assert [number for number, _ in table.rows()] == [4, 6]  # row 5 is blank


def test_single_column_file() -> None:
    analysis, rows = read(b"email\na@example.com\nb@example.com\n")
    assert analysis.headers == ("email",)
    assert rows == [["a@example.com"], ["b@example.com"]]


def test_header_names_are_cleaned_numbered_and_blank_ones_named() -> None:
    analysis, _ = read(b"Email, Email ,,Na\x01me,,Phone,,\nx@example.com,b,c,d,e,f,,\n")
    assert analysis.headers == ("Email", "Email (2)", "Column 3", "Na me", "Column 5", "Phone")


def test_preview_holds_the_first_rows_cut_to_the_header() -> None:
    rows = [["email", "n"]] + [[f"p{i}@example.com", "x" * 500] for i in range(30)]
    analysis, _ = read(csv_bytes(rows))
    assert len(analysis.preview) == 10
    assert analysis.preview[0] == ["p0@example.com", "x" * 200]


# --- XLSX ----------------------------------------------------------------------------------


def test_xlsx_first_sheet_with_numbers_dates_and_booleans_as_text() -> None:
    content = xlsx_bytes(
        {
            "Leads": [
                ["email", "employees", "score", "since", "vip", "formula"],
                ["ann@example.com", 250, 3.5, dt.date(2024, 1, 2), True, "=1+2"],
            ],
            "Other": [["email"], ["other@example.com"]],
        }
    )
    analysis, rows = read(content, name="leads.xlsx")
    assert analysis.format.kind == "xlsx"
    assert analysis.format.sheet == "Leads"
    assert analysis.sheets == ("Leads", "Other")
    assert rows[0][:3] == ["ann@example.com", "250", "3.5"]
    assert rows[0][4:] == ["TRUE", "=1+2"]  # a formula-looking string stays text


def test_xlsx_chosen_sheet_and_a_missing_one() -> None:
    content = xlsx_bytes({"A": [["email"], ["a@example.com"]], "B": [["Phone"], ["+4930123"]]})
    analysis, rows = read(content, name="x.xlsx", sheet="B")
    assert analysis.headers == ("Phone",)
    assert rows == [["+4930123"]]
    with pytest.raises(ImportFileError, match="no sheet named “C”; its sheets: “A”, “B”"):
        read(content, name="x.xlsx", sheet="C")


def test_xlsx_rows_keep_their_sheet_numbers() -> None:
    content = xlsx_bytes({"S": [[], [], ["email"], ["a@example.com"], [], ["b@example.com"]]})
    analysis = analyse(io.BytesIO(content), name="x.xlsx")
    table = open_table(io.BytesIO(content), analysis.format, name="x.xlsx")
    assert analysis.header_row == 3
    assert [n for n, _ in table.rows()] == [4, 6]


# --- File-level errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "is empty"),
        (b"\n\n  \n,,\n", "blank.csv", "has no header row"),
        (
            b"ann@example.com,Ann\nbob@example.com,Bob\n",
            "x.csv",
            r"holds data \(“ann@example.com”\)",
        ),
        (b"+44 20 7946 0958;Ann\n", "x.csv", "holds data"),
        (bytes(range(256)) * 20, "x.csv", "holds binary data"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(3000), "x.png", "binary data"),
        (b"email,name\na@example.com,Ann\n", "leads.xlsx", "named like an Excel workbook"),
        (b"<html><table><tr><td>x</td></tr></table></html>", "export.xls", "named like an Excel"),
    ],
)
def test_file_level_errors_say_what_to_do(content: bytes, name: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message) as caught:
        analyse(io.BytesIO(content), name=name)
    assert caught.value.fields == {"file": caught.value.message}


def test_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ImportFileError, match="cannot be read as one"):
        analyse(buffer, name="notes.xlsx")


def test_an_empty_workbook_sheet_has_no_header() -> None:
    with pytest.raises(ImportFileError, match=r"has no header row.*on the sheet “Empty”"):
        analyse(io.BytesIO(xlsx_bytes({"Empty": []})), name="x.xlsx")


def test_too_many_columns() -> None:
    header = [f"c{i}" for i in range(MAX_COLUMNS + 1)]
    with pytest.raises(ImportFileError, match=f"{MAX_COLUMNS + 1:,} columns; the limit"):
        analyse(io.BytesIO(csv_bytes([header, ["x"] * len(header)])), name="wide.csv")


def test_an_unclosed_quote_swallowing_the_file_is_a_clear_error() -> None:
    content = b'email,note\na@example.com,"never closed\n' + b"x" * (200 * 1024) + b"\n"
    analysis = analyse(io.BytesIO(content[:200]), name="x.csv")
    table = open_table(io.BytesIO(content), analysis.format, name="x.csv")
    with pytest.raises(
        ImportFileError, match=r"Row 2 cannot be read \(field larger than field limit"
    ):
        list(table.rows())


def test_the_encoding_of_a_file_with_a_bom_is_the_bom_s() -> None:
    content = codecs.BOM_UTF8 + "email\nzoë@example.com\n".encode()
    fmt, _ = detect_format(io.BytesIO(content), name="x.csv")
    assert fmt.encoding == "utf-8-sig"


# --- Round trip ----------------------------------------------------------------------------

_cell = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00\r"),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_any_table_written_by_csv_writer_reads_back_the_same(
    body: list[list[str]], delimiter: str, encoding: str, quoting: Literal[0, 1]
) -> None:
    """Whatever the cells hold (delimiters, quotes, line breaks, any script), a table written
    with a header in one of the dialects reads back cell for cell (blank rows are skipped)."""
    header = ["email", "first name", "note"]
    content = csv_bytes([header, *body], delimiter=delimiter, encoding=encoding, quoting=quoting)
    analysis = analyse(io.BytesIO(content), name="x.csv")
    assert analysis.format.delimiter == delimiter or len(body) < 2  # tiny samples may tie
    fmt = analysis.format
    if fmt.delimiter != delimiter:
        return
    table = open_table(io.BytesIO(content), fmt, name="x.csv")
    expected = [row for row in body if any(c and not c.isspace() for c in row)]
    assert [cells for _, cells in table.rows()] == expected
