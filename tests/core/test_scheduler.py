"""Periodic jobs: epoch-aligned periods, exactly one enqueue per period, the prune job."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from leadbase.core.models import PeriodicRun
from leadbase.core.scheduler import (
    PeriodicJob,
    period_start,
    register_periodic,
    registered_jobs,
    run_due_periodic_jobs,
    unregister_periodic,
)
from leadbase.core.tasks import TASK_RESULTS_RETENTION, task_results_prune_task
from tests.core.tasks_for_tests import add, tick

HOUR = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 3, 14, 15, 9, 26, tzinfo=dt.UTC)
JOB = "tests.tick"


@pytest.fixture
def tick_job() -> Iterator[PeriodicJob]:
    job = register_periodic(JOB, tick, every=HOUR)
    yield job
    unregister_periodic(JOB)


def ticks_enqueued() -> int:
    return DBTaskResult.objects.filter(task_path=tick.module_path).count()


def test_periods_are_aligned_to_the_epoch() -> None:
    assert period_start(NOW, HOUR) == dt.datetime(2026, 3, 14, 15, tzinfo=dt.UTC)
    assert period_start(NOW, dt.timedelta(days=1)) == dt.datetime(2026, 3, 14, tzinfo=dt.UTC)
    seven = dt.timedelta(minutes=7)
    start = period_start(NOW, seven)
    assert start <= NOW < start + seven
    assert (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) % seven == dt.timedelta(0)


def test_period_start_is_the_same_in_other_time_zones() -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))
    assert period_start(NOW.astimezone(berlin), HOUR) == period_start(NOW, HOUR)


def test_registering_a_bad_job_is_refused() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        register_periodic("tests.never", tick, every=dt.timedelta(0))
    with pytest.raises(TypeError, match=r"django\.tasks Task"):
        register_periodic("tests.plain", print, every=HOUR)  # type: ignore[arg-type]  # a plain function is what is being refused
    assert "tests.never" not in {job.name for job in registered_jobs()}


def test_prune_job_is_registered_daily_when_the_app_loads() -> None:
    jobs = {job.name: job for job in registered_jobs()}
    assert jobs["core.task_results_prune"].task is task_results_prune_task
    assert jobs["core.task_results_prune"].every == dt.timedelta(days=1)


@pytest.mark.django_db
def test_due_job_is_enqueued_once_per_period_however_often_it_is_checked(
    tick_job: PeriodicJob,
) -> None:
    first = [run_due_periodic_jobs(NOW + dt.timedelta(minutes=m)) for m in range(0, 50, 10)]
    assert ticks_enqueued() == 1
    assert [JOB in names for names in first] == [True, False, False, False, False]
    run = PeriodicRun.objects.get(name=JOB)
    assert run.last_period_start == dt.datetime(2026, 3, 14, 15, tzinfo=dt.UTC)
    assert run.last_enqueued_at == NOW


@pytest.mark.django_db
def test_new_period_enqueues_the_job_again(tick_job: PeriodicJob) -> None:
    run_due_periodic_jobs(NOW)
    assert JOB in run_due_periodic_jobs(NOW + HOUR)
    run_due_periodic_jobs(NOW + HOUR + dt.timedelta(minutes=5))
    assert ticks_enqueued() == 2
    assert PeriodicRun.objects.get(name=JOB).last_period_start == period_start(NOW + HOUR, HOUR)


@pytest.mark.django_db
def test_a_clock_behind_does_not_enqueue_an_older_period_again(tick_job: PeriodicJob) -> None:
    run_due_periodic_jobs(NOW + HOUR)
    run_due_periodic_jobs(NOW)
    assert ticks_enqueued() == 1


@pytest.mark.django_db
def test_failed_enqueue_leaves_the_period_for_the_next_call(
    tick_job: PeriodicJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_enqueue(*args: object) -> None:
        raise RuntimeError("task table unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(DatabaseBackend, "enqueue", broken_enqueue)
        assert run_due_periodic_jobs(NOW) == []
    assert PeriodicRun.objects.get(name=JOB).last_period_start is None
    assert JOB in run_due_periodic_jobs(NOW)
    assert ticks_enqueued() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_enqueue_a_due_job_exactly_once(tick_job: PeriodicJob) -> None:
    # Threads (each with its own connection) race on PostgreSQL; SQLite serialises writers,
    # so there the same calls are made one after another from one thread.
    callers = 8 if connection.vendor == "postgresql" else 1
    rounds = 3 if connection.vendor == "postgresql" else 12
    barrier = threading.Barrier(callers)
    winners: list[str] = []
    lock = threading.Lock()

    def check(now: dt.datetime) -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(rounds):
                names = run_due_periodic_jobs(now)
                with lock:
                    winners.extend(name for name in names if name == JOB)
        finally:
            connections.close_all()

    for now in (NOW, NOW + dt.timedelta(minutes=1), NOW + HOUR):
        threads = [threading.Thread(target=check, args=(now,)) for _ in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)

    assert winners == [JOB, JOB]
    assert ticks_enqueued() == 2


@pytest.mark.django_db
def test_prune_task_deletes_only_finished_results_older_than_the_retention() -> None:
    now = timezone.now()
    old = now - TASK_RESULTS_RETENTION - dt.timedelta(days=1)
    recent = now - TASK_RESULTS_RETENTION + dt.timedelta(days=1)
    ids = {
        name: add.enqueue(1, 1).id
        for name in ("old_ok", "old_failed", "recent_ok", "old_ready", "old_running")
    }
    rows = DBTaskResult.objects
    rows.filter(id=ids["old_ok"]).update(status=TaskResultStatus.SUCCESSFUL, finished_at=old)
    rows.filter(id=ids["old_failed"]).update(status=TaskResultStatus.FAILED, finished_at=old)
    rows.filter(id=ids["recent_ok"]).update(status=TaskResultStatus.SUCCESSFUL, finished_at=recent)
    rows.filter(id=ids["old_running"]).update(status=TaskResultStatus.RUNNING, started_at=old)

    deleted = task_results_prune_task.call()

    assert deleted == 2
    left = {str(pk) for pk in rows.values_list("id", flat=True)}
    assert left == {ids["recent_ok"], ids["old_ready"], ids["old_running"]}
