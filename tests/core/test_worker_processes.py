"""Real `leadbase worker` processes against PostgreSQL: no task runs twice, none is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import quote

import pytest
from django.db import connection
from django.tasks import TaskResultStatus

from leadbase.core.models import WorkerHeartbeat
from tests.core.helpers import wait_until
from tests.core.tasks_for_tests import mark_run, marker_pid, markers, sleep_on_first_attempt

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: worker processes share the database with the test "
        "(SQLite's test database lives in this process's memory)",
    ),
    pytest.mark.django_db(transaction=True),
]

PROJECT_DIR = Path(__file__).resolve().parents[2]
HEARTBEAT_SECONDS = "0.2"
LEASE_SECONDS = "2"


def url_of_test_database() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


class Workers:
    """`leadbase worker` subprocesses on the test database, each logging to its own file."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, IO[bytes]] = {}
        self.env = {
            **os.environ,
            "DATABASE_URL": url_of_test_database(),
            "LEADBASE_ENV": "test",
            "LEADBASE_DATA_DIR": str(tmp_path / "data"),
            "SECRET_KEY": "worker-test-secret-key",
            "LEADBASE_WORKER_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS,
            "LEADBASE_WORKER_LEASE_SECONDS": LEASE_SECONDS,
            "LEADBASE_TASK_MAX_ATTEMPTS": "3",
            "PYTHONPATH": str(PROJECT_DIR),
        }

    def start(self, worker_id: str) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"{worker_id}.log").open("wb")
        self.logs[worker_id] = log
        command = [sys.executable, "-m", "leadbase.cli", "worker", "--interval", "0.1"]
        process = subprocess.Popen(
            [*command, "--worker-id", worker_id],
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[worker_id] = process
        return process

    def output(self) -> str:
        return "\n".join(
            f"--- {worker_id} ---\n{(self.tmp_path / f'{worker_id}.log').read_text()}"
            for worker_id in self.processes
        )

    def kill_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
        for log in self.logs.values():
            log.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


def test_two_worker_processes_run_each_task_exactly_once(workers: Workers, tmp_path: Path) -> None:
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    results = [mark_run.enqueue(str(marker_dir), f"task{i}") for i in range(40)]
    workers.start("worker-a")
    workers.start("worker-b")

    def all_finished() -> bool:
        for result in results:
            result.refresh()
        return all(result.is_finished for result in results)

    wait_until(all_finished, timeout=120, what=f"40 tasks to finish\n{workers.output()}")

    assert {result.status for result in results} == {TaskResultStatus.SUCCESSFUL}
    assert [len(markers(marker_dir, f"task{i}")) for i in range(40)] == [1] * 40
    assert all(len(result.worker_ids) == 1 for result in results)
    assert {result.worker_ids[0] for result in results} <= {"worker-a", "worker-b"}


def test_worker_process_deletes_its_heartbeat_on_sigterm(workers: Workers) -> None:
    process = workers.start("worker-term")
    wait_until(
        WorkerHeartbeat.objects.filter(worker_id="worker-term").exists,
        timeout=60,
        what=f"the worker's heartbeat\n{workers.output()}",
    )

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=60) == 0, workers.output()
    assert not WorkerHeartbeat.objects.filter(worker_id="worker-term").exists()


def test_task_of_a_killed_worker_is_rerun_by_another_worker(
    workers: Workers, tmp_path: Path
) -> None:
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    pids = {
        workers.start("worker-a").pid: "worker-a",
        workers.start("worker-b").pid: "worker-b",
    }
    result = sleep_on_first_attempt.enqueue(str(marker_dir), "long", 600)
    wait_until(
        lambda: bool(markers(marker_dir, "long", "start")),
        timeout=60,
        what=f"a worker to start the task\n{workers.output()}",
    )
    victim = pids[marker_pid(markers(marker_dir, "long", "start")[0])]
    survivor = next(worker_id for worker_id in pids.values() if worker_id != victim)

    workers.processes[victim].send_signal(signal.SIGKILL)
    workers.processes[victim].wait(timeout=30)

    def finished() -> bool:
        result.refresh()
        return result.is_finished

    wait_until(finished, timeout=120, what=f"the task to be rerun\n{workers.output()}")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.worker_ids == [victim, survivor]
    assert result.return_value == 2
    [done] = markers(marker_dir, "long", "done")
    assert pids[marker_pid(done)] == survivor
