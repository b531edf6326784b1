"""API requests/s and p99 for GET /api/v1/leads/{id}, against an empty endpoint of the same
server (GET /api/v1/ping: routing, middleware and JSON, no auth, no database) in the same run.

The server is `leadbase serve` (granian, WSGI) in a subprocess; the load comes from client
threads with keep-alive connections in this process, for a fixed time, on loopback only.
"""

from __future__ import annotations

import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from bench.common import Report, latency_summary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/ping")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer within {timeout}s")


def load(
    port: int, paths: list[str], headers: dict[str, str], *, seconds: float, threads: int
) -> dict[str, Any]:
    samples: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop_at:
            path = rng.choice(paths)
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            samples[n].append(time.perf_counter() - start)
            if response.status != 200:
                errors[n] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    flat = [s for per in samples for s in per]
    return {
        "requests_per_s": round(len(flat) / elapsed),
        "errors": sum(errors),
        **latency_summary(flat),
    }


def run(report: Report, *, seconds: float, threads: int, server_workers: int) -> None:
    from leadbase.accounts.models import Role, User
    from leadbase.accounts.services import apikey_create
    from leadbase.leads.models import Lead

    user, _ = User.objects.get_or_create(username="bench-api", defaults={"role": Role.ADMIN})
    key = apikey_create(user=user, scopes="read").plain
    ids = list(Lead.objects.order_by("?").values_list("pk", flat=True)[:1000])
    if not ids:
        raise RuntimeError("no leads to ask for: load some first")

    port = free_port()
    env = {**os.environ, "LEADBASE_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadbase.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(server_workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(port)
        auth = {"Authorization": f"Bearer {key}"}
        # warm up both paths, then measure the empty endpoint and the real one
        load(port, ["/api/v1/ping"], {}, seconds=1, threads=threads)
        load(port, [f"/api/v1/leads/{i}" for i in ids[:50]], auth, seconds=1, threads=threads)
        empty = load(port, ["/api/v1/ping"], {}, seconds=seconds, threads=threads)
        real = load(
            port, [f"/api/v1/leads/{i}" for i in ids], auth, seconds=seconds, threads=threads
        )
    finally:
        server.terminate()
        server.wait(timeout=15)
    report.add(endpoint="GET /api/v1/ping (empty)", **empty, vs_empty="1.00")
    report.add(
        endpoint="GET /api/v1/leads/{id}",
        **real,
        vs_empty=f"{real['requests_per_s'] / max(1, empty['requests_per_s']):.2f}",
    )
