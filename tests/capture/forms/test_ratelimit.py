"""Rate limits: the fixed-window counter in core, and 429 + Retry-After on the form endpoint."""

from __future__ import annotations

import threading
from http import HTTPStatus

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_django import Settings

from leadbase.capture.models import Form, Submission
from leadbase.core.models import RateCounter
from leadbase.core.ratelimit import (
    Rate,
    RateLimited,
    client_ip,
    parse_rate,
    rate_check,
    rate_counters_prune,
    rate_hit,
)
from leadbase.core.tasks import rate_counters_prune_task
from tests.capture.forms.conftest import PostJSON, create_form, valid_data

NOW = 1_700_000_070.0  # 30 s into a minute-aligned window, in the past


@pytest.mark.django_db
def test_hits_count_per_key_and_window_in_one_row_each() -> None:
    rate = Rate(3, 60)
    counts = [rate_hit([("a", rate), ("b", rate)], now=NOW + i) for i in range(4)]

    assert [[hit.count for hit in hits] for hits in counts] == [[1, 1], [2, 2], [3, 3], [4, 4]]
    assert [hit.exceeded for hit in counts[-1]] == [True, True]
    assert RateCounter.objects.count() == 2
    # the next window starts again at 1
    [hit] = rate_hit([("a", rate)], now=NOW + 30)
    assert (hit.count, hit.window_end) == (1, 1_700_000_160)


@pytest.mark.django_db
def test_rate_check_raises_with_the_seconds_to_the_end_of_the_window() -> None:
    rate = Rate(2, 60)
    rate_check([("k", rate)], message="Slow down.", now=NOW)
    rate_check([("k", rate)], message="Slow down.", now=NOW)

    with pytest.raises(RateLimited) as raised:
        rate_check([("k", rate)], message="Slow down.", now=NOW + 0.5)
    assert raised.value.retry_after == 30  # 29.5 s left, rounded up
    assert raised.value.message == "Slow down. Try again in 30 seconds."
    assert raised.value.status == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.django_db
@hypothesis_settings(max_examples=25, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=6),
    offsets=st.lists(st.floats(min_value=0, max_value=179.99), min_size=1, max_size=25),
)
def test_a_hit_is_refused_exactly_when_its_window_already_had_limit_hits(
    limit: int, offsets: list[float]
) -> None:
    RateCounter.objects.all().delete()
    rate = Rate(limit, 60)
    per_window: dict[int, int] = {}
    for offset in sorted(offsets):
        now = 1_800_000_000.0 + offset
        window = int(now // 60)
        per_window[window] = per_window.get(window, 0) + 1
        [hit] = rate_hit([("prop", rate)], now=now)
        assert hit.count == per_window[window]
        assert hit.exceeded == (per_window[window] > limit)


@pytest.mark.django_db
def test_ended_windows_are_pruned_by_the_periodic_job() -> None:
    rate = Rate(5, 60)
    rate_hit([("old", rate)], now=NOW - 600)
    rate_hit([("current", rate)], now=NOW)

    assert rate_counters_prune(now=NOW) == 1
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["current"]
    assert rate_counters_prune_task.call() == 1  # the current window has ended by now


@pytest.mark.parametrize("text", ["10", "0/60", "10/0", "ten/60", "-1/60", "1/2/3"])
def test_badly_written_limits_name_the_setting(text: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="LEADBASE_X"):
        parse_rate(text, setting="LEADBASE_X")


def test_parse_rate() -> None:
    assert parse_rate("10/60") == Rate(10, 60)


def test_keys_must_be_distinct_and_short() -> None:
    with pytest.raises(ValueError, match="distinct"):
        rate_hit([("a", Rate(1, 1)), ("a", Rate(1, 1))])
    with pytest.raises(ValueError, match="longer than"):
        rate_hit([("k" * 201, Rate(1, 1))])


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "198.51.100.1", "203.0.113.9"),  # no proxy: the header is ignored
        (1, "10.0.0.2", "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the proxy's entry
        (2, "10.0.0.2", "198.51.100.1, 203.0.113.9", "198.51.100.1"),
        (1, "10.0.0.2", "", "10.0.0.2"),  # no header: the peer
        (0, "2001:DB8::1", "", "2001:db8::1"),
        (0, "not-an-ip", "", None),
    ],
)
def test_client_ip(
    settings: Settings, proxies: int, remote: str, forwarded: str, expected: str | None
) -> None:
    settings.LEADBASE_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# --- On the form endpoint -------------------------------------------------------------------


