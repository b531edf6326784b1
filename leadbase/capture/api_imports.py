"""API router: imports (mounted under /api/v1/ by leadbase/config/api.py).

`POST /imports` takes a multipart upload (the file, and optionally the mapping as JSON, the
source name, the campaign, the consent settings, the sheet and `dry_run`), `GET /imports/{id}`
tells its status and progress, `GET /imports/{id}/rejections` lists the rows the run rejected.
Admins' and marketers' keys only (403 for other roles); reads need `read`, the upload `write`.
"""

from __future__ import annotations

import datetime as dt
import json
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from leadbase.accounts.api_auth import request_user, require_scope
from leadbase.accounts.models import Scope, User
from leadbase.core.errors import NotFound, PermissionDenied, ValidationFailed
from leadbase.leads.api import errors

from .imports import selectors, services
from .models import ImportJob

router = Router(tags=["imports"])


class ImportOut(Schema):
    id: int
    status: str = Field(
        description="uploaded, analysed (dry run done), queued, running, done, failed"
    )
    file_name: str
    format: str = Field(description="csv, xlsx (also xls, ods)")
    encoding: str
    delimiter: str
    sheet: str
    columns: list[str]
    mapping: dict[str, str] = Field(description="column -> lead field, attributes.<key> or ''")
    source: str = Field(description="recorded with each lead and change")
    campaign: str
    consent_text: str = Field(description="the text people consented to ('' for none)")
    consent_purpose: str = Field(description="the purpose of that consent")
    consent_all: bool = Field(description="every row consented (else the consent column says)")
    total_rows: int
    processed_rows: int
    created: int
    updated: int
    unchanged: int
    duplicates: int = Field(description="rows that repeat an earlier row's lead")
    rejected: int
    error: str
    dry_run: dict[str, Any] = Field(
        description="state (queued, running, done, failed); when done: rows, create, update, "
        "duplicates, rejected, errors (the first 100, as {row, reason})"
    )
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    url: str
    rejections_url: str


class RejectionOut(Schema):
    row: int = Field(description="row number in the file (the header is row 1 when first)")
    reason: str
    values: dict[str, Any] = Field(description="the row as read, by column name")


class RejectionPage(Schema):
    items: list[RejectionOut]
    next: int | None = Field(description="pass as `after` for the next page; null at the end")


class RejectionQuery(Schema):
    after: int = Field(0, ge=0, description="rows after this row number")
    limit: int = Field(100, ge=1, le=1000)


def _out(job: ImportJob) -> ImportOut:
    return ImportOut(
        id=job.pk,
        status=job.status,
        file_name=job.original_name,
        format=job.format,
        encoding=job.encoding,
        delimiter=job.delimiter,
        sheet=job.sheet,
        columns=services.job_headers(job),
        mapping={str(k): str(v) for k, v in job.mapping.items()},
        source=services.import_source(job),
        campaign=job.campaign.name if job.campaign else job.campaign_name,
        consent_text=job.consent_text,
        consent_purpose=job.consent_purpose,
        consent_all=job.consent_all,
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        created=job.created,
        updated=job.updated,
        unchanged=job.unchanged,
        duplicates=job.duplicates,
        rejected=job.rejected,
        error=job.error,
        dry_run=job.dry_run or {},
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        url=reverse("api:get_import", args=[job.pk]),
        rejections_url=reverse("api:list_import_rejections", args=[job.pk]),
    )


def _importer(request: HttpRequest, scope: str) -> User:
    require_scope(request, scope)
    user = request_user(request)
    if not selectors.may_import(user):
        raise PermissionDenied(
            f"Only admins and marketers may import leads; the key's user is a "
            f"{user.get_role_display().lower()}."
        )
    return user


def _job(job_id: int) -> ImportJob:
    job = selectors.import_job_get(job_id=job_id) if 0 < job_id < 1 << 62 else None
    if job is None:
        raise NotFound(f"There is no import {job_id}.", fields={"id": "no such import"})
    return job


def _mapping(text: str) -> dict[str, str] | None:
    if not text.strip():
        return None
    try:
        mapping = json.loads(text)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict):
        raise ValidationFailed(
            'The mapping is not a JSON object. Send it as e.g. {"E-mail": "email", "Notes": '
            '"attributes.notes", "Internal id": ""}, or leave it out to use the suggested one.',
            fields={"mapping": "is not a JSON object"},
        )
    return mapping


@router.post(
    "/imports",
    response={
        201: ImportOut,
        202: ImportOut,
        **errors(HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    },
    summary="Upload a CSV or XLSX file to import (or dry-run)",
)
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    mapping: Form[str] = "",
    dry_run: Form[bool] = False,
    source: Form[str] = "",
    campaign: Form[str] = "",
    sheet: Form[str] = "",
    consent_text: Form[str] = "",
    consent_purpose: Form[str] = "",
    consent_all: Form[bool] = False,
) -> Status[Any]:
    """Stores and reads the file (422 when it cannot be read, 413 when too large). Without
    `mapping` the suggested one is used. To record consent, give `consent_text` (what the
    people were shown and agreed to) and `consent_purpose` (default marketing_email), and
    either map a column to `consent` (yes/true/1 or the date it was given; no or empty: none)
    or set `consent_all=true` (every row consented). With `dry_run=true` every row is
    checked and nothing is written: 201 with the `dry_run` summary (a large file: 202, then
    poll the import's URL). Otherwise the import is queued (202) and runs in the background;
    poll its URL."""
    user = _importer(request, Scope.WRITE)
    chosen = _mapping(mapping)
    job = services.import_job_create(file=file, name=file.name or "", user=user, sheet=sheet)
    try:
        services.import_job_configure(
            job=job,
            mapping=chosen,
            source=source,
            campaign=campaign,
            consent_text=consent_text,
            consent_purpose=consent_purpose,
            consent_all=consent_all,
        )
    except ValidationFailed:
        job.file.delete(save=False)
        job.delete()  # nothing half-made: the client sends it again with a better mapping
        raise
    if dry_run:
        try:
            queued = services.import_dry_run_request(job=job)
        except ValidationFailed as exc:
            if "file" not in exc.fields:
                raise
            queued = False  # e.g. no data rows: the job says so in dry_run.error
        job.refresh_from_db()
        return Status(HTTPStatus.ACCEPTED if queued else HTTPStatus.CREATED, _out(job))
    job = services.import_start(job=job)
    return Status(HTTPStatus.ACCEPTED, _out(job))


@router.get(
    "/imports/{job_id}",
    response={200: ImportOut, **errors(HTTPStatus.NOT_FOUND)},
    url_name="get_import",
    summary="An import's status, progress and counts",
)
def get_import(request: HttpRequest, job_id: int) -> ImportOut:
    _importer(request, Scope.READ)
    return _out(_job(job_id))


@router.get(
    "/imports/{job_id}/rejections",
    response={200: RejectionPage, **errors(HTTPStatus.NOT_FOUND)},
    url_name="list_import_rejections",
    summary="The rows an import rejected, with the reasons",
)
def list_import_rejections(
    request: HttpRequest, job_id: int, params: Query[RejectionQuery]
) -> dict[str, Any]:
    """By row number; page with `after` (the `next` of the previous page)."""
    _importer(request, Scope.READ)
    job = _job(job_id)
    rows = list(
        selectors.import_rejections(job=job)
        .filter(row_number__gt=params.after)
        .values_list("row_number", "reason", "values")[: params.limit + 1]
    )
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    items = [
        {"row": n, "reason": r, "values": v if isinstance(v, dict) else {}} for n, r, v in rows
    ]
    return {"items": items, "next": rows[-1][0] if more else None}
