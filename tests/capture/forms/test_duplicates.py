"""Double submissions: one lead and one event, however they arrive."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from pytest_django import Settings

from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.capture.services_submissions import submission_process
from leadbase.leads.models import Event, Lead
from tests.capture.forms.conftest import PostJSON, create_form, process_all, valid_data

KEY = "6f1f4ab4-8c39-4d8e-9a53-2e0f1d1d2c11"


@pytest.mark.django_db
def test_same_email_within_the_window_is_stored_as_a_duplicate_of_the_first(
    form: Form, post_json: PostJSON
) -> None:
    first = post_json(form, valid_data(form))
    second = post_json(form, valid_data(form, email="ANN.LEE@acme.example", first_name="A."))

    assert first.json() == second.json()  # the visitor sees no difference
    original, repeat = Submission.objects.order_by("id")
    assert repeat.status == SubmissionStatus.DUPLICATE
    assert repeat.duplicate_of == original
    process_all()
    assert Lead.objects.count() == 1
    assert Event.objects.filter(type="form_submitted").count() == 1


@pytest.mark.django_db
def test_after_the_window_the_same_email_counts_again(
    form: Form, post_json: PostJSON, settings: Settings
) -> None:
    settings.LEADBASE_FORMS_DUPLICATE_WINDOW_SECONDS = 60
    post_json(form, valid_data(form))
    process_all()
    Submission.objects.update(created_at=timezone.now() - dt.timedelta(seconds=61))
    post_json(form, valid_data(form))
    process_all()

    assert list(Submission.objects.values_list("status", flat=True)) == ["processed"] * 2
    assert Lead.objects.count() == 1
    assert Event.objects.filter(type="form_submitted").count() == 2


@pytest.mark.django_db
def test_other_forms_and_held_spam_do_not_make_duplicates(form: Form, post_json: PostJSON) -> None:
    other = create_form(slug="newsletter")
    post_json(form, valid_data(form, **{"lb.website": "bot"}))  # held as spam
    post_json(form, valid_data(form))
    post_json(other, valid_data(other))

    statuses = list(Submission.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["spam", "received", "received"]


@pytest.mark.django_db
def test_the_same_idempotency_key_stores_one_submission_and_replays_its_answer(
    form: Form, post_json: PostJSON
) -> None:
    first = post_json(form, valid_data(form), **{"Idempotency-Key": KEY})
    again = post_json(form, valid_data(form, first_name="Changed"), **{"Idempotency-Key": KEY})

    assert first.status_code == again.status_code == HTTPStatus.OK
    assert first.json() == again.json()
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    submission = Submission.objects.get()
    assert submission.idempotency_key == KEY and submission.data["first_name"] == "Ann"
    # the same key on another form is another submission
    other = create_form(slug="other")
    post_json(other, valid_data(other), **{"Idempotency-Key": KEY})
    assert Submission.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_post_does_not_use_up_its_idempotency_key(
    form: Form, post_json: PostJSON
) -> None:
    refused = post_json(form, valid_data(form, email="nope"), **{"Idempotency-Key": KEY})
    accepted = post_json(form, valid_data(form), **{"Idempotency-Key": KEY})

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert accepted.status_code == HTTPStatus.OK and "Idempotent-Replayed" not in accepted
    assert Submission.objects.get().status == SubmissionStatus.RECEIVED


@pytest.mark.django_db
def test_two_received_twins_processed_in_any_order_make_one_event(
    form: Form, post_json: PostJSON, settings: Settings
) -> None:
    # Two posts at the same instant can both pass the check at receive time; processing
    # keeps the one with the lower id. Here the window is stretched after the fact to get
    # two RECEIVED rows, and the later one is processed first.
    settings.LEADBASE_FORMS_DUPLICATE_WINDOW_SECONDS = 0
    post_json(form, valid_data(form))
    post_json(form, valid_data(form))
    settings.LEADBASE_FORMS_DUPLICATE_WINDOW_SECONDS = 600
    first, second = Submission.objects.order_by("id")
    assert first.status == second.status == SubmissionStatus.RECEIVED

    submission_process(submission=second)
    submission_process(submission=first)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("processed", "duplicate")
    assert second.duplicate_of == first
    assert Event.objects.filter(type="form_submitted").count() == 1


# --- Two at the same time, on PostgreSQL (SQLite's test database lives in one connection) ---


def on_postgresql(test: Callable[..., None]) -> Callable[..., None]:
    marks = [
        pytest.mark.postgres_only,
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason="needs PostgreSQL: several connections writing at the same time",
        ),
        pytest.mark.django_db(transaction=True),
    ]
    for mark in marks:
        test = mark(test)
    return test


def race(action: Callable[[int], Any], times: int = 2) -> list[Any]:
    """Run `action(n)` in `times` threads released at the same moment."""
    barrier = threading.Barrier(times)
    results: list[Any] = [None] * times
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[n] = action(n)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@on_postgresql
@pytest.mark.parametrize("attempt", range(3))
def test_two_simultaneous_posts_with_one_key_store_one_submission(attempt: int) -> None:
    del attempt
    form = create_form()

    def post(n: int) -> Any:
        response = Client().post(
            f"/f/{form.slug}",
            valid_data(form, first_name=f"Thread {n}"),
            content_type="application/json",
            headers={"Idempotency-Key": KEY},
        )
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    results = race(post, times=4)

    assert {status for status, _, _ in results} == {HTTPStatus.OK}
    assert len({str(body) for _, body, _ in results}) == 1
    assert sorted(replayed or "" for _, _, replayed in results) == ["", "true", "true", "true"]
    assert Submission.objects.count() == 1


@on_postgresql
def test_simultaneous_twins_without_a_key_make_one_lead_and_one_event() -> None:
    form = create_form()

    def post(n: int) -> int:
        response = Client().post(
            f"/f/{form.slug}", valid_data(form), content_type="application/json"
        )
        return response.status_code

    assert race(post, times=4) == [HTTPStatus.OK] * 4
    received = list(Submission.objects.filter(status="received").order_by("id"))

    # process them at the same time too, as several workers would
    def process(n: int) -> None:
        if n < len(received):
            submission_process(submission=received[n])

    race(process, times=len(received))

    assert Lead.objects.count() == 1
    assert Event.objects.filter(type="form_submitted").count() == 1
    statuses = sorted(Submission.objects.values_list("status", flat=True))
    assert statuses == ["duplicate", "duplicate", "duplicate", "processed"]
