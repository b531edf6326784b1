"""Django's PostgreSQL backend, with the connection health check (CONN_HEALTH_CHECKS) made
at most once a second per connection instead of before every request's first query.

Django checks a persistent connection with a `SELECT 1` round trip at the start of each
request that uses it, so that a connection the server dropped while it sat idle (restart,
idle timeout, network) is replaced instead of failing the request. Under load that round
trip is one more query per request (the API's read of a lead runs one other). A check only
says the connection worked when it ran; skipping it within HEALTH_CHECK_INTERVAL of the
last one that passed (or of connecting) moves that moment back by at most a second, on a
connection that was busy then: an idle connection, the case the check exists for, is
still checked before it is used. If a connection fails anyway, the request that finds it
gets a database error and Django closes the connection at the end of that request, as it
does with checks every time.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

HEALTH_CHECK_INTERVAL = 1.0  # seconds
_clock = time.monotonic  # (tests move it forward)


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_enabled: bool  # (set by Django, unknown to django-stubs)
    health_check_done: bool
    _healthy_at = float("-inf")  # _clock() of connecting or of the last check passed

    def connect(self) -> None:
        super().connect()
        self._healthy_at = _clock()

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and not self.health_check_done
            and _clock() - self._healthy_at < HEALTH_CHECK_INTERVAL
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
        if self.connection is not None and self.health_check_enabled and self.health_check_done:
            self._healthy_at = _clock()
