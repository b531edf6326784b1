"""API requests/s and p99 for GET /api/v1/leads/{id}, against an empty endpoint of the same
server (GET /api/v1/ping: routing, middleware and JSON, no auth, no database) in the same run.

The server is `leadbase serve` (granian, WSGI) in a subprocess; the load comes from client
threads with keep-alive connections in this process, for a fixed time, on loopback only.
Besides requests/s, each phase reports the CPU time the server's processes spent per request
(Linux), which other work on the machine disturbs less than the rates.
"""

from __future__ import annotations

import http.client
import os
import random
import socket
import threading
import time
from typing import Any

from bench.common import Report, latency_summary, serve_subprocess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, timeout: float = 120) -> None:
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


def cpu_seconds(root: int) -> float | None:
    """User + system CPU time of process `root` and its descendants (from /proc), or None
    where there is no /proc."""
    stats: dict[int, tuple[int, int]] = {}  # pid -> (parent pid, CPU ticks)
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        stats[pid] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime+stime
    if root not in stats:
        return None
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    ticks, todo = 0, [root]
    while todo:
        pid = todo.pop()
        ticks += stats[pid][1]
        todo.extend(children.get(pid, []))
    return ticks / os.sysconf("SC_CLK_TCK")


def load(
    port: int,
    paths: list[str],
    headers: dict[str, str],
    *,
    seconds: float,
    threads: int,
    server_pid: int | None = None,
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
    cpu_before = cpu_seconds(server_pid) if server_pid is not None else None
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(server_pid) if server_pid is not None else None
    flat = [s for per in samples for s in per]
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None and flat:
        cpu_ms = round((cpu_after - cpu_before) * 1000 / len(flat), 3)
    return {
        "requests_per_s": round(len(flat) / elapsed),
        "errors": sum(errors),
        "server_cpu_ms": cpu_ms,  # per request, all the server's processes together
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
    server = serve_subprocess(port, workers=server_workers, env=env)
    try:
        wait_ready(port)
        auth = {"Authorization": f"Bearer {key}"}
        # warm up both paths, then measure the empty endpoint and the real one
        load(port, ["/api/v1/ping"], {}, seconds=1, threads=threads)
        load(port, [f"/api/v1/leads/{i}" for i in ids[:50]], auth, seconds=1, threads=threads)
        empty = load(
            port, ["/api/v1/ping"], {}, seconds=seconds, threads=threads, server_pid=server.pid
        )
        real = load(
            port,
            [f"/api/v1/leads/{i}" for i in ids],
            auth,
            seconds=seconds,
            threads=threads,
            server_pid=server.pid,
        )
    finally:
        server.terminate()
        server.wait(timeout=15)
    report.add(endpoint="GET /api/v1/ping (empty)", **empty, vs_empty="1.00", cpu_vs_empty="1.00")
    cpu_ratio = (
        f"{empty['server_cpu_ms'] / real['server_cpu_ms']:.2f}"
        if empty["server_cpu_ms"] and real["server_cpu_ms"]
        else "-"
    )
    report.add(
        endpoint="GET /api/v1/leads/{id}",
        **real,
        vs_empty=f"{real['requests_per_s'] / max(1, empty['requests_per_s']):.2f}",
        cpu_vs_empty=cpu_ratio,  # the empty endpoint's CPU per request over this one's
    )
