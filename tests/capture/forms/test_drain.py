"""The submission rows are the processing queue: the request nudges one drain task (only when
none is waiting), the drain processes every RECEIVED submission once, and a periodic sweep
takes what no drain took."""

from __future__ import annotations

import datetime as dt
import threading
import time
from http import HTTPStatus
from typing import Any

import pytest
from django.db import connections
from django.tasks import TaskResultStatus
from django.tasks.signals import task_enqueued
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leadbase.accounts.models import User
from leadbase.capture import services_submissions
from leadbase.capture.models import Form, Submission, SubmissionStatus
from leadbase.capture.services_submissions import submission_release, submissions_drain
from leadbase.capture.tasks import SWEEP_MIN_AGE, submissions_drain_task, submissions_sweep_task
from leadbase.core.scheduler import registered_jobs, run_due_periodic_jobs
from leadbase.core.worker import start_worker_thread
from leadbase.leads.models import Event, Lead
from leadbase.leads.services import lead_upsert
from tests.capture.forms.conftest import PostJSON, create_form, valid_data
from tests.capture.forms.test_duplicates import on_postgresql, race

DRAIN_PATH = "leadbase.capture.tasks.submissions_drain_task"


def post(form: Form, post_json: PostJSON, email: str, **overrides: Any) -> Submission:
    response = post_json(form, valid_data(form, email=email, **overrides))
    assert response.status_code == HTTPStatus.OK, response.content
    return Submission.objects.latest("id")


def drain_rows() -> list[DBTaskResult[Any, Any]]:
    return list(DBTaskResult.objects.filter(task_path=DRAIN_PATH).order_by("enqueued_at"))


@pytest.mark.django_db
def test_the_requests_enqueue_one_drain_while_none_is_waiting(
    form: Form, post_json: PostJSON
) -> None:
    for n in range(3):
        post(form, post_json, f"ann{n}@acme.example")

    [row] = drain_rows()
    assert (row.status, row.args_kwargs) == (TaskResultStatus.READY, {"args": [], "kwargs": {}})
    assert DBTaskResult.objects.count() == 1  # no task row per submission

    assert submissions_drain_task.call() == 3
    assert set(Submission.objects.values_list("status", flat=True)) == {"processed"}
    assert Lead.objects.count() == 3
    assert Event.objects.filter(type="form_submitted").count() == 3


@pytest.mark.django_db
def test_a_drain_that_has_started_does_not_count_as_waiting(
    form: Form, post_json: PostJSON
) -> None:
    post(form, post_json, "first@acme.example")
    # a worker claims the drain: it may have looked for submissions already
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)
    post(form, post_json, "second@acme.example")

    assert [row.status for row in drain_rows()] == [
        TaskResultStatus.RUNNING,
        TaskResultStatus.READY,
    ]


@pytest.mark.django_db
def test_the_drain_row_is_the_row_the_backend_writes(form: Form, post_json: PostJSON) -> None:
    post(form, post_json, "ann@acme.example")
    [from_request] = drain_rows()
    from_backend = submissions_drain_task.enqueue().db_result  # type: ignore[attr-defined]
    fields = [
        "status", "args_kwargs", "priority", "task_path", "worker_ids", "queue_name",
        "backend_name", "run_after", "return_value", "exception_class_path", "traceback",
        "started_at", "finished_at",
    ]  # fmt: skip
    rows = {str(row.pop("id")): row for row in DBTaskResult.objects.values("id", *fields)}
    assert rows[str(from_request.pk)] == rows[str(from_backend.pk)]
    assert abs(from_request.enqueued_at - timezone.now()) < dt.timedelta(minutes=1)
    assert from_request.task_result.task == submissions_drain_task


@pytest.mark.django_db
def test_a_refused_post_leaves_neither_submission_nor_drain_row(
    form: Form, post_json: PostJSON, settings: Any
) -> None:
    settings.LEADBASE_FORMS_RATE_PER_IP = "1/60"
    post(form, post_json, "first@acme.example")
    DBTaskResult.objects.all().delete()  # (as if a drain had run and been pruned)

    refused = post_json(form, valid_data(form, email="second@acme.example"))

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert Submission.objects.count() == 1
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_task_enqueued_is_sent_for_each_drain_row(form: Form, post_json: PostJSON) -> None:
    sent: list[Any] = []

    def receiver(sender: Any, task_result: Any, **kwargs: Any) -> None:
        sent.append(task_result)

    task_enqueued.connect(receiver)
    try:
        post(form, post_json, "a@acme.example")
        post(form, post_json, "b@acme.example")
    finally:
        task_enqueued.disconnect(receiver)

    [result] = sent
    assert (str(result.id), result.task) == (str(drain_rows()[0].pk), submissions_drain_task)


@pytest.mark.django_db
def test_spam_and_duplicates_are_left_alone(form: Form, post_json: PostJSON) -> None:
    post(form, post_json, "bot@acme.example", **{"lb.website": "http://spam.example"})
    assert not drain_rows()
    post(form, post_json, "ann@acme.example")
    post(form, post_json, "ann@acme.example")

    assert submissions_drain() == 1
    assert submissions_drain() == 0  # nothing waits any more
    statuses = Submission.objects.order_by("id").values_list("status", flat=True)
    assert list(statuses) == ["spam", "processed", "duplicate"]
    assert Event.objects.filter(type="form_submitted").count() == 1


