from __future__ import annotations

from django.db import models

JOB_NAME_MAX_LENGTH = 100


class TimeStampedModel(models.Model):
    """Every table has created_at/updated_at, set from timezone.now()."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkerHeartbeat(TimeStampedModel):
    """One row per live task worker, refreshed every LEADBASE_WORKER_HEARTBEAT_SECONDS.

    A RUNNING task whose worker has no row newer than LEADBASE_WORKER_LEASE_SECONDS is taken
    back (see leadbase.core.worker). A worker deletes its row when it shuts down cleanly.
    """

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["worker_id"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class PeriodicRun(TimeStampedModel):
    """Which period a periodic job was last enqueued for (see leadbase.core.scheduler).

    Workers claim a period with a conditional UPDATE on `last_period_start`, so a job is
    enqueued once per period however many workers look at it.
    """

    name = models.CharField(max_length=JOB_NAME_MAX_LENGTH, unique=True)
    last_period_start = models.DateTimeField(null=True, blank=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RateCounter(models.Model):
    """How many hits `key` (e.g. `forms:ip:203.0.113.9`) had in the fixed window that starts at
    `window_start` (Unix seconds). Written by one atomic upsert in leadbase.core.ratelimit, so
    limits hold across any number of web processes; rows of past windows are pruned by a
    periodic job (`expires_at`, Unix seconds, is when the window ends)."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    expires_at = models.BigIntegerField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["key", "window_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window_start"], name="ratecounter_key_window_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.count}"
