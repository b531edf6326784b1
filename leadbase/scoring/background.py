"""Scoring changed leads off the request path: a small scorer thread per process.

The leads-changed hook (leads.hooks) runs right after a commit, inside the request that made
the change. Scoring there would add a few milliseconds to every event the API or the beacon
takes in; instead the lead ids go into this process's pending set and a daemon thread scores
them, collecting for `DEBOUNCE_SECONDS` first so that a burst of events scores each lead once.
A lead's score then follows its events within a fraction of a second.

The pending set lives in memory: if the process stops before the thread has run, those leads
are scored by the periodic job `scoring.unscored_sweep` (leads never scored, or whose latest
activity is newer than their score), within a minute.

`LEADBASE_SCORING_ON_CHANGE` chooses: `background` (this; the default), `inline` (score in the
hook itself, after the commit: what the tests use, so that a test sees the score at once), or
`task` (enqueue a background task per change).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.05

Rescore = Callable[[list[int], bool], object]


class BackgroundScorer:
    """Collects lead ids and scores them on its own thread (started on first use)."""

    def __init__(self, rescore: Rescore, *, debounce: float = DEBOUNCE_SECONDS) -> None:
        self._rescore = rescore
        self._debounce = debounce
        self._pending: dict[int, bool] = {}  # lead id -> needs a rebuild
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None

    def submit(self, lead_ids: Iterable[int], rebuild: bool) -> None:
        with self._lock:
            for lead_id in lead_ids:
                self._pending[lead_id] = self._pending.get(lead_id, False) or rebuild
            self._idle.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="leadbase-scorer", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything submitted so far has been scored (for tests and shutdown)."""
        return self._idle.wait(timeout)

    def _take(self) -> dict[int, bool]:
        with self._lock:
            batch, self._pending = self._pending, {}
            return batch

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self._debounce)  # let a burst gather
            batch = self._take()
            if batch:
                self._run(batch)
            with self._lock:
                if not self._pending:
                    self._idle.set()

    def _run(self, batch: dict[int, bool]) -> None:
        close_old_connections()
        for rebuild in (False, True):
            ids = sorted(pk for pk, flag in batch.items() if flag is rebuild)
            if not ids:
                continue
            try:
                self._rescore(ids, rebuild)
            except Exception:
                logger.exception("Scoring %d changed leads failed; the sweep will retry", len(ids))
                connection.close()
