"""Event ingestion over HTTP: POST /api/v1/events (one event per request, and batches of 100)
and the browser beacon POST /t/collect, against an empty POST endpoint of the same server
(POST /f/-/ping: middleware, routing, reading the body and a JSON answer, no database) with
bodies of the same size, in the same run, the endpoints taking turns in short slices.

The server is `leadbase serve` (granian, WSGI, 1 process x 4 threads) in a subprocess; the load
comes from client threads with keep-alive connections in this process, on loopback. Every event
has a new client event id (nothing is a duplicate); API events go to 1,000 existing leads,
beacon events to 1,000 visitors. The beacon's per-IP rate limit is raised out of the way (all
clients share 127.0.0.1) and still counted on every request. Each accepted event is committed
before its answer.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from bench.api import cpu_seconds, free_port, wait_ready
from bench.common import Report, latency_summary, serve_subprocess

ROUNDS = 5
BATCH = 100

Request = tuple[str, bytes, dict[str, str]]


def _event(lead_id: int, n: int) -> dict[str, Any]:
    return {
        "type": "page_view",
        "lead_id": lead_id,
        "event_id": f"bench-{os.getpid()}-{n}",
        "properties": {"url": f"https://www.example.com/blog/post-{n % 50}", "title": "Blog"},
    }


def _post(conn: http.client.HTTPConnection, request: Request) -> int:
    path, body, headers = request
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def _slice(
    port: int,
    make: Callable[[int], Request],
    counter: itertools.count[int],
    *,
    seconds: float,
    threads: int,
    ok: int,
) -> tuple[list[float], int]:
    samples: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop_at = time.monotonic() + seconds

    def client(t: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            request = make(next(counter))
            start = time.perf_counter()
            status = _post(conn, request)
            samples[t].append(time.perf_counter() - start)
            if status != ok:
                errors[t] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [s for per in samples for s in per], sum(errors)


def run(report: Report, *, seconds: float, threads: int) -> None:
    from leadbase.accounts.models import Role, User
    from leadbase.accounts.services import apikey_create
    from leadbase.leads.models import Lead

    user, _ = User.objects.get_or_create(username="bench-events", defaults={"role": Role.ADMIN})
    key = apikey_create(user=user, scopes="ingest").plain
    ids = list(Lead.objects.order_by("?").values_list("pk", flat=True)[:1000])
    if not ids:
        raise RuntimeError("no leads to send events for: load some first")
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    plain = {"Content-Type": "text/plain"}
    counter = itertools.count()

    def one(n: int) -> Request:
        return "/api/v1/events", json.dumps(_event(ids[n % len(ids)], n)).encode(), auth

    def batch(n: int) -> Request:
        events = [_event(ids[(n * BATCH + i) % len(ids)], n * BATCH + i) for i in range(BATCH)]
        return "/api/v1/events", json.dumps({"events": events}).encode(), auth

    def beacon(n: int) -> Request:
        event = _event(0, n)
        del event["lead_id"]
        body = {"visitor_id": f"bench-visitor-{n % 1000:05d}", "events": [event]}
        return "/t/collect", json.dumps(body).encode(), plain

    def empty_like(make: Callable[[int], Request]) -> Callable[[int], Request]:
        def request(n: int) -> Request:
            _, body, headers = make(n)
            return "/f/-/ping", body, headers

        return request

    phases: list[tuple[str, Callable[[int], Request], int, int]] = [
        ("POST /f/-/ping, one event's body (empty)", empty_like(one), 200, 1),
        ("POST /api/v1/events, one event", one, 200, 1),
        (f"POST /f/-/ping, {BATCH} events' body (empty)", empty_like(batch), 200, BATCH),
        (f"POST /api/v1/events, batch of {BATCH}", batch, 200, BATCH),
        ("POST /t/collect, one page view (beacon)", beacon, 202, 1),
    ]
    port = free_port()
    env = {
        **os.environ,
        "LEADBASE_LOG_LEVEL": "WARNING",
        "LEADBASE_TRACKING_RATE_PER_IP": "100000000/60",
        # as in production: events scored by the process's scorer thread, off the request
        "LEADBASE_SCORING_ON_CHANGE": "background",
    }
    server = serve_subprocess(port, workers=1, env=env)
    totals: dict[str, dict[str, Any]] = {
        name: {"samples": [], "errors": 0, "elapsed": 0.0, "cpu": 0.0} for name, *_ in phases
    }
    try:
        wait_ready(port)
        for _, make, ok, _ in phases:  # warm up every path
            _slice(port, make, counter, seconds=0.5, threads=threads, ok=ok)
        for _ in range(ROUNDS):
            for name, make, ok, _ in phases:
                cpu_before = cpu_seconds(server.pid) or 0.0
                started = time.perf_counter()
                samples, errors = _slice(
                    port, make, counter, seconds=seconds / ROUNDS, threads=threads, ok=ok
                )
                totals[name]["elapsed"] += time.perf_counter() - started
                totals[name]["cpu"] += (cpu_seconds(server.pid) or 0.0) - cpu_before
                totals[name]["samples"] += samples
                totals[name]["errors"] += errors
    finally:
        server.terminate()
        server.wait(timeout=15)

    rates: dict[str, float] = {}
    for name, _, _, events_per_request in phases:
        data = totals[name]
        requests = len(data["samples"])
        rate = requests / max(data["elapsed"], 1e-9)
        rates[name] = rate
        baseline = phases[0][0] if events_per_request == 1 else phases[2][0]
        report.add(
            endpoint=name,
            requests_per_s=round(rate),
            events_per_s=round(rate * events_per_request),
            errors=data["errors"],
            server_cpu_ms=round(data["cpu"] * 1000 / max(requests, 1), 3),
            **latency_summary(data["samples"]),
            vs_empty=f"{rate / max(rates.get(baseline, rate), 1e-9):.2f}",
            # events/s against the requests/s of the empty endpoint with one event's body
            events_vs_empty=f"{rate * events_per_request / max(rates[phases[0][0]], 1e-9):.2f}",
        )


def run_scoring(report: Report, *, events: int) -> None:
    """In-process: the incremental score update of one lead per event (record the event, then
    `leads_rescore` of its lead, as the hook does after the commit), against recording the event
    alone; and the full recompute of every lead (the publish job) against its engine pass."""
    import random

    from django.utils import timezone

    from leadbase.leads.events import EventIn, events_record
    from leadbase.leads.hooks import forget_leads_changed, on_leads_changed
    from leadbase.leads.models import Lead
    from leadbase.scoring import tasks as scoring_tasks
    from leadbase.scoring.recompute import scores_all
    from leadbase.scoring.rule_sets import engine_for, rule_set_active
    from leadbase.scoring.services import leads_rescore

    ids = list(Lead.objects.values_list("pk", flat=True))
    rng = random.Random(7)
    leads_rescore(ids[:200])  # states exist, as in steady use
    kinds = ["page_view", "pricing_page_view", "email_opened", "content_download"]

    def one(n: int) -> EventIn:
        return EventIn(
            type=kinds[n % len(kinds)],
            occurred_at=timezone.now(),
            lead_id=ids[rng.randrange(200)],
            properties={"url": "https://www.example.com/pricing"},
        )

    forget_leads_changed(scoring_tasks.leads_changed_handler)  # time the two parts apart
    try:
        started = time.perf_counter()
        for n in range(events):
            events_record([one(n)])
        record_only = (time.perf_counter() - started) / events
        started = time.perf_counter()
        for n in range(events):
            item = one(n)
            events_record([item])
            assert item.lead_id is not None
            leads_rescore([item.lead_id])
        with_score = (time.perf_counter() - started) / events
    finally:
        on_leads_changed(scoring_tasks.leads_changed_handler)
    report.add(phase="record one event (no scoring)", per_event_ms=round(record_only * 1000, 3))
    report.add(
        phase="record one event + rescore its lead",
        per_event_ms=round(with_score * 1000, 3),
        rescore_ms=round((with_score - record_only) * 1000, 3),
    )

    engine = engine_for(rule_set_active())
    started = time.perf_counter()
    scores = scores_all(engine, at=timezone.now(), progress=lambda done, total: None)
    report.add(
        phase=f"read and score all {len(scores.ids):,} leads (publish, before writing)",
        seconds=round(time.perf_counter() - started, 2),
    )
