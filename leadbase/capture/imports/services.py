"""Writes of an import: upload and analyse a file, choose its sheet, set the mapping, dry run,
start, and the run itself (in a background task, or in-process by `leadbase import`).

Every lead goes through leads.bulk.lead_upsert_many, in chunks; each chunk is written in one
transaction together with the job's counters and the chunk's rejected rows, so the counters
always match what is stored, and a run that is interrupted resumes after its last chunk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError, ValidationFailed
from leadbase.leads.bulk import BatchResult, RowOutcome, lead_upsert_many
from leadbase.leads.normalize import clean_text
from leadbase.leads.services import campaign_resolve

from ..models import ImportJob, ImportRejection, ImportStatus
from .consent import (
    CONSENT,
    DEFAULT_CONSENT_PURPOSE,
    clean_consent_text,
    consent_settings_errors,
    row_consents,
)
from .forecast import DryRun, forecast_rows
from .mapping import IMPORT_CHANNEL, RowMapper, compile_mapping, suggest_mapping
from .reading import (
    DELIMITERS,
    ENCODINGS,
    SPREADSHEET_SUFFIXES,
    FileFormat,
    ImportFileError,
    analyse,
    count_rows,
    open_table,
)
from .rows import Row, prepared_rows, raw_values, reason_from_errors

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # LEADBASE_IMPORT_MAX_BYTES overrides it
CHUNK = 5000  # rows per lead_upsert_many call and transaction
INLINE_DRY_RUN_BYTES = 2 * 1024 * 1024  # larger files are dry-run by a background task
RETRIES = 4  # attempts of a chunk that lost a race with a concurrent writer
SOURCE_CHARS = 64  # lead_upsert_many keeps the source as a 64-character actor label
_SUFFIXES = (".csv", ".tsv", ".txt", *SPREADSHEET_SUFFIXES)
EDITABLE = (ImportStatus.UPLOADED, ImportStatus.ANALYSED)


class ImportTooLarge(ApplicationError):
    status = 413


class ImportStateError(ApplicationError):
    """The import is past the step asked for (e.g. it is already running)."""

    status = 409


def import_max_bytes() -> int:
    return int(getattr(settings, "LEADBASE_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def too_large_message(size: int | None = None) -> str:
    limit = import_max_bytes()
    got = f"{size / 1_000_000:,.1f} MB; " if size else ""
    return (
        f"The file is too large ({got}the limit is {limit / 1_000_000:,.0f} MB). Split it into "
        "smaller files, or ask an admin to raise LEADBASE_IMPORT_MAX_BYTES."
    )


def file_format(job: ImportJob) -> FileFormat:
    return FileFormat(job.format, job.encoding, job.delimiter, job.sheet)


def job_headers(job: ImportJob) -> list[str]:
    return [str(h) for h in job.analysis.get("headers", [])]


def import_source(job: ImportJob) -> str:
    """The source recorded on the leads and their history: the name given, else
    `import:<file name>` (cut to 64 characters)."""
    return (job.source or f"import:{job.original_name}")[:SOURCE_CHARS]


def import_defaults(job: ImportJob) -> dict[str, str]:
    """Values of rows that give none: the channel `import`, and the chosen campaign."""
    return {"source_channel": IMPORT_CHANNEL, "campaign": job.campaign_name}


# --- Upload, sheet, mapping ----------------------------------------------------------------


def _clean_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    return clean_text(base)[:255] or "upload"


def import_job_create(
    *, file: File[Any], name: str, user: User | None, sheet: str = ""
) -> ImportJob:
    """Stores the file, detects its format and reads its header and first rows; the job
    starts with the suggested mapping. Raises ImportTooLarge or ImportFileError."""
    name = _clean_name(name)
    limit = import_max_bytes()
    if file.size is not None and file.size > limit:
        raise ImportTooLarge(too_large_message(file.size), fields={"file": "is too large"})
    digest, size = sha256(), 0
    for block in file.chunks():
        digest.update(block)
        size += len(block)
        if size > limit:
            raise ImportTooLarge(too_large_message(), fields={"file": "is too large"})
    if size == 0:
        raise ImportFileError(f"“{name}” is empty (0 bytes). Choose the file again.")
    suffix = os.path.splitext(name)[1].lower()
    job = ImportJob(original_name=name, size=size, sha256=digest.hexdigest(), created_by=user)
    file.seek(0)
    job.file.save(f"{uuid.uuid4().hex}{suffix if suffix in _SUFFIXES else ''}", file, save=False)
    try:
        _analyse_into(job, sheet)
        job.save()
    except BaseException:
        job.file.delete(save=False)
        raise
    return job


def _analyse_into(job: ImportJob, sheet: str, read_as: FileFormat | None = None) -> None:
    with job.file.open("rb") as stored:
        analysis = analyse(stored, name=job.original_name, sheet=sheet, read_as=read_as)
    job.format = analysis.format.kind
    job.encoding = analysis.format.encoding
    job.delimiter = analysis.format.delimiter
    job.sheet = analysis.format.sheet
    job.analysis = {
        "headers": list(analysis.headers),
        "header_row": analysis.header_row,
        "preview": analysis.preview,
        "sheets": list(analysis.sheets),
    }
    job.mapping = suggest_mapping(analysis.headers)
    job.dry_run = {}
    job.total_rows = 0
    job.status = ImportStatus.UPLOADED


def _require_editable(job: ImportJob) -> None:
    """The job (as stored now: another request may have started it) can still change."""
    job.status = ImportJob.objects.values_list("status", flat=True).get(pk=job.pk)
    if job.status not in EDITABLE:
        raise ImportStateError(
            f"This import is {job.get_status_display().lower()}; its file and mapping can no "
            "longer change. Upload the file again to import it differently."
        )


def import_job_choose_sheet(*, job: ImportJob, sheet: str) -> ImportJob:
    """Reads another sheet of the workbook (its columns, first rows and suggested mapping)."""
    _require_editable(job)
    if job.format == "csv":
        raise ValidationFailed("A CSV file has no sheets.", fields={"sheet": "not a workbook"})
    _analyse_into(job, sheet)
    job.save()
    return job


def import_job_read_as(*, job: ImportJob, encoding: str, delimiter: str) -> ImportJob:
    """Reads a CSV file again with the encoding and delimiter a person chose (when the
    detected ones read it wrong): its columns, first rows and suggested mapping."""
    _require_editable(job)
    errors = {}
    if job.format != "csv":
        errors["encoding"] = "only a CSV file has an encoding and a delimiter"
    if encoding not in {*ENCODINGS, job.encoding}:
        errors["encoding"] = f"must be one of {', '.join(ENCODINGS)}"
    if delimiter not in DELIMITERS:
        errors["delimiter"] = "must be a comma, a semicolon, a tab or a pipe"
    if errors:
        summary = "; ".join(f"{k} {v}" for k, v in errors.items())
        raise ValidationFailed(f"The file cannot be read that way: {summary}.", fields=errors)
    _analyse_into(job, "", FileFormat("csv", encoding, delimiter))
    job.save()
    return job


def import_job_configure(
    *,
    job: ImportJob,
    mapping: Mapping[str, str] | None,
    source: str = "",
    campaign: str = "",
    consent_text: str = "",
    consent_purpose: str = "",
    consent_all: bool = False,
) -> RowMapper:
    """Checks and stores the mapping (None keeps the current one), the source name, the
    campaign and the consent settings (the text people consented to and its purpose, for the
    rows the column mapped to `consent` marks, or for every row with `consent_all`); a dry
    run made before no longer applies."""
    _require_editable(job)
    chosen: Any = job.mapping if mapping is None else mapping
    mapper = compile_mapping(chosen, job_headers(job))
    errors = {}
    source, campaign = clean_text(source or ""), clean_text(campaign or "")
    if len(source) > SOURCE_CHARS:
        errors["source"] = f"is {len(source)} characters long; the limit is {SOURCE_CHARS}"
    if len(campaign) > 200:
        errors["campaign"] = f"is {len(campaign)} characters long; the limit is 200"
    consent_text = clean_consent_text(consent_text or "")
    consent_purpose = (consent_purpose or "").strip() or DEFAULT_CONSENT_PURPOSE
    errors |= consent_settings_errors(
        text=consent_text,
        purpose=consent_purpose,
        every_row=consent_all,
        column=mapper.field_column(CONSENT),
    )
    if errors:
        summary = "; ".join(f"{k} {v}" for k, v in errors.items())
        raise ValidationFailed(f"The import settings are not valid: {summary}.", fields=errors)
    job.mapping = {str(k): str(v).strip() for k, v in dict(chosen).items()}
    job.source, job.campaign_name = source, campaign
    job.consent_text, job.consent_all = consent_text, consent_all
    job.consent_purpose = consent_purpose if consent_text else ""
    job.dry_run, job.status = {}, ImportStatus.UPLOADED
    job.save(
        update_fields=[
            "mapping", "source", "campaign_name", "consent_text", "consent_purpose",
            "consent_all", "dry_run", "status",
        ]
    )  # fmt: skip
    return mapper


# --- Dry run -------------------------------------------------------------------------------


def import_dry_run(
    *,
    job: ImportJob,
    on_error: Callable[[Row, str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DryRun:
    """Forecasts what the import would do with the stored mapping and writes only the job's
    dry-run summary (the first problems; `on_error` hears of every one)."""
    _require_editable(job)
    mapper = compile_mapping(job.mapping, job_headers(job))
    try:
        with job.file.open("rb") as stored:
            table = open_table(stored, file_format(job), name=job.original_name)
            try:
                rows = prepared_rows(table, mapper, import_defaults(job))
                result = forecast_rows(rows, mapper, on_error=on_error, progress=progress)
            finally:
                table.close()
        if result.rows == 0:
            raise _no_rows(job)
    except ImportFileError as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            dry_run={"state": "failed", "error": exc.message}
        )
        job.dry_run = {"state": "failed", "error": exc.message}
        raise
    job.dry_run = {
        "state": "done",
        **result.as_dict(),
        "campaign": job.campaign_name,
        "checked_at": timezone.now().isoformat(),
    }
    job.total_rows, job.status = result.rows, ImportStatus.ANALYSED
    job.save(update_fields=["dry_run", "total_rows", "status", "updated_at"])
    return result


def import_dry_run_request(*, job: ImportJob) -> bool:
    """Dry-runs a small file at once; queues a large one (True when queued)."""
    if job.size <= INLINE_DRY_RUN_BYTES:
        import_dry_run(job=job)
        return False
    _require_editable(job)
    job.dry_run = {"state": "queued"}
    job.save(update_fields=["dry_run"])
    transaction.on_commit(partial(_enqueue, "import_dry_run_task", job.pk))
    return True


def import_dry_run_stored(*, job_id: int) -> None:
    """The queued dry run (from the task): progress is written to the job as it goes."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status not in EDITABLE or job.dry_run.get("state") not in {"queued", "running"}:
        return  # reconfigured or started meanwhile: this dry run no longer applies

    def progress(rows: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(
            dry_run={"state": "running", "processed_rows": rows}
        )

    try:
        import_dry_run(job=job, progress=progress)
    except ValidationFailed as exc:  # e.g. the file cannot be read
        ImportJob.objects.filter(pk=job_id).update(
            dry_run={"state": "failed", "error": exc.message}
        )


def _enqueue(task_name: str, job_id: int) -> None:
    from . import tasks  # tasks imports this module

    result = getattr(tasks, task_name).enqueue(job_id)
    if task_name == "import_run_task":
        ImportJob.objects.filter(pk=job_id).update(task_id=str(result.id))


# --- The run -------------------------------------------------------------------------------


def import_start(*, job: ImportJob, enqueue: bool = True) -> ImportJob:
    """Queues the import with the stored mapping (the background task runs it; with
    enqueue=False the caller runs it with import_run). The campaign is created if new."""
    compile_mapping(job.mapping, job_headers(job))
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        _require_editable(locked)  # a second click finds it queued
        campaign = campaign_resolve(locked.campaign_name, channel=IMPORT_CHANNEL)
        locked.campaign = campaign
        locked.status = ImportStatus.QUEUED
        locked.save(update_fields=["campaign", "status", "updated_at"])
        job.campaign, job.status = campaign, locked.status
        if enqueue:
            transaction.on_commit(partial(_enqueue, "import_run_task", locked.pk))
    return locked


class _SeenLeads:
    """Ids of the leads the file's rows have landed on: a bitmap (an id is a bit), with a set
    for ids too large for it."""

    BITMAP_IDS = 1 << 27  # 16 MB at most

    def __init__(self) -> None:
        self.bits = bytearray()
        self.far: set[int] = set()

    def __contains__(self, pk: int) -> bool:
        if pk >= self.BITMAP_IDS:
            return pk in self.far
        byte = pk >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (pk & 7) & 1)

    def add(self, pk: int) -> None:
        if pk >= self.BITMAP_IDS:
            self.far.add(pk)
            return
        byte = pk >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        self.bits[byte] |= 1 << (pk & 7)


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[ImportRejection] = field(default_factory=list)
    landed: set[int] = field(default_factory=set)


