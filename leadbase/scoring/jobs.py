"""Preview and publish jobs: started by a person (UI, API) or the CLI, run by a task worker,
with their progress stored so the UI can show it and the CLI draw a bar.

- `preview_start(rule_set)`: how leads would move under a draft (or any version), computed on
  the real data; nothing is written but the job's result.
- `publish_start(rule_set)`: put the version in force (a retired one: roll back) and recompute
  every lead's scores, recording each move.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError

from .models import JobKind, JobStatus, RuleSet, ScoringJob
from .recompute import preview, publish_recompute
from .rule_sets import engine_for, require_editor, rule_set_publish

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


class JobBusy(ApplicationError):
    status = 409


def _start(kind: str, rule_set: RuleSet, actor: User | None, enqueue: bool) -> ScoringJob:
    require_editor(actor)
    engine_for(rule_set)  # a rule set that does not parse fails here, not in the worker
    with transaction.atomic():
        running = ScoringJob.objects.select_for_update().filter(
            kind=JobKind.PUBLISH, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        )
        if kind == JobKind.PUBLISH and running.exists():
            raise JobBusy("A publish is already running; wait for it to finish.")
        job = ScoringJob.objects.create(rule_set=rule_set, kind=kind, created_by=actor)
        if enqueue:
            transaction.on_commit(lambda: scoring_job_task.enqueue(job.pk))
    return job


def preview_start(*, rule_set: RuleSet, actor: User | None, enqueue: bool = True) -> ScoringJob:
    return _start(JobKind.PREVIEW, rule_set, actor, enqueue)


def publish_start(*, rule_set: RuleSet, actor: User | None, enqueue: bool = True) -> ScoringJob:
    """Publish now (the version is in force for new events at once) and recompute everyone."""
    published = rule_set_publish(rule_set=rule_set, actor=actor)
    return _start(JobKind.PUBLISH, published, actor, enqueue)


def _progress_writer(job: ScoringJob) -> Callable[[int, int], None]:
    last = [0.0]

    def write(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_SECONDS and done < total:
            return
        last[0] = now
        ScoringJob.objects.filter(pk=job.pk).update(done=done, total=total)
        job.done, job.total = done, total

    return write


def job_run(job_id: int, *, progress: Callable[[ScoringJob], None] | None = None) -> ScoringJob:
    """Run a queued job (once: a job already running or finished is left alone)."""
    if not ScoringJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, updated_at=timezone.now()
    ):
        return ScoringJob.objects.get(pk=job_id)
    job = ScoringJob.objects.select_related("rule_set").get(pk=job_id)
    write = _progress_writer(job)

    def report(done: int, total: int) -> None:
        write(done, total)
        if progress is not None:
            progress(job)

    try:
        engine = engine_for(job.rule_set)
        if job.kind == JobKind.PREVIEW:
            job.result = preview(engine, progress=report)
        else:
            job.result = {"leads": publish_recompute(job.rule_set, engine, progress=report)}
        job.status = JobStatus.DONE
    except Exception as exc:
        logger.exception("Scoring job %s failed", job.pk)
        job.status, job.error = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    job.done = job.total
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "error", "done", "finished_at", "updated_at"])
    return job


@task()
def scoring_job_task(job_id: int) -> str:
    return job_run(job_id).status
