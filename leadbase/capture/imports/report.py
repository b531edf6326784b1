"""The rejected-rows reports, as CSV streamed in chunks: the real run's rejections (stored),
and the dry run's problems (found again by reading the file; nothing is stored for them).

Columns: row, reason, then the file's columns with the row as it was read (cells beyond the
header at the end). Every cell is neutralised against spreadsheet formulas
(capture.exports.neutralise: a leading ' before = + - @ tab CR).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..exports import neutralise
from ..models import ImportJob
from .forecast import problems
from .mapping import compile_mapping
from .reading import open_table
from .rows import prepared_rows
from .services import file_format, import_defaults, job_headers

ROWS_PER_CHUNK = 500


def _line(headers: Sequence[str], number: int, reason: str, values: Any) -> list[str]:
    values = values if isinstance(values, dict) else {}
    extras = [str(v) for k, v in values.items() if k not in headers]
    return [str(number), reason, *(str(values.get(h, "")) for h in headers), *extras]


def rejection_lines(job: ImportJob) -> Iterator[list[str]]:
    """The stored rejections of the real run, by row number."""
    headers = job_headers(job)
    yield ["row", "reason", *headers]
    rejections = job.rejections.order_by("row_number", "id").values_list(
        "row_number", "reason", "values"
    )
    for number, reason, values in rejections.iterator(chunk_size=2000):
        yield _line(headers, number, reason, values)


def problem_lines(job: ImportJob) -> Iterator[list[str]]:
    """The rows the dry run rejects, found again (the file and mapping are as they were)."""
    headers = job_headers(job)
    mapper = compile_mapping(job.mapping, headers)
    yield ["row", "reason", *headers]
    with job.file.open("rb") as stored:
        table = open_table(stored, file_format(job), name=job.original_name)
        try:
            rows = prepared_rows(table, mapper, import_defaults(job))
            for row, reason in problems(rows, mapper):
                yield [str(row.number), reason, *row.cells]
        finally:
            table.close()


def csv_chunks(lines: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte order mark (spreadsheets then read it as UTF-8), every cell
    neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for count, line in enumerate(lines, 1):
        writer.writerow([neutralise(cell) for cell in line])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
