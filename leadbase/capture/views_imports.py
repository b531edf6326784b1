"""Import pages under /capture/imports/: upload, mapping and dry run, progress, reports.

Admins and marketers only (403 for the other roles). The flow is plain forms answered by
redirects (post/redirect/get); the progress of a running import (and of a dry run done in the
background) is a partial that HTMX polls every second until the work is finished.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError, ValidationFailed

from .imports import report, selectors, services
from .imports.forms import (
    DELIMITER_LABELS,
    ENCODING_LABELS,
    MappingForm,
    ReadAsForm,
    SheetForm,
    UploadForm,
)
from .imports.mapping import target_label
from .models import ImportJob, ImportStatus

ERRORS_SHOWN = 20  # dry-run problems listed on the page (all of them: the download)
LIST_SIZE = 50


def _importer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required guarantees it
        raise Http404
    if not selectors.may_import(user):
        raise PermissionDenied(
            f"Only admins and marketers may import leads; your role is {user.get_role_display()}."
        )
    return user


def _job_or_404(job_id: int) -> ImportJob:
    job = selectors.import_job_get(job_id=job_id)
    if job is None:
        raise Http404("No such import.")
    return job


def _detail_url(job: ImportJob) -> str:
    return reverse("capture:import-detail", args=[job.pk])


# --- List and upload -----------------------------------------------------------------------


@csrf_exempt  # checked by _upload, after the size check (the CSRF check reads the body)
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    _importer(request)
    if request.method == "POST":
        limit = services.import_max_bytes()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + 64 * 1024:  # the body is the file plus a few form fields
            return _list_page(
                request, UploadForm(), services.too_large_message(length), HTTPStatus(413)
            )
        return _upload(request)
    return _list_page(request, UploadForm())


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list_page(request, form, "Choose a file to upload.", HTTPStatus.BAD_REQUEST)
    upload = form.cleaned_data["file"]
    try:
        job = services.import_job_create(file=upload, name=upload.name or "", user=user)
    except services.ImportTooLarge as exc:
        return _list_page(request, form, exc.message, HTTPStatus(413))
    except ApplicationError as exc:
        return _list_page(request, form, exc.message, HTTPStatus.BAD_REQUEST)
    return HttpResponseRedirect(_detail_url(job))


def _list_page(
    request: HttpRequest, form: UploadForm, error: str = "", status: int = HTTPStatus.OK
) -> HttpResponse:
    context = {
        "form": form,
        "error": error,
        "jobs": list(selectors.import_job_list()[:LIST_SIZE]),
        "max_mb": round(services.import_max_bytes() / 1_000_000),
    }
    return render(request, "capture/imports/import_list.html", context, status=status)


# --- One import ----------------------------------------------------------------------------


_FORMATS = {"csv": "CSV", "xlsx": "Excel workbook (.xlsx)", "xls": "Excel 97-2003 (.xls)"}


def _context(job: ImportJob, mapping_form: MappingForm | None = None) -> dict[str, Any]:
    headers = services.job_headers(job)
    dry_run = job.dry_run or {}
    total = job.total_rows or 0
    preview = job.analysis.get("preview", [])
    form = mapping_form or MappingForm(
        headers=headers,
        mapping=job.mapping,
        source=job.source,
        campaign=job.campaign_name,
        consent_text=job.consent_text,
        consent_purpose=job.consent_purpose,
        consent_all=job.consent_all,
    )
    first = preview[0] if preview else []
    return {
        "format_label": _FORMATS.get(job.format, job.format.upper()),
        "encoding_label": ENCODING_LABELS.get(job.encoding, job.encoding),
        "delimiter_label": DELIMITER_LABELS.get(job.delimiter, job.delimiter),
        "read_as_form": ReadAsForm(encoding=job.encoding, delimiter=job.delimiter),
        "mapping_rows": [
            (header, field, first[index] if index < len(first) else "")
            for index, (header, field) in enumerate(form.columns())
        ],
        "job": job,
        "file_retention_days": settings.LEADBASE_IMPORT_FILE_RETENTION_DAYS,
        "editable": job.status in services.EDITABLE,
        "active": job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        "headers": headers,
        "preview": preview,
        "sheets": job.analysis.get("sheets", []),
        "sheet_form": SheetForm(sheets=job.analysis.get("sheets", []), current=job.sheet),
        "form": form,
        "dry_run": dry_run,
        "dry_run_errors": dry_run.get("errors", [])[:ERRORS_SHOWN],
        "dry_run_busy": dry_run.get("state") in {"queued", "running"},
        "mapped": [(h, target_label(t)) for h, t in job.mapping.items() if t],
        "percent": min(100, job.processed_rows * 100 // total) if total else 0,
        "same_file": selectors.import_job_same_file(job=job),
        "source_used": services.import_source(job),
    }


@require_safe
@login_required
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    _importer(request)
    job = _job_or_404(job_id)
    return render(request, "capture/imports/import_detail.html", _context(job))


@require_safe
@login_required
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The part of the page that changes while work runs: the dry run's card while the job
    can still be edited, else the run's progress (HTMX polls it)."""
    _importer(request)
    job = _job_or_404(job_id)
    part = "dryrun" if job.status in services.EDITABLE else "progress"
    response = render(request, f"capture/imports/import_detail.html#{part}", _context(job))
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def import_sheet(request: HttpRequest, job_id: int) -> HttpResponse:
    _importer(request)
    job = _job_or_404(job_id)
    form = SheetForm(request.POST, sheets=job.analysis.get("sheets", []), current=job.sheet)
    if not form.is_valid():
        messages.error(request, "Choose one of the workbook's sheets.")
        return HttpResponseRedirect(_detail_url(job))
    try:
        services.import_job_choose_sheet(job=job, sheet=form.cleaned_data["sheet"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(_detail_url(job))


@require_POST
@login_required
def import_read_as(request: HttpRequest, job_id: int) -> HttpResponse:
    """Reads a CSV file again with the encoding and delimiter chosen on the page."""
    _importer(request)
    job = _job_or_404(job_id)
    form = ReadAsForm(request.POST, encoding=job.encoding, delimiter=job.delimiter)
    if not form.is_valid():
        messages.error(request, "Choose one of the encodings and delimiters offered.")
        return HttpResponseRedirect(_detail_url(job))
    try:
        services.import_job_read_as(
            job=job,
            encoding=form.cleaned_data["encoding"],
            delimiter=form.cleaned_data["delimiter"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(_detail_url(job))


@require_POST
@login_required
def import_dry_run(request: HttpRequest, job_id: int) -> HttpResponse:
    """Stores the mapping and checks every row (at once for a small file, else in the
    background); invalid choices are answered with 400 and the page saying what to fix."""
    _importer(request)
    job = _job_or_404(job_id)
    headers = services.job_headers(job)
    form = MappingForm(request.POST, headers=headers, mapping=job.mapping)
    if form.is_valid():
        try:
            services.import_job_configure(
                job=job,
                mapping=form.mapping(),
                source=form.cleaned_data["source"],
                campaign=form.cleaned_data["campaign"],
                consent_text=form.cleaned_data["consent_text"],
                consent_purpose=form.cleaned_data["consent_purpose"],
                consent_all=form.cleaned_data["consent_all"],
            )
            services.import_dry_run_request(job=job)
        except services.ImportStateError as exc:
            messages.error(request, exc.message)
        except ValidationFailed as exc:
            if "file" in exc.fields:  # the file itself (e.g. no data rows): shown on the page
                messages.error(request, exc.message)
                return HttpResponseRedirect(_detail_url(job))
            form.add_service_errors(exc.fields, exc.message)
        if not form.errors:
            return HttpResponseRedirect(_detail_url(job) + "#dry-run")
    page = render(request, "capture/imports/import_detail.html", _context(job, form), status=400)
    return page


@require_POST
@login_required
def import_start(request: HttpRequest, job_id: int) -> HttpResponse:
    _importer(request)
    job = _job_or_404(job_id)
    if job.dry_run.get("state") != "done":
        messages.error(request, "Check the file with the dry run first, then import it.")
        return HttpResponseRedirect(_detail_url(job))
    try:
        services.import_start(job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(_detail_url(job))


def _csv_download(chunks: Any, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
@login_required
def import_rejections_csv(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    """The rows the run rejected, with the reason and the values as read."""
    _importer(request)
    job = _job_or_404(job_id)
    lines = report.rejection_lines(job)
    return _csv_download(report.csv_chunks(lines), f"import-{job.pk}-rejected-rows.csv")


@require_safe
@login_required
def import_problems_csv(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    """Every row the dry run rejects (read again from the file)."""
    _importer(request)
    job = _job_or_404(job_id)
    if job.dry_run.get("state") != "done":
        raise Http404("This import has no dry run.")
    if not job.file:
        raise Http404("The file of this import has been removed; upload it again.")
    lines = report.problem_lines(job)
    return _csv_download(report.csv_chunks(lines), f"import-{job.pk}-problems.csv")
