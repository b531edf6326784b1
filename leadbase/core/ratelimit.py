"""Fixed-window rate limits kept in the database, so they hold across every web process and
machine without another server (no Redis, no memcached).

A limit is `Rate(limit, seconds)`: at most `limit` hits per key in each window of `seconds`,
windows aligned to the Unix epoch so every process agrees on them. `rate_hit` counts one hit
on several keys at once with ONE statement,

    INSERT INTO core_ratecounter (key, window_start, expires_at, count)
    VALUES (%s, %s, %s, 1), (%s, %s, %s, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = core_ratecounter.count + 1
    RETURNING key, count

which both SQLite (3.35+) and PostgreSQL run atomically: PostgreSQL locks the conflicting row
and re-reads it, so two processes never both read 9 and write 10; SQLite has one writer at a
time. Because the increment and the read of the new count are the same statement, there is no
window between "check" and "count" for a burst to slip through.

In autocommit the row lock lasts one statement and the hit counts whatever happens next. Inside
a transaction PostgreSQL keeps the counter row locked until the commit, so make it the last
statement; if the transaction then rolls back because the limit was exceeded, the count stays
at the limit. The pieces (`rate_windows`, `rate_upsert_sql`, `rate_hits`, `rate_refuse`) let a
caller count the hits inside its own write: a form submission counts them in the transaction
that stores it on SQLite, and in the one statement that stores it on PostgreSQL (see
capture.submission_store; there a refused post still counts, past the limit, which refuses
the same requests until the window ends all the same).

Why a fixed window: one row per key and window, one upsert per hit, and pruning is a plain
range delete. Its known weakness is a burst across a window boundary (up to twice the limit in
a short time); for throttling form spam that is acceptable, and a sliding log would cost a row
per hit. Rows of ended windows are deleted by the periodic job `core.rate_counters_prune`
(leadbase.core.tasks).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest

from leadbase.core.errors import ApplicationError
from leadbase.core.models import RateCounter

KEY_MAX_LENGTH = RateCounter._meta.get_field("key").max_length or 200


@dataclass(frozen=True, slots=True)
class Rate:
    limit: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.limit}/{self.seconds}"


def parse_rate(text: str, *, setting: str = "rate") -> Rate:
    """`"10/60"` (10 hits per 60 seconds) as a Rate; ImproperlyConfigured names the setting."""
    try:
        limit_text, seconds_text = text.split("/")
        rate = Rate(int(limit_text), int(seconds_text))
    except ValueError:
        rate = Rate(0, 0)
    if rate.limit < 1 or rate.seconds < 1:
        raise ImproperlyConfigured(
            f"{setting}={text!r}: write the limit as <hits>/<seconds>, e.g. 10/60, both positive."
        )
    return rate


class RateLimited(ApplicationError):
    """Too many hits: answer 429 with a Retry-After of `retry_after` seconds."""

    status = 429

    def __init__(self, message: str, *, retry_after: int, key: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.key = key


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    count: int
    rate: Rate
    window_end: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.rate.limit


@dataclass(frozen=True, slots=True)
class Window:
    """The counter row a hit goes to: `key`'s window [start, end) of `rate`."""

    key: str
    start: int
    end: int
    rate: Rate


def rate_windows(limits: Sequence[tuple[str, Rate]], *, now: float) -> list[Window]:
    """The current window of each limit; keys must be distinct and at most 200 characters."""
    windows: list[Window] = []
    for name, rate in limits:
        if len(name) > KEY_MAX_LENGTH:
            raise ValueError(f"rate limit key longer than {KEY_MAX_LENGTH} characters: {name!r}")
        begin = int(now // rate.seconds) * rate.seconds
        windows.append(Window(name, begin, begin + rate.seconds, rate))
    if len({window.key for window in windows}) != len(windows):
        raise ValueError("rate_hit needs distinct keys")
    return windows


def rate_upsert_sql(count: int, *, casts: bool = False) -> str:
    """The statement counting one hit on `count` windows (parameters: key, window start and
    end of each, from `rate_upsert_params`), returning each key with its new count. `casts`
    types the parameters, for server-side binding or use inside a larger statement."""
    q = connection.ops.quote_name
    table = q(RateCounter._meta.db_table)
    key, start, expires, hits = (q(c) for c in ("key", "window_start", "expires_at", "count"))
    row = "(%s::varchar, %s::bigint, %s::bigint, 1)" if casts else "(%s, %s, %s, 1)"
    values = ", ".join([row] * count)
    return (  # names come from the model; every value is a parameter
        f"INSERT INTO {table} ({key}, {start}, {expires}, {hits}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({key}, {start}) DO UPDATE SET {hits} = {table}.{hits} + 1 "
        f"RETURNING {key}, {hits}"
    )


def rate_upsert_params(windows: Sequence[Window]) -> list[str | int]:
    return [value for window in windows for value in (window.key, window.start, window.end)]


def rate_hits(windows: Sequence[Window], counts: dict[str, int]) -> list[Hit]:
    """The Hits of `windows`, given the counts the upsert returned (key -> count)."""
    return [Hit(w.key, counts[w.key], w.rate, w.end) for w in windows]


def rate_hit(limits: Sequence[tuple[str, Rate]], *, now: float | None = None) -> list[Hit]:
    """Count one hit on each key (in one statement) and return the counts, in input order.

    Keys must be distinct and at most 200 characters."""
    if not limits:
        return []
    now = time.time() if now is None else now
    windows = rate_windows(limits, now=now)
    with connection.cursor() as cursor:
        cursor.execute(rate_upsert_sql(len(windows)), rate_upsert_params(windows))
        counts = {str(name): int(hits) for name, hits in cursor.fetchall()}
    return rate_hits(windows, counts)


def rate_check(
    limits: Sequence[tuple[str, Rate]], *, message: str, now: float | None = None
) -> None:
    """Count a hit on every key; raise RateLimited when any of them is over its limit, with the
    seconds until the latest of the exceeded windows ends."""
    now = time.time() if now is None else now
    rate_refuse(rate_hit(limits, now=now), message=message, now=now)


def rate_refuse(hits: Sequence[Hit], *, message: str, now: float) -> None:
    """Raise RateLimited when one of the counted `hits` is over its limit."""
    exceeded = [hit for hit in hits if hit.exceeded]
    if exceeded:
        worst = max(exceeded, key=lambda hit: hit.window_end)
        retry_after = max(1, math.ceil(worst.window_end - now))
        raise RateLimited(
            f"{message} Try again in {retry_after} second{'s' if retry_after != 1 else ''}.",
            retry_after=retry_after,
            key=worst.key,
        )


def rate_counters_prune(*, now: float | None = None) -> int:
    """Delete the counters of windows that have ended; returns how many rows went."""
    now = time.time() if now is None else now
    deleted, _ = RateCounter.objects.filter(expires_at__lte=int(now)).delete()
    return deleted


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address: REMOTE_ADDR, or with LEADBASE_PROXY_COUNT = n > 0 trusted
    reverse proxies in front, the address the n-th proxy from the right put in X-Forwarded-For
    (entries further left are set by the client and cannot be trusted). None when unreadable."""
    hops = int(getattr(settings, "LEADBASE_PROXY_COUNT", 0))
    candidate = request.META.get("REMOTE_ADDR", "")
    if hops > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    return _normal_ip(candidate)


@lru_cache(maxsize=4096)
def _normal_ip(candidate: str) -> str | None:
    """The address in its normal form (parsing one costs more than the rest of client_ip)."""
    try:
        return str(ipaddress.ip_address(candidate.strip()))
    except ValueError:
        return None
