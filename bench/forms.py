"""Form submissions/s and p50/p99 latency: POST /f/<slug> against an empty POST endpoint of
the same server (POST /f/-/ping: middleware, routing, reading the body and a JSON answer, no
database) in the same run, the endpoints taking turns in short slices.

The server is `leadbase serve` (granian, WSGI) in a subprocess, without a task worker: a
submission request only validates and stores the Submission (with its rate-limit counts and,
when no drain task is waiting, the drain task's row); making the lead is the worker's job and
is not measured here. The load comes from client threads with keep-alive connections in this
process, for a fixed time, on loopback only. Every request sends a new email address (no
double submissions) and a fill-time token made a minute earlier (so none is held as spam).
The rate limits are raised out of the way for the run (all clients share 127.0.0.1), and
their counters are still written on every post.

Before the server runs, the same requests go through Django's WSGI handler called in this
process (no server, no client, no other thread): the CPU time of one request of each kind,
the endpoints taking turns, best of several rounds. On a shared machine that figure moves
much less than the server's requests/s, so it is the one to compare changes with.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bench.api import free_port, wait_ready
from bench.common import Report, latency_summary, serve_subprocess

SLUG = "bench-form"
ROUNDS = 5  # time slices per endpoint


def make_form() -> int:
    from leadbase.capture.models import FieldKind, Form, FormField, FormPurpose

    form, created = Form.objects.get_or_create(
        slug=SLUG,
        defaults={
            "name": "Benchmark: request a demo",
            "purpose": FormPurpose.DEMO_REQUEST,
            "consent_text": "Send me product news. I can unsubscribe at any time.",
            "allowed_domains": "www.example.com",
        },
    )
    if created:
        for position, (name, kind, maps_to, required) in enumerate(
            [
                ("email", FieldKind.EMAIL, "email", True),
                ("first_name", FieldKind.TEXT, "first_name", True),
                ("last_name", FieldKind.TEXT, "last_name", False),
                ("company", FieldKind.TEXT, "company_name", False),
                ("country", FieldKind.COUNTRY, "country", False),
                ("message", FieldKind.TEXTAREA, "attributes.message", False),
            ]
        ):
            FormField.objects.create(
                form=form,
                position=position,
                name=name,
                label=name.replace("_", " ").capitalize(),
                kind=kind,
                maps_to=maps_to,
                required=required,
                max_length=2000 if kind == FieldKind.TEXTAREA else 200,
            )
    return form.pk


BodyMaker = Callable[[int, int], tuple[bytes, str]]


def form_body(token: str) -> BodyMaker:
    def make(thread: int, n: int) -> tuple[bytes, str]:
        values = {
            "email": f"bench-{os.getpid()}-{thread}-{n}-{time.monotonic_ns()}@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": "Analytical Engines",
            "country": "GB",
            "message": "We would like a demo for our team of 40 next week, please.",
            "lb.consent": "on",
            "lb.token": token,
            "lb.website": "",
            "lb.landing_page": "https://www.example.com/demo?utm_source=google&utm_medium=cpc",
        }
        return urlencode(values).encode(), "application/x-www-form-urlencoded"

    return make


def json_body(token: str) -> BodyMaker:
    urlencoded = form_body(token)

    def make(thread: int, n: int) -> tuple[bytes, str]:
        body, _ = urlencoded(thread, n)
        values: dict[str, Any] = dict(parse_qsl(body.decode()))
        values["lb.consent"] = True
        return json.dumps(values).encode(), "application/json"

    return make


@dataclass
class Tally:
    """Latencies and errors of one endpoint, summed over its time slices."""

    samples: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "requests_per_s": round(len(self.samples) / self.elapsed) if self.elapsed else 0,
            "errors": self.errors,
            **latency_summary(self.samples),
        }


def load(
    port: int,
    path: str,
    make_body: BodyMaker,
    tally: Tally,
    *,
    seconds: float,
    threads: int,
    accept: str,
) -> None:
    """`threads` clients post to `path` for `seconds`; their latencies go into `tally`."""
    samples: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop_at = time.monotonic() + seconds

    def client(t: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.monotonic() < stop_at:
            body, content_type = make_body(t, n)
            n += 1
            headers = {"Content-Type": content_type, "Accept": accept}
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                # the server closed the connection: count it, open another, go on
                errors[t] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            samples[t].append(time.perf_counter() - start)
            if response.status != 200:
                errors[t] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    tally.elapsed += time.perf_counter() - started
    tally.samples.extend(s for per in samples for s in per)
    tally.errors += sum(errors)


RAISED_LIMITS = {
    "LEADBASE_FORMS_RATE_PER_IP": "100000000/60",
    "LEADBASE_FORMS_RATE_PER_FORM": "100000000/60",
}


def in_process(
    endpoints: list[tuple[str, BodyMaker, str]], *, rounds: int = 5, requests: int = 200
) -> list[float]:
    """CPU seconds per request of each endpoint through Django's WSGI handler in this
    process, best of `rounds` (the endpoints take turns)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    app = WSGIHandler()

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None, /
    ) -> Callable[[bytes], object]:
        if not status.startswith("200"):
            raise RuntimeError(f"in-process request answered {status}")
        return lambda data: None

    def one_round(path: str, make_body: BodyMaker, accept: str) -> float:
        bodies = [make_body(0, n) for n in range(requests)]
        started = time.process_time()
        for body, content_type in bodies:
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": path,
                "SCRIPT_NAME": "",
                "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "127.0.0.1",
                "CONTENT_TYPE": content_type,
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_ACCEPT": accept,
                "HTTP_HOST": "127.0.0.1:8000",
                "wsgi.input": io.BytesIO(body),
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
                "wsgi.version": (1, 0),
            }
            response = app(environ, start_response)
            b"".join(response)
            response.close()
        return (time.process_time() - started) / requests

    best = [float("inf")] * len(endpoints)
    with override_settings(**RAISED_LIMITS):
        for endpoint in endpoints:  # warm-up: connections, caches, prepared statements
            one_round(*endpoint)
        for _ in range(rounds):
            for n, endpoint in enumerate(endpoints):
                best[n] = min(best[n], one_round(*endpoint))
    return best


