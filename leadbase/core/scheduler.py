"""Periodic jobs: a django.tasks Task enqueued once per fixed period, by whichever worker is first.

Register a job where its task is defined (the module must be imported when Django starts; see
CoreConfig.ready)::

    @periodic("task_results_prune", every=timedelta(days=1))
    @task()
    def task_results_prune_task() -> int: ...

Periods are aligned to the Unix epoch (`floor(now / every) * every`), so every machine computes
the same period boundaries. Each worker calls `run_due_periodic_jobs` from its loop; a period is
claimed with a conditional UPDATE on PeriodicRun.last_period_start, and only the caller whose
UPDATE changed the row enqueues the task, in the same transaction as the claim.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.tasks import Task
from django.utils import timezone

from leadbase.core.models import JOB_NAME_MAX_LENGTH, PeriodicRun

logger = logging.getLogger(__name__)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

type PeriodicTask = Task[[], Any]


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    task: PeriodicTask
    every: dt.timedelta


_registry: dict[str, PeriodicJob] = {}


def register_periodic(name: str, task: PeriodicTask, every: dt.timedelta) -> PeriodicJob:
    """Enqueue `task` (which takes no arguments) once every `every`, starting with the current
    period. Registering the same name twice with the same task is a no-op (module reloads)."""
    if not 0 < len(name) <= JOB_NAME_MAX_LENGTH:
        raise ValueError(f"Periodic job name {name!r} must be 1-{JOB_NAME_MAX_LENGTH} characters.")
    if every <= dt.timedelta(0):
        raise ValueError(f"Periodic job {name!r}: `every` must be positive, got {every}.")
    if not isinstance(task, Task):
        raise TypeError(f"Periodic job {name!r}: expected a django.tasks Task, got {task!r}.")
    job = PeriodicJob(name=name, task=task, every=every)
    existing = _registry.get(name)
    if existing is not None and existing.task.module_path != task.module_path:
        raise ValueError(
            f"Periodic job {name!r} is already registered for {existing.task.module_path}."
        )
    _registry[name] = job
    return job


def periodic(name: str, every: dt.timedelta) -> Callable[[PeriodicTask], PeriodicTask]:
    """Decorator form of `register_periodic`; put it above `@task()`."""

    def decorator(task: PeriodicTask) -> PeriodicTask:
        register_periodic(name, task, every)
        return task

    return decorator


def unregister_periodic(name: str) -> None:
    """Remove a job from the registry (its PeriodicRun row is kept). Mainly for tests."""
    _registry.pop(name, None)


def registered_jobs() -> list[PeriodicJob]:
    return sorted(_registry.values(), key=lambda job: job.name)


def period_start(now: dt.datetime, every: dt.timedelta) -> dt.datetime:
    """Start of the epoch-aligned period of length `every` that contains `now`."""
    if timezone.is_naive(now):
        raise ValueError("period_start needs an aware datetime (use timezone.now()).")
    return EPOCH + ((now - EPOCH) // every) * every


def _ensure_row(name: str) -> None:
    if PeriodicRun.objects.filter(name=name).exists():
        return
    try:
        PeriodicRun.objects.get_or_create(name=name)
    except IntegrityError:
        # Another worker created it between our check and our insert: that is all we needed.
        logger.debug("PeriodicRun %s was created concurrently", name)


def claim_period(name: str, start: dt.datetime, now: dt.datetime) -> bool:
    """Mark the period starting at `start` as taken for job `name`; True for exactly one caller.

    Must run inside the transaction that enqueues the task, so a failed enqueue gives the
    period back.
    """
    claimed = (
        PeriodicRun.objects.filter(name=name)
        .filter(Q(last_period_start__isnull=True) | Q(last_period_start__lt=start))
        .update(last_period_start=start, last_enqueued_at=now, updated_at=now)
    )
    return claimed == 1


def run_due_periodic_jobs(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every registered job whose current period has not been claimed yet.

    Safe to call from any number of workers at once: each (job, period) is enqueued exactly
    once. Returns the names of the jobs this call enqueued. A job whose enqueue fails is
    logged and left for the next call.
    """
    if now is None:
        now = timezone.now()
    enqueued: list[str] = []
    for job in registered_jobs():
        start = period_start(now, job.every)
        try:
            _ensure_row(job.name)
            with transaction.atomic():
                if not claim_period(job.name, start, now):
                    continue
                result = job.task.enqueue()
        except Exception:
            logger.exception("Periodic job %s could not be enqueued; will retry", job.name)
            continue
        logger.info("Enqueued periodic job %s for period %s (task %s)", job.name, start, result.id)
        enqueued.append(job.name)
    return enqueued
