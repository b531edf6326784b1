"""The request's fast inserts store exactly what the ORM and django_tasks_db would."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models.signals import post_save, pre_save
from django.forms.models import model_to_dict
from django_tasks_db.models import DBTaskResult

from leadbase.capture.models import Form, Submission
from leadbase.capture.row_insert import instance_insert, task_enqueue
from leadbase.capture.tasks import submission_process_task

pytestmark = pytest.mark.django_db


def test_instance_insert_stores_what_save_stores(form: Form) -> None:
    values: dict[str, Any] = {
        "form": form,
        "data": {"email": "a@b.example", "n": 1, "ok": True, "name": "Zoë"},
        "context": {"utm_source": "x"},
        "email": "a@b.example",
        "ip_address": "2001:db8::1",
        "user_agent": "UA",
        "idempotency_key": "k-1",
    }
    fast = Submission(**values)
    instance_insert(fast)
    slow = Submission(**{**values, "idempotency_key": "k-2"})
    slow.save(force_insert=True)

    assert fast.pk is not None and fast.pk != slow.pk and not fast._state.adding
    stored_fast = model_to_dict(Submission.objects.get(pk=fast.pk), exclude=["id"])
    stored_slow = model_to_dict(Submission.objects.get(pk=slow.pk), exclude=["id"])
    stored_slow["idempotency_key"] = "k-1"
    assert stored_fast == stored_slow
    assert Submission.objects.get(pk=fast.pk).created_at == fast.created_at


def test_instance_insert_sends_the_save_signals(form: Form) -> None:
    seen: list[str] = []

    def before(sender: Any, instance: Submission, **kwargs: Any) -> None:
        seen.append(f"pre {instance.pk}")

    def after(sender: Any, instance: Submission, created: bool, **kwargs: Any) -> None:
        seen.append(f"post {instance.pk} {created}")

    pre_save.connect(before, sender=Submission)
    post_save.connect(after, sender=Submission)
    try:
        submission = Submission(form=form)
        instance_insert(submission)
    finally:
        pre_save.disconnect(before, sender=Submission)
        post_save.disconnect(after, sender=Submission)
    assert seen == ["pre None", f"post {submission.pk} True"]


def test_task_enqueue_writes_the_row_the_backend_writes() -> None:
    fast = task_enqueue(submission_process_task, submission_id=7)
    slow = submission_process_task.enqueue(submission_id=7)

    fields = [
        "status", "args_kwargs", "priority", "task_path", "worker_ids", "queue_name",
        "backend_name", "run_after", "return_value", "exception_class_path", "traceback",
        "started_at", "finished_at",
    ]  # fmt: skip
    rows = {
        str(row["id"]): {k: row[k] for k in fields}
        for row in DBTaskResult.objects.values("id", *fields)
    }
    assert rows[str(fast.id)] == rows[str(slow.id)]
    assert fast.kwargs == {"submission_id": 7} and fast.task == slow.task