def run(report: Report, *, seconds: float, threads: int, server_workers: int) -> None:
    from leadbase.capture.models import Submission, SubmissionStatus
    from leadbase.capture.spam import fill_token_make

    form_id = make_form()
    token = fill_token_make(form_id=form_id, now=time.time() - 60)
    path = f"/f/{SLUG}"
    html = "text/html"
    endpoints = [
        ("/f/-/ping", form_body(token), html),
        (path, json_body(token), "application/json"),
        (path, form_body(token), html),
    ]
    cpu = in_process(endpoints)
    before = Submission.objects.filter(form_id=form_id).count()

    port = free_port()
    env = {**os.environ, "LEADBASE_LOG_LEVEL": "WARNING", "LOG_LEVEL": "WARNING", **RAISED_LIMITS}
    server = serve_subprocess(port, workers=server_workers, env=env)
    try:
        wait_ready(port, timeout=120)  # a loaded machine can take half a minute to start
        tallies = [Tally() for _ in endpoints]
        for (url, body, accept), _ in zip(endpoints, tallies, strict=True):  # warm-up
            load(port, url, body, Tally(), seconds=1, threads=threads, accept=accept)
        # The endpoints take turns in short slices, so that a change in the machine's load
        # (it is shared) touches all of them alike and the ratios stay comparable.
        for _ in range(ROUNDS):
            for (url, body, accept), tally in zip(endpoints, tallies, strict=True):
                load(
                    port, url, body, tally, seconds=seconds / ROUNDS, threads=threads, accept=accept
                )
        empty, as_json, as_form = (tally.summary() for tally in tallies)
    finally:
        server.terminate()
        server.wait(timeout=15)
    stored = Submission.objects.filter(form_id=form_id).count() - before
    held = (
        Submission.objects.filter(form_id=form_id).exclude(status=SubmissionStatus.RECEIVED).count()
    )
    report.add(endpoint="POST /f/-/ping (empty)", **empty, vs_empty="1.00")
    for name, result in (
        ("POST /f/<slug> JSON (embed)", as_json),
        ("POST /f/<slug> form encoding (HTML)", as_form),
    ):
        report.add(
            endpoint=name,
            **result,
            vs_empty=f"{result['requests_per_s'] / max(1, empty['requests_per_s']):.2f}",
        )
    report.add(endpoint="submissions stored (received, not held)", stored=stored, held=held)
    names = ["ping", "JSON", "form encoding"]
    for name, seconds_each in zip(names, cpu, strict=True):
        report.add(
            endpoint=f"in-process CPU per request, {name}: {seconds_each * 1e6:.0f} us",
            cpu_us=round(seconds_each * 1e6),
            vs_empty=f"{cpu[0] / seconds_each:.2f}",
        )
