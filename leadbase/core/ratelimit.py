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
a transaction (a form submission counts its hit in the transaction that stores it, saving a
commit), PostgreSQL keeps the counter row locked until the commit, so make it the last
statement; if the transaction then rolls back because the limit was exceeded, the count stays
at the limit instead of growing past it, which refuses the same requests until the window
ends.

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


def rate_hit(limits: Sequence[tuple[str, Rate]], *, now: float | None = None) -> list[Hit]:
    """Count one hit on each key (in one statement) and return the counts, in input order.

    Keys must be distinct and at most 200 characters."""
    if not limits:
        return []
    now = time.time() if now is None else now
    rows: list[tuple[str, int, int, Rate]] = []
    for name, rate in limits:
        if len(name) > KEY_MAX_LENGTH:
            raise ValueError(f"rate limit key longer than {KEY_MAX_LENGTH} characters: {name!r}")
        begin = int(now // rate.seconds) * rate.seconds
        rows.append((name, begin, begin + rate.seconds, rate))
    if len({row[0] for row in rows}) != len(rows):
        raise ValueError("rate_hit needs distinct keys")
    q = connection.ops.quote_name
    table = q(RateCounter._meta.db_table)
    key, start, expires, count = (q(c) for c in ("key", "window_start", "expires_at", "count"))
    values = ", ".join(["(%s, %s, %s, 1)"] * len(rows))
    sql = (  # names come from the model; every value is a parameter
        f"INSERT INTO {table} ({key}, {start}, {expires}, {count}) VALUES {values} "  # noqa: S608
        f"ON CONFLICT ({key}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {key}, {count}"
    )
    params = [value for row in rows for value in row[:3]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = {str(name): int(hits) for name, hits in cursor.fetchall()}
    return [Hit(name, counts[name], rate, end) for name, _, end, rate in rows]


def rate_check(
    limits: Sequence[tuple[str, Rate]], *, message: str, now: float | None = None
) -> None:
    """Count a hit on every key; raise RateLimited when any of them is over its limit, with the
    seconds until the latest of the exceeded windows ends."""
    now = time.time() if now is None else now
    exceeded = [hit for hit in rate_hit(limits, now=now) if hit.exceeded]
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
    try:
        return str(ipaddress.ip_address(candidate.strip()))
    except ValueError:
        return None