@pytest.mark.django_db
def test_too_many_posts_from_one_ip_get_429_with_retry_after(
    form: Form, post_json: PostJSON, settings: Settings
) -> None:
    settings.LEADBASE_FORMS_RATE_PER_IP = "3/60"
    statuses = [
        post_json(form, valid_data(form, email=f"p{i}@acme.example")).status_code for i in range(5)
    ]

    assert statuses == [200, 200, 200, 429, 429]
    refused = post_json(form, valid_data(form, email="late@acme.example"))
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"].startswith("Too many submissions in a short time. Try again")
    assert Submission.objects.count() == 3  # a refused post is not stored


@pytest.mark.django_db
def test_invalid_and_unreadable_posts_count_towards_the_limit(
    form: Form, client: Client, post_json: PostJSON, settings: Settings
) -> None:
    settings.LEADBASE_FORMS_RATE_PER_IP = "2/60"
    assert post_json(form, valid_data(form, email="bad")).status_code == 400
    bad_json = client.post(f"/f/{form.slug}", b"{", content_type="application/json")
    assert bad_json.status_code == 400
    assert post_json(form, valid_data(form)).status_code == 429


@pytest.mark.django_db
def test_the_per_form_limit_holds_across_addresses(form: Form, settings: Settings) -> None:
    settings.LEADBASE_FORMS_RATE_PER_FORM = "2/60"
    other = create_form(slug="other")

    def post(f: Form, ip: str, n: int) -> int:
        return (
            Client(REMOTE_ADDR=ip)
            .post(f"/f/{f.slug}", valid_data(f, email=f"x{n}@acme.example"))
            .status_code
        )

    assert [post(form, f"192.0.2.{n}", n) for n in range(3)] == [200, 200, 429]
    assert post(other, "192.0.2.50", 9) == 200  # another form has its own count


@pytest.mark.django_db
def test_html_posts_get_an_honest_429_page(form: Form, client: Client, settings: Settings) -> None:
    settings.LEADBASE_FORMS_RATE_PER_IP = "1/60"
    client.post(f"/f/{form.slug}", valid_data(form))
    response = client.post(f"/f/{form.slug}", valid_data(form, email="b@acme.example"))

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Retry-After" in response
    assert "Too many submissions" in response.content.decode()


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_counter_is_exact_under_concurrent_hits() -> None:
    rate = Rate(1000, 3600)
    barrier = threading.Barrier(8)

    def hammer() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(25):
                rate_hit([("shared", rate), (f"own-{threading.get_ident()}", rate)], now=NOW)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert RateCounter.objects.get(key="shared").count == 200


@pytest.mark.django_db
def test_hits_counted_by_another_process_refuse_the_post(
    form: Form, post_json: PostJSON, settings: Settings
) -> None:
    """The counter is a database row, not this process's memory: hits another web process
    counted (here: straight into the counter) refuse this process's next post."""
    settings.LEADBASE_FORMS_RATE_PER_FORM = "2/60"
    rate_hit([(f"forms:form:{form.pk}", Rate(2, 60))])
    assert post_json(form, valid_data(form, email="a@acme.example")).status_code == 200

    rate_hit([(f"forms:form:{form.pk}", Rate(2, 60))])  # elsewhere, the second of the window
    refused = post_json(form, valid_data(form, email="b@acme.example"))

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert Submission.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_from_several_connections_store_exactly_the_limit(
    settings: Settings,
) -> None:
    settings.LEADBASE_FORMS_RATE_PER_FORM = "5/60"
    form = create_form()
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def post(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = Client(REMOTE_ADDR=f"192.0.2.{n}").post(
                f"/f/{form.slug}",
                valid_data(form, email=f"c{n}@acme.example"),
                content_type="application/json",
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] * 5 + [429] * 5
    assert Submission.objects.count() == 5
