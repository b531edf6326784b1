"""Tasks the worker tests enqueue. Module-level so workers (threads or processes) import them.

Side effects are marker files `<key>.<phase>.<worker pid>.<random>` in a directory the test
owns, so a test can count how often each task ran and in which process.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from django.tasks import TaskContext, task


def write_marker(marker_dir: str, key: str, phase: str) -> None:
    Path(marker_dir, f"{key}.{phase}.{os.getpid()}.{uuid.uuid4().hex}").touch()


def markers(marker_dir: str | Path, key: str, phase: str = "done") -> list[Path]:
    return sorted(Path(marker_dir).glob(f"{key}.{phase}.*"))


def marker_pid(marker: Path) -> int:
    return int(marker.name.split(".")[2])


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def mark_run(marker_dir: str, key: str) -> str:
    write_marker(marker_dir, key, "done")
    return key


@task()
def tick() -> None:
    """Enqueued by the periodic-job tests."""


@task(takes_context=True)
def sleep_on_first_attempt(
    context: TaskContext[Any, Any], marker_dir: str, key: str, seconds: float
) -> int:
    """Marks its start, sleeps `seconds` on the first attempt only (long enough for a test to
    kill the worker), then marks that it finished. Returns the attempt that finished."""
    write_marker(marker_dir, key, "start")
    if context.attempt == 1:
        time.sleep(seconds)
    write_marker(marker_dir, key, "done")
    return context.attempt
