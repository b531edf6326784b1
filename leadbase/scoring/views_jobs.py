"""A preview or publish job's page under /scoring/jobs/<id>/: its progress while it runs (a
<progress> bar that HTMX refreshes every second; without JavaScript the page reloads itself),
then the result: who would move where, with example leads, grades and the mean change."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from .models import JobKind, JobStatus, ScoringJob
from .selectors import scoring_job_get
from .summary import move_label
from .views import may_edit, signed_in

KIND_TITLES = {
    "temperature": "Temperature",
    "qualification": "Qualification",
    "prospect": "Prospect (ideal-customer fit)",
    "stage": "Lifecycle stage",
}
GRADES = ("A", "B", "C", "D")


def _job_or_404(job_id: int) -> ScoringJob:
    job = scoring_job_get(job_id=job_id)
    if job is None:
        raise Http404("No such scoring job.")
    return job


def _moves(result: dict[str, Any]) -> list[dict[str, Any]]:
    moves = result.get("moves") or {}
    tables = []
    for kind in sorted(moves, key=lambda k: list(KIND_TITLES).index(k) if k in KIND_TITLES else 9):
        rows: list[dict[str, Any]] = [
            {
                "from": move_label(kind, str(move.get("from", ""))),
                "to": move_label(kind, str(move.get("to", ""))),
                "leads": int(move.get("leads", 0)),
                "examples": [int(pk) for pk in move.get("examples", [])],
            }
            for move in moves[kind]
        ]
        tables.append(
            {
                "kind": kind,
                "title": KIND_TITLES.get(kind, kind.replace("_", " ").capitalize()),
                "rows": rows,
                "total": sum(int(row["leads"]) for row in rows),
            }
        )
    return tables


def _context(request: HttpRequest, job: ScoringJob) -> dict[str, Any]:
    active = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    result = job.result if isinstance(job.result, dict) else {}
    grades = result.get("grades") or {}
    return {
        "job": job,
        "rule_set": job.rule_set,
        "active": active,
        "is_preview": job.kind == JobKind.PREVIEW,
        "percent": min(100, job.done * 100 // job.total) if job.total else (0 if active else 100),
        "moves": _moves(result) if job.kind == JobKind.PREVIEW else [],
        "grades": [(g, int(grades.get(g, 0))) for g in GRADES],
        "mean_change": result.get("mean_total_change"),
        "leads": result.get("leads"),
        "may_edit": may_edit(signed_in(request)),
    }


@require_safe
@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(job_id)
    return render(request, "scoring/job_detail.html", _context(request, job))


@require_safe
@login_required
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The part of the job page that changes while it runs (HTMX polls it)."""
    job = _job_or_404(job_id)
    response = render(request, "scoring/job_detail.html#job", _context(request, job))
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "no-store"
    return response
