"""Lead export to CSV and XLSX, streamed: rows are read with a database iterator and written
chunk by chunk, so memory stays flat however many leads are exported.

Columns: every lead field, the company's name, domain, industry, size and revenue, the campaign
name, the owner's username, scores, stages and timestamps (ISO 8601, UTC). The headers are the
field names the import and the API use, so an export can be imported again.

Spreadsheet formula injection: a text cell that starts with `=`, `+`, `-`, `@`, a tab, a carriage
return (or the full-width forms of the first four) gets a leading `'`, so no spreadsheet runs it
as a formula. Numbers (ids, scores, company size and revenue) come from numeric columns, never
from text, and stay numbers (a negative score is `-5` in the CSV and a numeric cell in the XLSX).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, Literal

import xlsxwriter  # type: ignore[import-untyped]  # ships no type hints
from django.db.models import QuerySet
from django.utils import timezone

from leadbase.leads.models import Lead

Kind = Literal["text", "number", "datetime", "bool", "json"]
Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Leads read from the database per round trip.
CHUNK_ROWS = 2000
# Rows of CSV per chunk of the response body.
CSV_ROWS_PER_CHUNK = 500
FILE_CHUNK_BYTES = 256 * 1024
# What a spreadsheet may read as the start of a formula (OWASP's list, plus the full-width
# forms of = + - @ that some spreadsheets also accept).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
XLSX_MAX_TEXT = 32767  # characters a cell can hold


@dataclass(frozen=True)
class Column:
    header: str
    path: str
    kind: Kind = "text"


_TEXT_FIELDS = ("email", "phone", "first_name", "last_name", "job_title", "seniority")
COLUMNS: tuple[Column, ...] = (
    Column("id", "id", "number"),
    *(Column(name, name) for name in _TEXT_FIELDS),
    Column("department", "department"),
    Column("company", "company__name"),
    Column("company_domain", "company__domain"),
    Column("industry", "company__industry"),
    Column("employee_count", "company__employee_count", "number"),
    Column("annual_revenue", "company__annual_revenue", "number"),
    Column("country", "country"),
    Column("region", "region"),
    Column("city", "city"),
    Column("source_channel", "source_channel"),
    Column("source_detail", "source_detail"),
    Column("campaign", "campaign__name"),
    *(Column(name, name) for name in ("utm_source", "utm_medium", "utm_campaign")),
    Column("utm_term", "utm_term"),
    Column("utm_content", "utm_content"),
    Column("landing_page", "landing_page"),
    Column("referrer_url", "referrer_url"),
    Column("owner", "owner__username"),
    Column("lifecycle_stage", "lifecycle_stage"),
    Column("sales_status", "sales_status"),
    Column("temperature", "temperature"),
    Column("qualification", "qualification"),
    Column("fit_score", "fit_score", "number"),
    Column("engagement_score", "engagement_score", "number"),
    Column("total_score", "total_score", "number"),
    Column("predicted_probability", "predicted_probability", "number"),
    *(
        Column(f"became_{stage}_at", f"became_{stage}_at", "datetime")
        for stage in (
            "subscriber",
            "lead",
            "mql",
            "sql",
            "opportunity",
            "customer",
            "advocate",
            "disqualified",
        )
    ),
    Column("last_activity_at", "last_activity_at", "datetime"),
    Column("created_at", "created_at", "datetime"),
    Column("updated_at", "updated_at", "datetime"),
    Column("archived", "archived", "bool"),
    Column("attributes", "attributes", "json"),
)
HEADERS: tuple[str, ...] = tuple(column.header for column in COLUMNS)

Row = Sequence[Any]
Cell = str | int | float | None


def neutralise(text: str) -> str:
    """`text` with a leading `'` if a spreadsheet could take it for a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, int | float) else float(value)


def cell(value: Any, kind: Kind) -> Cell:
    """One exported value: a number for numeric columns (None when empty), else neutralised
    text."""
    if kind == "number":
        return _number(value)
    if value is None:
        return ""
    if kind == "datetime":
        assert isinstance(value, dt.datetime)
        return value.astimezone(dt.UTC).isoformat(timespec="seconds")
    if kind == "bool":
        return "true" if value else "false"
    if kind == "json":
        if value in ({}, [], None, ""):
            return ""
        return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return neutralise(str(value))


def export_rows(queryset: QuerySet[Lead]) -> Iterator[list[Cell]]:
    """The leads of `queryset`, in its order, as lists of cells (COLUMNS order)."""
    kinds = [column.kind for column in COLUMNS]
    values = queryset.values_list(*(column.path for column in COLUMNS))
    for row in values.iterator(chunk_size=CHUNK_ROWS):
        yield [cell(value, kind) for value, kind in zip(row, kinds, strict=True)]


def counted(rows: Iterable[list[Cell]], progress: Callable[[int], None]) -> Iterator[list[Cell]]:
    """`rows`, calling `progress(n)` after every CHUNK_ROWS rows and at the end."""
    count = 0
    for count, row in enumerate(rows, start=1):
        yield row
        if count % CHUNK_ROWS == 0:
            progress(count)
    progress(count)


def csv_chunks(rows: Iterable[list[Cell]]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte order mark (so spreadsheets read it as UTF-8), comma-separated,
    CRLF line ends, a header row; fields with commas, quotes or line breaks are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(HEADERS)
    pending = 0
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
        pending += 1
        if pending >= CSV_ROWS_PER_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def xlsx_write(rows: Iterable[list[Cell]], target: IO[bytes]) -> None:
    """Write an XLSX workbook of `rows` to the binary file `target`. xlsxwriter's constant
    memory mode flushes each row to a temporary file as soon as the next one starts, so only
    one row is ever held; text is always written as text (never read as a formula, number or
    link)."""
    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    sheet = workbook.add_worksheet("Leads")
    bold = workbook.add_format({"bold": True})
    sheet.freeze_panes(1, 0)
    for index, header in enumerate(HEADERS):
        sheet.write_string(0, index, header, bold)
    for row_index, row in enumerate(rows, start=1):
        for col_index, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                sheet.write_string(row_index, col_index, value[:XLSX_MAX_TEXT])
            else:
                sheet.write_number(row_index, col_index, value)
    workbook.close()


def xlsx_chunks(rows: Iterable[list[Cell]]) -> Iterator[bytes]:
    """The XLSX workbook of `rows`, built in an anonymous temporary file (deleted when closed)
    and then read back in chunks: a zip file is complete only at its end, so the rows are all
    written before the first byte goes out."""
    with tempfile.TemporaryFile() as target:
        xlsx_write(rows, target)
        target.seek(0)
        while chunk := target.read(FILE_CHUNK_BYTES):
            yield chunk


def export_chunks(queryset: QuerySet[Lead], fmt: Format) -> Iterator[bytes]:
    rows = export_rows(queryset)
    return csv_chunks(rows) if fmt == "csv" else xlsx_chunks(rows)


def export_filename(fmt: Format, *, at: dt.datetime | None = None) -> str:
    now = timezone.localtime(at or timezone.now())
    return f"leads-{now:%Y%m%d-%H%M}.{fmt}"
