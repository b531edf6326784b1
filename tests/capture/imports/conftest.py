"""Fixtures of the import tests: uploaded files kept in a temporary media directory, and small
helpers that write files in a given dialect and encoding and run an import end to end."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pytest
import xlsxwriter  # type: ignore[import-untyped]  # ships no type hints
from django.core.files.base import ContentFile
from pytest_django import Settings

from leadbase.accounts.models import User
from leadbase.capture.imports import services
from leadbase.capture.models import ImportJob
from tests.ui.conftest import login  # the signed-in client fixture of the UI tests

__all__ = ["login"]

Table = Sequence[Sequence[Any]]
MakeJob = Callable[..., ImportJob]


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Uploads go to a fresh directory, never to the data directory."""
    root = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = root
    return root


def csv_bytes(
    rows: Table,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    newline: str = "\r\n",
    quoting: Literal[0, 1, 2, 3, 4, 5] = csv.QUOTE_MINIMAL,
) -> bytes:
    """The rows as a CSV file: csv.writer's quoting, then encoded (BOMs as the codec adds
    them: utf-8-sig and utf-16 write one)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerows([[str(cell) for cell in row] for row in rows])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(sheets: Mapping[str, Table]) -> bytes:
    """A workbook with the given sheets; strings written as strings (never as formulas),
    numbers as numbers."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write(r, c, value)
    workbook.close()
    return buffer.getvalue()


def upload(
    content: bytes, name: str = "leads.csv", *, user: User | None = None, sheet: str = ""
) -> ImportJob:
    return services.import_job_create(
        file=ContentFile(content, name=name), name=name, user=user, sheet=sheet
    )


def run_import(
    job: ImportJob,
    *,
    mapping: Mapping[str, str] | None = None,
    source: str = "",
    campaign: str = "",
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Maps, starts and runs the import in this process (as `leadbase import` does)."""
    services.import_job_configure(job=job, mapping=mapping, source=source, campaign=campaign)
    services.import_start(job=job, enqueue=False)
    return services.import_run(job_id=job.pk, progress=progress)


def dry_run(job: ImportJob, *, mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
    services.import_job_configure(job=job, mapping=mapping)
    services.import_dry_run(job=job)
    job.refresh_from_db()
    return dict(job.dry_run)


@pytest.fixture
def make_job(db: None) -> MakeJob:
    return upload
