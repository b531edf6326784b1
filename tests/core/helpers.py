"""Helpers shared by the task-runtime tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import OperationalError


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test with `what` after `timeout` seconds.

    On SQLite the test database is in memory with a shared cache, where a read that meets
    another thread's write fails at once with "table is locked" instead of waiting (a file
    database in WAL mode, as Leadbase runs, lets readers through): such a poll counts as "not
    yet" and is retried."""
    deadline = time.monotonic() + timeout
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _holds(condition: Callable[[], bool]) -> bool:
    try:
        return condition()
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