def import_run(*, job_id: int, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Runs a queued import (or resumes one that was interrupted) and returns the job. A job
    that is finished, or not queued, is returned as it is. Safe to run again."""
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    try:
        _run(job, progress)
    except ImportFileError as exc:
        _finish(job, ImportStatus.FAILED, exc.message)
    except Exception:
        logger.exception("Import %s failed", job_id)
        _finish(
            job,
            ImportStatus.FAILED,
            "Leadbase hit an unexpected error and logged it; the rows counted as processed "
            "were imported. Tell your Leadbase admin.",
        )
        raise
    else:
        _finish(job, ImportStatus.DONE, "")
    return job


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return None
        if job.status == ImportStatus.QUEUED:
            job.status, job.started_at = ImportStatus.RUNNING, timezone.now()
            job.save(update_fields=["status", "started_at", "updated_at"])
    return job


def _finish(job: ImportJob, status: ImportStatus, error: str) -> None:
    job.status, job.error, job.finished_at = status, error, timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "updated_at"])


def _run(job: ImportJob, progress: Callable[[ImportJob], None] | None) -> None:
    headers = job_headers(job)
    mapper = compile_mapping(job.mapping, headers)
    fmt, source = file_format(job), import_source(job)
    seen = _SeenLeads()
    with job.file.open("rb") as stored:
        if not job.total_rows:
            with contextlib.suppress(ImportFileError):  # the run stops at that row, later
                job.total_rows = count_rows(stored, fmt, name=job.original_name)
                job.save(update_fields=["total_rows"])
        table = open_table(stored, fmt, name=job.original_name)
        try:
            rows: Iterator[Row] = prepared_rows(table, mapper, import_defaults(job))
            for _ in range(job.processed_rows):  # resuming: these rows are in already
                next(rows, None)
            for chunk in _chunks(rows, CHUNK):
                _apply_chunk(job, chunk, mapper, headers, source, seen)
                if progress is not None:
                    progress(job)
        finally:
            table.close()
    if job.processed_rows == 0:
        raise _no_rows(job)


def _no_rows(job: ImportJob) -> ImportFileError:
    return ImportFileError(
        f"“{job.original_name}” has a header row but no data rows below it: there is nothing "
        "to import."
    )


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    """Lists of `size` rows; when the file turns out unreadable part-way, the rows read
    before that point still come (then the error)."""
    chunk: list[Row] = []
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk = []
    except ImportFileError:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


def _apply_chunk(
    job: ImportJob,
    chunk: Sequence[Row],
    mapper: RowMapper,
    headers: Sequence[str],
    source: str,
    seen: _SeenLeads,
) -> None:
    """Upserts the chunk's rows and records its counters and rejections in one transaction.
    A chunk that lost a race (a concurrent import or form created the same email or company
    domain first, or a deadlock) is rolled back and done again: it then finds that row."""
    valid = [row.data for row in chunk if row.data is not None]
    consents = row_consents(job, chunk, f"{source} (import {job.pk})")
    for attempt in range(RETRIES):
        try:
            with transaction.atomic():
                result = (
                    lead_upsert_many(valid, source=source, actor=job.created_by, consents=consents)
                    if valid
                    else BatchResult()
                )
                tally = _tally(job, chunk, result.outcomes, mapper, headers, seen)
                ImportRejection.objects.bulk_create(tally.rejections, batch_size=1000)
                ImportJob.objects.filter(pk=job.pk).update(
                    processed_rows=F("processed_rows") + len(chunk),
                    created=F("created") + tally.created,
                    updated=F("updated") + tally.updated,
                    unchanged=F("unchanged") + tally.unchanged,
                    duplicates=F("duplicates") + tally.duplicates,
                    rejected=F("rejected") + tally.rejected,
                    updated_at=timezone.now(),
                )
            break
        except Exception as exc:
            if attempt == RETRIES - 1 or not _retryable(exc):
                raise
            logger.info("Import %s: chunk retried after %s", job.pk, exc)
            time.sleep(0.05 * 2**attempt)
    for pk in tally.landed:
        seen.add(pk)
    job.processed_rows += len(chunk)
    job.created += tally.created
    job.updated += tally.updated
    job.unchanged += tally.unchanged
    job.duplicates += tally.duplicates
    job.rejected += tally.rejected


# PostgreSQL: unique violation (an email or company domain a concurrent transaction took
# first), deadlock, serialization failure.
_RETRY_SQLSTATES = frozenset({"23505", "40P01", "40001"})


def _retryable(exc: Exception) -> bool:
    """A failure that doing the chunk again can cure. The COPY of lead_upsert_many raises
    psycopg's own errors (with `sqlstate`), the ORM Django's (the driver's as the cause)."""
    state = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
    if state is not None:
        return state in _RETRY_SQLSTATES
    if isinstance(exc, IntegrityError):
        return True  # SQLite: a unique index (it has one writer, so rarely a race)
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def _tally(
    job: ImportJob,
    chunk: Sequence[Row],
    outcomes: Sequence[RowOutcome],
    mapper: RowMapper,
    headers: Sequence[str],
    seen: _SeenLeads,
) -> _Tally:
    """Counts the chunk's rows: a row that lands on a lead an earlier row of the file created
    or matched is a duplicate; the others count as lead_upsert_many says."""
    tally = _Tally()
    results = iter(outcomes)
    for row in chunk:
        reason = row.reason
        if row.data is not None:
            outcome = next(results)
            pk = outcome.lead_id
            if outcome.action == "rejected" or pk is None:
                reason = reason_from_errors(outcome.errors, mapper) if outcome.errors else ""
                reason = reason or outcome.message or "was not accepted"
            elif outcome.action == "created":
                tally.created += 1
                tally.landed.add(pk)
                continue
            elif pk in seen or pk in tally.landed:
                tally.duplicates += 1
                continue
            else:
                tally.landed.add(pk)
                if outcome.action == "updated":
                    tally.updated += 1
                else:
                    tally.unchanged += 1
                continue
        tally.rejected += 1
        tally.rejections.append(
            ImportRejection(
                job=job,
                row_number=row.number,
                reason=reason,
                values=raw_values(headers, row.cells),
            )
        )
    return tally
