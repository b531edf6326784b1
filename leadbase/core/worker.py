"""The task worker: django_tasks_db's Worker plus heartbeats, lease reclaim and periodic jobs.

Each worker keeps a WorkerHeartbeat row fresh from a daemon thread. Between tasks the worker
loop also does maintenance (at most every few seconds):

* reclaim: a RUNNING task whose worker (its last `worker_ids` entry) has no heartbeat newer
  than LEADBASE_WORKER_LEASE_SECONDS is put back to READY, or FAILED with a WorkerLost error
  once it has been claimed LEADBASE_TASK_MAX_ATTEMPTS times. The UPDATE is conditional on the
  status and `started_at` it read, so of two workers reclaiming at once only one acts.
* periodic jobs: `leadbase.core.scheduler.run_due_periodic_jobs`.

`run_worker()` runs in the foreground with signal handling (`leadbase worker`);
`start_worker_thread()` runs the same loop in a daemon thread (`leadbase demo`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
)
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task_backends
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from leadbase.core.models import WorkerHeartbeat
from leadbase.core.scheduler import run_due_periodic_jobs

logger = logging.getLogger(__name__)

MAINTENANCE_MAX_SECONDS = 5.0  # reclaim + periodic jobs run at most this far apart per worker
HEARTBEAT_RETENTION = dt.timedelta(days=1)  # rows of vanished workers are deleted after this
DB_ERROR_BACKOFF_SECONDS = 2.0
WORKER_ID_MAX_LENGTH = 64


class WorkerLost(Exception):
    """Recorded on a task given up after its worker vanished LEADBASE_TASK_MAX_ATTEMPTS times."""


WORKER_LOST_PATH = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"


def default_worker_id(kind: str = "worker") -> str:
    """`host-pid-kind-random`, unique across machines and restarts, at most 64 characters."""
    suffix = f"-{os.getpid()}-{kind}-{get_random_string(8)}"
    return socket.gethostname()[: WORKER_ID_MAX_LENGTH - len(suffix)] + suffix


def database_backend(backend_name: str = DEFAULT_TASK_BACKEND_ALIAS) -> DatabaseBackend:
    backend = task_backends[backend_name]
    if not isinstance(backend, DatabaseBackend):
        raise ImproperlyConfigured(
            f"The task backend {backend_name!r} is {type(backend).__name__}, not "
            "django_tasks_db.DatabaseBackend: there is nothing for a worker to run."
        )
    return backend


def configured_queue_names(backend_name: str = DEFAULT_TASK_BACKEND_ALIAS) -> list[str]:
    """The backend's QUEUES, or every queue ("*") when it does not restrict them."""
    return sorted(database_backend(backend_name).queues) or ["*"]


@dataclass(frozen=True, slots=True)
class ReclaimResult:
    requeued: list[str]
    failed: list[str]


def reclaim_stale_tasks(
    *,
    lease: dt.timedelta,
    max_attempts: int,
    backend_name: str | None = None,
    now: dt.datetime | None = None,
) -> ReclaimResult:
    """Give back RUNNING tasks whose worker stopped sending heartbeats (see module docstring)."""
    if now is None:
        now = timezone.now()
    cutoff = now - lease
    running = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
    if backend_name is not None:
        running = running.filter(backend_name=backend_name)
    candidates: list[tuple[uuid.UUID, list[str], dt.datetime | None]] = list(
        running.values_list("id", "worker_ids", "started_at")
    )
    result = ReclaimResult(requeued=[], failed=[])
    last_workers = {worker_ids[-1] for _, worker_ids, _ in candidates if worker_ids}
    alive = set(
        WorkerHeartbeat.objects.filter(
            worker_id__in=last_workers, last_seen_at__gte=cutoff
        ).values_list("worker_id", flat=True)
    )
    for task_id, worker_ids, started_at in candidates:
        last_worker = worker_ids[-1] if worker_ids else None
        if last_worker in alive:
            continue
        # `started_at` changes on every claim: it fences this UPDATE against another worker
        # reclaiming (or claiming again) the same task since we read it.
        same_claim = DBTaskResult.objects.filter(
            id=task_id, status=TaskResultStatus.RUNNING, started_at=started_at
        )
        attempts = len(worker_ids)
        lost = (
            f"worker {last_worker!r} stopped sending heartbeats while running this task "
            f"(attempt {attempts} of {max_attempts})"
        )
        if attempts < max_attempts:
            if same_claim.update(status=TaskResultStatus.READY):
                result.requeued.append(str(task_id))
                logger.warning("Task %s put back in the queue: %s", task_id, lost)
            continue
        message = f"WorkerLost: {lost}; the task was not retried."
        if same_claim.update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            return_value=None,
            exception_class_path=WORKER_LOST_PATH,
            traceback=message,
        ):
            result.failed.append(str(task_id))
            logger.error("Task %s failed: %s", task_id, message)
    return result


