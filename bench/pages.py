"""Lead list page latency (p50/p99) with many leads, through Django's test client in-process."""

from __future__ import annotations

import time

from bench.common import Report, latency_summary

QUERIES = {
    "first page": "/",
    "search 'smith'": "/?q=smith",
    "stage=mql": "/?stage=mql",
    "hot, by score": "/?temperature=hot&sort=-total_score",
    "score 50..100": "/?min_score=50&max_score=100",
    "page 40": "/?page=40",
}


def run(report: Report, *, repeats: int) -> None:
    from django.test import Client

    from leadbase.accounts.models import Role, User
    from leadbase.leads.models import Lead

    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"role": Role.ADMIN, "is_staff": True}
    )
    client = Client()
    client.force_login(admin)
    total = Lead.objects.count()
    for name, url in QUERIES.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - start)
        report.add(page=name, leads=total, **latency_summary(samples))
