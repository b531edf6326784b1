"""The in-process worker: runs tasks, heartbeats, lease reclaim and max attempts."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.tasks import TaskResult, TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from leadbase.core.models import WorkerHeartbeat
from leadbase.core.worker import (
    WORKER_LOST_PATH,
    LeadbaseWorker,
    WorkerLost,
    reclaim_stale_tasks,
    start_worker_thread,
)
from tests.core.helpers import wait_until
from tests.core.tasks_for_tests import add, mark_run, markers

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = dt.timedelta(seconds=60)


def simulate_claims(task_id: str, worker_ids: list[str], *, heartbeat_age: dt.timedelta) -> None:
    """Make the task RUNNING as if each worker in turn claimed it and its last one then died,
    its last heartbeat (and the claim) `heartbeat_age` ago."""
    seen = timezone.now() - heartbeat_age
    for worker_id in worker_ids:
        DBTaskResult.objects.get(id=task_id).claim(worker_id)
    DBTaskResult.objects.filter(id=task_id).update(started_at=seen)
    WorkerHeartbeat.objects.create(
        worker_id=worker_ids[-1], hostname="gone", pid=1, started_at=seen, last_seen_at=seen
    )


def status_of(result: TaskResult[Any, Any]) -> TaskResultStatus:
    """The stored status (a function, so mypy does not keep an earlier narrowed value)."""
    result.refresh()
    return result.status


def run_batch_worker(**kwargs: Any) -> LeadbaseWorker:
    """Run every ready task in this thread, then return the (stopped) worker."""
    worker = LeadbaseWorker(queue_names=["*"], interval=0, batch=True, **kwargs)
    worker.run()
    return worker


def test_enqueued_task_is_run_by_worker_thread_and_succeeds() -> None:
    result = add.enqueue(2, 3)
    stop = threading.Event()
    thread = start_worker_thread(stop, interval=0.05)
    try:

        def finished() -> bool:
            result.refresh()
            return result.is_finished

        wait_until(finished, timeout=30, what="the worker thread to run the task")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert not thread.is_alive()


def test_worker_thread_deletes_its_heartbeat_when_stopped(settings: Settings) -> None:
    settings.LEADBASE_WORKER_HEARTBEAT_SECONDS = 0.05
    stop = threading.Event()
    thread = start_worker_thread(stop, interval=0.05)
    try:
        wait_until(WorkerHeartbeat.objects.exists, timeout=30, what="the first heartbeat")
        beat = WorkerHeartbeat.objects.get()
        wait_until(
            lambda: WorkerHeartbeat.objects.get().last_seen_at > beat.last_seen_at,
            timeout=30,
            what="a later heartbeat",
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    assert "-thread-" in beat.worker_id
    assert not WorkerHeartbeat.objects.exists()


def test_batch_worker_runs_each_ready_task_once(tmp_path: Path) -> None:
    results = [mark_run.enqueue(str(tmp_path), f"t{i}") for i in range(5)]
    worker = run_batch_worker()
    for result in results:
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.worker_ids == [worker.worker_id]
    assert [len(markers(tmp_path, f"t{i}")) for i in range(5)] == [1] * 5


def test_task_of_dead_worker_goes_back_to_ready_and_is_then_run(tmp_path: Path) -> None:
    result = mark_run.enqueue(str(tmp_path), "orphan")
    simulate_claims(result.id, ["dead-worker"], heartbeat_age=2 * LEASE)

    outcome = reclaim_stale_tasks(lease=LEASE, max_attempts=3)

    assert outcome.requeued == [result.id]
    assert status_of(result) == TaskResultStatus.READY
    worker = run_batch_worker()
    assert status_of(result) == TaskResultStatus.SUCCESSFUL
    assert result.worker_ids == ["dead-worker", worker.worker_id]
    assert len(markers(tmp_path, "orphan")) == 1


def test_worker_loop_reclaims_a_task_whose_worker_never_sent_a_heartbeat(
    settings: Settings, tmp_path: Path
) -> None:
    settings.LEADBASE_WORKER_LEASE_SECONDS = LEASE.total_seconds()
    result = mark_run.enqueue(str(tmp_path), "unowned")
    DBTaskResult.objects.get(id=result.id).claim("worker-without-heartbeat")
    DBTaskResult.objects.filter(id=result.id).update(started_at=timezone.now() - 2 * LEASE)

    run_batch_worker()

    assert status_of(result) == TaskResultStatus.SUCCESSFUL
    assert result.attempts == 2
    assert len(markers(tmp_path, "unowned")) == 1


def test_task_of_live_worker_is_left_running(tmp_path: Path) -> None:
    result = mark_run.enqueue(str(tmp_path), "busy")
    simulate_claims(result.id, ["busy-worker"], heartbeat_age=2 * LEASE)
    WorkerHeartbeat.objects.filter(worker_id="busy-worker").update(last_seen_at=timezone.now())

    outcome = reclaim_stale_tasks(lease=LEASE, max_attempts=3)

    assert outcome.requeued == outcome.failed == []
    assert status_of(result) == TaskResultStatus.RUNNING


def test_task_started_within_the_lease_is_not_reclaimed_before_a_first_heartbeat() -> None:
    result = add.enqueue(1, 1)
    DBTaskResult.objects.get(id=result.id).claim("worker-starting-up")

    outcome = reclaim_stale_tasks(lease=LEASE, max_attempts=3)

    assert outcome.requeued == []
    assert status_of(result) == TaskResultStatus.RUNNING


def test_task_is_failed_with_a_message_after_max_attempts(tmp_path: Path) -> None:
    result = mark_run.enqueue(str(tmp_path), "cursed")
    simulate_claims(result.id, ["w1", "w2", "w3"], heartbeat_age=2 * LEASE)

    outcome = reclaim_stale_tasks(lease=LEASE, max_attempts=3)
    run_batch_worker()

    assert outcome.failed == [result.id]
    assert status_of(result) == TaskResultStatus.FAILED
    assert result.finished_at is not None
    [error] = result.errors
    assert error.exception_class_path == WORKER_LOST_PATH
    assert error.exception_class is WorkerLost
    assert "'w3' stopped sending heartbeats" in error.traceback
    assert "attempt 3 of 3" in error.traceback
    assert markers(tmp_path, "cursed") == []


def test_concurrent_reclaimers_requeue_a_task_only_once() -> None:
    result = add.enqueue(1, 2)
    simulate_claims(result.id, ["dead-worker"], heartbeat_age=2 * LEASE)
    callers = 6 if connection.vendor == "postgresql" else 1
    rounds = 1 if connection.vendor == "postgresql" else 6
    barrier = threading.Barrier(callers)
    requeued: list[str] = []
    lock = threading.Lock()

    def reclaim() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(rounds):
                ids = reclaim_stale_tasks(lease=LEASE, max_attempts=3).requeued
                with lock:
                    requeued.extend(ids)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reclaim) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert requeued == [result.id]
    assert status_of(result) == TaskResultStatus.READY
