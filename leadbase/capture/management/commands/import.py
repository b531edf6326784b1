"""`leadbase import FILE [--mapping FILE.json] [--source NAME] [--campaign NAME] [--dry-run]
[--json] [--sheet NAME] [--encoding NAME] [--delimiter D] [--consent-text TEXT
[--consent-purpose PURPOSE] [--all-consented]]`

Imports a CSV or XLSX file in this process, with the same steps as the UI: the file is stored as
an import (it shows under /capture/imports/), read, mapped (the suggested mapping unless
--mapping gives one), then dry-run (--dry-run: nothing is written but the import's summary) or
imported. To record consent, --consent-text gives the text people agreed to, for the rows the
column mapped to `consent` marks (yes/true/1 or the date; in --mapping), or for every row with
--all-consented. A progress bar goes to stderr when it is a terminal. With --json, stdout
carries one JSON object and nothing else: rows, created, updated, unchanged, duplicates,
rejected, errors (every rejected row as {"row": n, "reason": "..."}), and the import's id and
status. In a dry run, created and updated are what the import would do.

Exit status: 0 when the file was read to its end (rejected rows included), 1 when the file
cannot be imported at all (unreadable, no header, bad mapping, ...) or the run stopped.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from rich.progress import (
    Progress,
)

from leadbase.capture.imports import services
from leadbase.capture.imports.rows import Row
from leadbase.capture.models import ImportJob, ImportStatus
from leadbase.core.errors import ApplicationError
from leadbase.core.progress import progress_bar
from leadbase.leads.models import ConsentPurpose

ERRORS_PRINTED = 20  # rejected rows listed in the plain-text summary


class Command(BaseCommand):
    help = "Import leads from a CSV or XLSX file (or check it with --dry-run)."
    # A data command: the system checks (URL configuration, every app's API) add nothing
    # here and cost seconds at start-up.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="the CSV or XLSX file")
        parser.add_argument(
            "--mapping",
            metavar="FILE.json",
            help='a JSON object of column name to lead field, e.g. {"E-mail": "email", '
            '"Notes": "attributes.notes", "Internal id": ""}; default: the suggested mapping',
        )
        parser.add_argument("--source", default="", help="source name (default import:<file>)")
        parser.add_argument("--campaign", default="", help="campaign of rows that name none")
        parser.add_argument(
            "--consent-text",
            default="",
            help="record consent to this text (what people were shown and agreed to) for the "
            "rows the column mapped to `consent` marks, or every row with --all-consented",
        )
        parser.add_argument(
            "--consent-purpose",
            default="",
            choices=["", *ConsentPurpose.values],
            help="the consent's purpose (default: marketing_email)",
        )
        parser.add_argument(
            "--all-consented",
            action="store_true",
            help="every row of the file consented to --consent-text (no consent column)",
        )
        parser.add_argument("--sheet", default="", help="the workbook's sheet (default: first)")
        parser.add_argument(
            "--encoding", default="", help="read a CSV file in this encoding (default: detected)"
        )
        parser.add_argument(
            "--delimiter", default="", help="a CSV file's delimiter: , ; tab | (default: detected)"
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, write none")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        as_json: bool = options["json"]
        try:
            summary = self._import(options)
        except (ApplicationError, CommandError) as exc:
            message = exc.message if isinstance(exc, ApplicationError) else str(exc)
            if as_json:
                self.stdout.write(json.dumps({"error": message}, ensure_ascii=False))
            raise CommandError(message) from None
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self._print(summary)
        if summary["status"] == ImportStatus.FAILED:
            raise CommandError(summary["error"])

    def _import(self, options: dict[str, Any]) -> dict[str, Any]:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"There is no file at {path}.")
        mapping = _read_mapping(options["mapping"]) if options["mapping"] else None
        with path.open("rb") as handle:
            job = services.import_job_create(
                file=File(handle, name=path.name), name=path.name, user=None, sheet=options["sheet"]
            )
        if options["encoding"] or options["delimiter"]:
            delimiter = {"tab": "\t", "\\t": "\t"}.get(options["delimiter"], options["delimiter"])
            services.import_job_read_as(
                job=job,
                encoding=options["encoding"] or job.encoding,
                delimiter=delimiter or job.delimiter,
            )
        services.import_job_configure(
            job=job,
            mapping=mapping,
            source=options["source"],
            campaign=options["campaign"],
            consent_text=options["consent_text"],
            consent_purpose=options["consent_purpose"],
            consent_all=options["all_consented"],
        )
        errors: list[dict[str, Any]] = []
        with progress_bar() as bar:
            task = bar.add_task("Checking" if options["dry_run"] else "Importing", total=None)
            if options["dry_run"]:

                def collect(row: Row, reason: str) -> None:
                    errors.append({"row": row.number, "reason": reason})

                def checked(rows: int) -> None:
                    bar.update(task, completed=rows)

                result = services.import_dry_run(job=job, on_error=collect, progress=checked)
                return _summary(job, errors, dry_run=True) | {
                    "created": result.create,
                    "updated": result.update,
                    "unchanged": 0,
                    "duplicates": result.duplicate,
                    "rejected": result.rejected,
                }
            services.import_start(job=job, enqueue=False)
            job = services.import_run(job_id=job.pk, progress=_advance(bar, task))
        rejections = job.rejections.order_by("row_number").values_list("row_number", "reason")
        errors = [{"row": n, "reason": r} for n, r in rejections.iterator(chunk_size=2000)]
        return _summary(job, errors, dry_run=False)

    def _print(self, summary: dict[str, Any]) -> None:
        verb = "Checked (dry run, nothing written)" if summary["dry_run"] else "Imported"
        would = "would be " if summary["dry_run"] else ""
        self.stdout.write(
            f"{verb} {summary['file']} (import #{summary['import_id']}): {summary['rows']:,} rows; "
            f"{summary['created']:,} {would}created, {summary['updated']:,} {would}updated"
            + ("" if summary["dry_run"] else f", {summary['unchanged']:,} unchanged")
            + f", {summary['duplicates']:,} duplicates within the file, "
            f"{summary['rejected']:,} rejected."
        )
        for error in summary["errors"][:ERRORS_PRINTED]:
            self.stdout.write(f"  row {error['row']}: {error['reason']}")
        if len(summary["errors"]) > ERRORS_PRINTED:
            self.stdout.write(
                f"  ... and {len(summary['errors']) - ERRORS_PRINTED:,} more (--json lists them "
                f"all; so does /capture/imports/{summary['import_id']}/)."
            )


def _read_mapping(name: str) -> Any:
    try:
        return json.loads(Path(name).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise CommandError(f"Cannot read the mapping file {name}: {exc.strerror}.") from None
    except ValueError as exc:
        raise CommandError(f"The mapping file {name} is not valid JSON: {exc}.") from None


def _advance(bar: Progress, task: Any) -> Callable[[ImportJob], None]:
    def update(job: ImportJob) -> None:
        bar.update(task, completed=job.processed_rows, total=job.total_rows or None)

    return update


def _summary(job: ImportJob, errors: list[dict[str, Any]], *, dry_run: bool) -> dict[str, Any]:
    return {
        "import_id": job.pk,
        "file": job.original_name,
        "status": job.status,
        "dry_run": dry_run,
        "source": services.import_source(job),
        "rows": job.total_rows,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "duplicates": job.duplicates,
        "rejected": job.rejected,
        "errors": errors,
        "error": job.error,
    }