class Heartbeat:
    """Keeps this worker's WorkerHeartbeat row fresh from a daemon thread with its own
    database connection (Django connections are per thread)."""

    def __init__(self, worker_id: str, every: float) -> None:
        if every <= 0:
            raise ImproperlyConfigured("LEADBASE_WORKER_HEARTBEAT_SECONDS must be positive.")
        self.worker_id = worker_id
        self.every = every
        self.started_at = timezone.now()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        now = timezone.now()
        mine = WorkerHeartbeat.objects.filter(worker_id=self.worker_id)
        if mine.update(last_seen_at=now, updated_at=now):
            return
        try:
            WorkerHeartbeat.objects.create(
                worker_id=self.worker_id,
                hostname=socket.gethostname()[:255],
                pid=os.getpid(),
                started_at=self.started_at,
                last_seen_at=now,
            )
        except IntegrityError:  # created by our own earlier, slow beat: just refresh it
            mine.update(last_seen_at=now, updated_at=now)

    def start(self) -> None:
        """First beat from the caller's thread (before any claim), then from a daemon thread."""
        self.beat()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{self.worker_id}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    self.beat()
                except Exception:
                    logger.exception("Heartbeat of worker %s failed; retrying", self.worker_id)
                    connections.close_all()  # drop a broken connection; reconnect next beat
        finally:
            connections.close_all()

    def stop(self) -> None:
        """Stop the thread, then delete the row (from the caller's thread)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.every + 10)
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except (OperationalError, InterfaceError):
            logger.warning("Could not delete the heartbeat of worker %s", self.worker_id)


class LeadbaseWorker(Worker):
    """django_tasks_db's Worker with heartbeats, lease reclaim and periodic jobs.

    The loop stops when `stop_event` is set (thread variant) or after SIGINT/SIGTERM once the
    current task has finished (foreground, see `configure_signals`).
    """

    def __init__(
        self,
        *,
        queue_names: Sequence[str],
        interval: float = 1.0,
        backend_name: str = DEFAULT_TASK_BACKEND_ALIAS,
        max_tasks: int | None = None,
        worker_id: str | None = None,
        batch: bool = False,
        stop_event: threading.Event | None = None,
    ) -> None:
        database_backend(backend_name)
        worker_id = worker_id or default_worker_id()
        if len(worker_id) > WORKER_ID_MAX_LENGTH:
            raise ValueError(f"Worker ids must be at most {WORKER_ID_MAX_LENGTH} characters.")
        super().__init__(
            queue_names=list(queue_names),
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        self.stop_event = stop_event or threading.Event()
        heartbeat_seconds = float(settings.LEADBASE_WORKER_HEARTBEAT_SECONDS)
        self.lease = dt.timedelta(seconds=float(settings.LEADBASE_WORKER_LEASE_SECONDS))
        self.max_attempts = int(settings.LEADBASE_TASK_MAX_ATTEMPTS)
        self.maintenance_seconds = min(MAINTENANCE_MAX_SECONDS, heartbeat_seconds)
        self.heartbeat = Heartbeat(worker_id, heartbeat_seconds)
        self._next_maintenance = 0.0

    @property
    def tasks_run(self) -> int:  # django_tasks_db counts them in a private attribute
        return int(self._run_tasks)

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        """First signal: finish the current task, then stop. Second: abort the task (it is
        recorded as failed) and exit, as django_tasks_db does."""
        if not self.running:
            logger.warning("Received %s again: terminating now.", signal.strsignal(signum))
            self.reset_signals()
            sys.exit(1)
        logger.warning(
            "Received %s: stopping after the current task (send it again to force).",
            signal.strsignal(signum),
        )
        # Only a flag (an Event set from a handler can deadlock); the loop sleeps in slices.
        self.running = False

    def should_run(self) -> bool:
        return bool(self.running) and not self.stop_event.is_set()

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.should_run():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self.stop_event.wait(min(remaining, 0.25))

    def maintain(self) -> None:
        """Reclaim stale tasks and enqueue due periodic jobs, at most every few seconds."""
        if time.monotonic() < self._next_maintenance:
            return
        self._next_maintenance = time.monotonic() + self.maintenance_seconds
        reclaim_stale_tasks(
            lease=self.lease, max_attempts=self.max_attempts, backend_name=self.backend_name
        )
        run_due_periodic_jobs()
        WorkerHeartbeat.objects.filter(
            last_seen_at__lt=timezone.now() - max(HEARTBEAT_RETENTION, 2 * self.lease)
        ).delete()

    def claim_next(self) -> tuple[DBTaskResult[Any, Any] | None, bool]:
        """Claim the next READY task (SELECT ... FOR UPDATE SKIP LOCKED).

        Returns (the task or None, whether the queue could be read)."""
        ready = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            ready = ready.filter(queue_name__in=self.queue_names)
        try:
            with exclusive_transaction(ready.db):
                task_result = ready.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
        except OperationalError as e:
            if is_locked_database_exception(e):  # SQLite busy: try again next round
                return None, False
            raise
        return task_result, True

    def run(self) -> None:
        logger.info(
            "Worker %s started (queues: %s; heartbeat every %ss, lease %ss, max attempts %d)",
            self.worker_id,
            ",".join(self.queue_names),
            self.heartbeat.every,
            self.lease.total_seconds(),
            self.max_attempts,
        )
        self.heartbeat.start()
        try:
            while self.should_run():
                if self._iterate():
                    return
        finally:
            self.heartbeat.stop()
            logger.info("Worker %s stopped after %d tasks", self.worker_id, self.tasks_run)

    def _iterate(self) -> bool:
        """One round of the loop; True when the worker should exit."""
        close_old_connections()
        try:
            self.maintain()
            task_result, read_queue = self.claim_next()
        except (OperationalError, InterfaceError):
            logger.exception("Database error in worker %s; retrying", self.worker_id)
            connections.close_all()
            self.sleep(max(self.interval, DB_ERROR_BACKOFF_SECONDS))
            return False
        if task_result is not None:
            self.run_task(task_result)
        if self.batch and read_queue and task_result is None:
            logger.info("No more tasks for worker %s: exiting.", self.worker_id)
            return True
        if self.max_tasks is not None and self.tasks_run >= self.max_tasks:
            logger.info("Worker %s ran its maximum of %d tasks.", self.worker_id, self.max_tasks)
            return True
        close_old_connections()
        if task_result is None:
            self.sleep(self.interval)
        return False


def run_worker(
    *,
    queue_names: Sequence[str] | None = None,
    interval: float = 1.0,
    max_tasks: int | None = None,
    worker_id: str | None = None,
    backend_name: str = DEFAULT_TASK_BACKEND_ALIAS,
) -> int:
    """Run a worker in the foreground (main thread) until SIGINT/SIGTERM or `max_tasks`.

    Returns the number of tasks it ran."""
    worker = LeadbaseWorker(
        queue_names=queue_names or configured_queue_names(backend_name),
        interval=interval,
        backend_name=backend_name,
        max_tasks=max_tasks,
        worker_id=worker_id,
    )
    worker.configure_signals()
    try:
        worker.run()
    finally:
        worker.reset_signals()
        connections.close_all()
    return worker.tasks_run


def start_worker_thread(stop_event: threading.Event, *, interval: float = 1.0) -> threading.Thread:
    """Run a worker for every configured queue in a daemon thread of this process.

    Set `stop_event` to stop it after its current task, then join the thread. Installs no
    signal handlers (only the main thread may)."""
    worker = LeadbaseWorker(
        queue_names=configured_queue_names(),
        interval=interval,
        worker_id=default_worker_id("thread"),
        stop_event=stop_event,
    )

    def target() -> None:
        try:
            worker.run()
        except Exception:
            logger.exception("In-process task worker %s crashed", worker.worker_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name=f"leadbase-worker-{worker.worker_id}")
    thread.daemon = True
    thread.start()
    return thread
