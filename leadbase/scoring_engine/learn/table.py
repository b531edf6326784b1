"""Tables of raw values: the one input shape of the learning pipeline, and reading them from CSV.

A `Table` is a mapping column name -> a sequence of raw values, every column the same length.
Values are str, int, float, bool, datetime, date or None; "" and None are missing. Nothing is
parsed here beyond splitting the CSV: a value that looks like a formula (`=cmd|...`) is just a
string, and stays one.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from charset_normalizer import from_bytes

Table = dict[str, Sequence[object]]

DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 50


def table_length(table: Mapping[str, Sequence[object]]) -> int:
    """The number of rows; ValueError when the columns differ in length."""
    lengths = {name: len(values) for name, values in table.items()}
    distinct = set(lengths.values())
    if len(distinct) > 1:
        detail = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValueError(f"all columns must have the same number of rows ({detail})")
    return distinct.pop() if distinct else 0


def take(table: Mapping[str, Sequence[object]], index: np.ndarray) -> Table:
    """The rows at these integer positions, in this order, as a new table."""
    positions = [int(i) for i in np.asarray(index).ravel()]
    return {name: [values[i] for i in positions] for name, values in table.items()}


def _decode(raw: bytes, encoding: str | None) -> str:
    if encoding is not None:
        return raw.decode(encoding)
    if raw.startswith(codecs.BOM_UTF8):
        return raw.decode("utf-8-sig")
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw[:1_000_000]).best()
    if best is not None and best.encoding:
        try:
            return raw.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return raw.decode("latin-1")  # every byte is a character: never fails


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most fields, the same number on each
    line (quotes respected); a comma when nothing splits."""
    sample_lines = text.splitlines()[:SNIFF_LINES]
    sample = "\n".join(sample_lines)
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        rows = [row for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
        if len(sample_lines) >= SNIFF_LINES and len(rows) > 1:
            rows = rows[:-1]  # the last sampled line may be cut inside a quoted value
        if not rows:
            continue
        counts = {len(row) for row in rows}
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = delimiter, fields
    return best


def read_csv(
    path: str | Path, *, encoding: str | None = None, delimiter: str | None = None
) -> Table:
    """Read a CSV file into a table of strings.

    The encoding (a BOM, UTF-8, else charset-normalizer's guess, else Latin-1) and the delimiter
    (comma, semicolon, tab or pipe) are detected unless given. A trailing unnamed column that is
    empty on every row (a comma at the end of every line) is dropped. Raises ValueError, saying
    what is wrong and where, for an empty file, a missing header or a row whose number of fields
    differs from the header's.
    """
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise ValueError(f"{path}: the file is empty")
    text = _decode(raw, encoding)
    if delimiter is None:
        delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue  # blank line
        if header is None:
            header = [cell.strip() for cell in row]
            continue
        if len(row) != len(header):
            raise ValueError(
                f"{path}: line {reader.line_num} has {len(row)} fields but the header has "
                f"{len(header)}: check the delimiter ({delimiter!r}) and the quoting"
            )
        rows.append(row)
    if header is None:
        raise ValueError(f"{path}: no header row: the first line must name the columns")
    if all(_is_number(name) for name in header):
        raise ValueError(
            f"{path}: no header row: the first line ({', '.join(header[:5])}) looks like data; "
            "the first line must name the columns"
        )
    if len(header) > 1 and not header[-1] and all(not row[-1].strip() for row in rows):
        header = header[:-1]
        rows = [row[:-1] for row in rows]
    names = _unique_names(header)
    columns: Table = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    return columns


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unique_names(header: list[str]) -> list[str]:
    """Header names made unique and non-empty: `column 3` for an empty one, `name (2)` for a
    repeated one."""
    seen: set[str] = set()
    names: list[str] = []
    for position, name in enumerate(header, start=1):
        base = name or f"column {position}"
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base} ({n})"
        seen.add(candidate)
        names.append(candidate)
    return names
