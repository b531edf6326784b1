"""From the cells of a row to lead data, or to the reason it is rejected: the same for the dry
run and the real run, so the dry run's forecast holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from .consent import CONSENT, ConsentValueError, consent_given
from .mapping import FULL_NAME, RowMapper
from .reading import Table

MAX_VALUE_CHARS = 10_000  # per cell kept with a rejected row


@dataclass(slots=True)  # not frozen: one per row, and a frozen one takes twice as long to make
class Row:
    """A data row: its number, its cells, and its lead data; or, when its cells cannot be
    matched to the columns, the reason (`data` is None). Not changed once made."""

    number: int
    cells: list[str]
    data: dict[str, Any] | None
    reason: str = ""
    consent: bool | dt.datetime = False  # what the consent column says: given (when)?


def prepared_rows(table: Table, mapper: RowMapper, defaults: Mapping[str, str]) -> Iterator[Row]:
    """Every data row of `table` with its lead data. A row with more cells than the header has
    columns is rejected unless the extra cells are blank; one with fewer is rejected (which
    column lost a value cannot be known)."""
    width = mapper.width
    lead_data = mapper.lead_data
    consent_column, now = mapper.consent, timezone.now()
    for number, cells in table.rows():
        if len(cells) != width and (
            len(cells) < width or any(not cell.isspace() for cell in cells[width:] if cell)
        ):
            yield Row(number, cells, None, ragged_reason(len(cells), width))
        elif consent_column is None:
            yield Row(number, cells, lead_data(cells, defaults))
        else:
            try:
                consent = consent_given(cells[consent_column], now=now)
            except ConsentValueError as exc:
                column = mapper.field_column(CONSENT)
                yield Row(number, cells, None, f"consent (column “{column}”): {exc}")
            else:
                yield Row(number, cells, lead_data(cells, defaults), consent=consent)


def ragged_reason(cells: int, columns: int) -> str:
    more = "more" if cells > columns else "fewer"
    return (
        f"has {cells} cells, {more} than the {columns} columns of the header, so its values "
        "cannot be matched to the columns (a delimiter or a quote is probably missing or extra)"
    )


def reason_from_errors(errors: Mapping[str, str], mapper: RowMapper) -> str:
    """A rejection's reason from the problems normalisation found, each named by the field
    and the column it came from: 'email (column “E-mail”): is not a valid email address'."""
    parts = []
    for name, problem in errors.items():
        column = mapper.field_column(name)
        if not column and name in {"first_name", "last_name"}:
            column = mapper.field_column(FULL_NAME)
        parts.append(f"{name} (column “{column}”): {problem}" if column else f"{name}: {problem}")
    return "; ".join(parts) or "was not accepted"


def raw_values(headers: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    """The row as read, by column name (cells beyond the header as "(extra cell N)"); very
    long cells are cut at MAX_VALUE_CHARS."""
    values = {}
    for index, cell in enumerate(cells):
        name = (
            headers[index] if index < len(headers) else f"(extra cell {index - len(headers) + 1})"
        )
        values[name] = cell if len(cell) <= MAX_VALUE_CHARS else cell[:MAX_VALUE_CHARS] + "…"
    return values