@pytest.mark.django_db
def test_the_drain_goes_on_after_a_submission_that_fails(
    form: Form, post_json: PostJSON, monkeypatch: pytest.MonkeyPatch, marketer: User
) -> None:
    bad = post(form, post_json, "bad@acme.example")
    good = post(form, post_json, "good@acme.example")

    def upsert(**kwargs: Any) -> Any:
        if kwargs["data"]["email"] == "bad@acme.example":
            raise RuntimeError("the database went away")
        return lead_upsert(**kwargs)

    monkeypatch.setattr(services_submissions, "lead_upsert", upsert)
    assert submissions_drain() == 2

    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.status, bad.error) == ("failed", "RuntimeError: the database went away")
    assert good.status == "processed"
    monkeypatch.setattr(services_submissions, "lead_upsert", lead_upsert)
    assert submission_release(submission=bad, actor=marketer).status == "processed"


@pytest.mark.django_db
def test_the_sweep_takes_orphaned_submissions_and_leaves_the_young_to_the_drain(
    form: Form, post_json: PostJSON
) -> None:
    orphan = post(form, post_json, "orphan@acme.example")
    young = post(form, post_json, "young@acme.example")
    # the process died before its nudge was committed (or the drain missed the row)
    DBTaskResult.objects.all().delete()
    Submission.objects.filter(pk=orphan.pk).update(
        created_at=timezone.now() - SWEEP_MIN_AGE - dt.timedelta(seconds=1)
    )

    assert submissions_sweep_task.call() == 1
    statuses = dict(Submission.objects.values_list("pk", "status"))
    assert statuses == {orphan.pk: "processed", young.pk: "received"}
    assert submissions_drain_task.call() == 1


@pytest.mark.django_db
def test_the_sweep_runs_as_a_periodic_job() -> None:
    [job] = [job for job in registered_jobs() if job.name == "capture.submissions_sweep"]
    assert job.task == submissions_sweep_task
    assert job.every <= dt.timedelta(minutes=1)

    assert "capture.submissions_sweep" in run_due_periodic_jobs()
    assert DBTaskResult.objects.filter(task_path=submissions_sweep_task.module_path).exists()


# --- Several processors at once, on PostgreSQL ----------------------------------------------


@on_postgresql
def test_two_drains_at_once_process_each_submission_exactly_once() -> None:
    form = create_form()
    client = Client()
    for n in range(30):
        response = client.post(
            f"/f/{form.slug}",
            valid_data(form, email=f"p{n}@acme.example"),
            content_type="application/json",
        )
        assert response.status_code == HTTPStatus.OK

    taken = race(lambda n: submissions_drain(), times=2)

    assert sum(taken) == 30  # each submission claimed by one drain only
    assert set(Submission.objects.values_list("status", flat=True)) == {"processed"}
    assert Lead.objects.count() == 30
    assert Event.objects.filter(type="form_submitted").count() == 30
    assert Event.objects.filter(type="demo_request").count() == 30


@on_postgresql
def test_with_the_worker_running_a_post_becomes_a_lead_within_seconds() -> None:
    form = create_form()
    stop = threading.Event()
    worker = start_worker_thread(stop, interval=1.0)
    try:
        started = time.monotonic()
        response = Client().post(
            f"/f/{form.slug}",
            valid_data(form, email="quick@acme.example"),
            content_type="application/json",
        )
        assert response.status_code == HTTPStatus.OK
        while time.monotonic() - started < 10:
            if Lead.objects.filter(email="quick@acme.example").exists():
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        worker.join(timeout=30)
        connections.close_all()

    assert Lead.objects.filter(email="quick@acme.example").exists()
    assert elapsed < 5, f"the lead took {elapsed:.1f} s"  # about 1 s: the worker's interval
    assert Submission.objects.get().status == SubmissionStatus.PROCESSED


@pytest.mark.django_db
def test_a_post_is_one_statement_on_postgresql(form: Form, post_json: PostJSON) -> None:
    post(form, post_json, "warm@acme.example")  # reads the form into this process's copy
    with CaptureQueriesContext(connections["default"]) as captured:
        response = post_json(form, valid_data(form, email="ann@acme.example"))
    assert response.status_code == HTTPStatus.OK

    # (in a test, the request runs inside the test's transaction: hence the savepoint)
    sql = [query["sql"] for query in captured.captured_queries]
    assert sql[0].startswith("SAVEPOINT") and sql[-1].startswith("RELEASE SAVEPOINT")
    if connections["default"].vendor == "postgresql":
        [statement] = sql[1:-1]
        assert statement.startswith("WITH hit AS (INSERT INTO")
    else:  # the insert with its duplicate check, the waiting-drain check, the counters
        insert, pending, counters = sql[1:-1]
        assert insert.startswith("WITH earlier AS (SELECT")
        assert pending.startswith('SELECT 1 FROM "django_tasks_database_dbtaskresult"')
        assert counters.startswith('INSERT INTO "core_ratecounter"')
