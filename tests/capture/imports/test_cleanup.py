"""Uploaded import files are removed after their retention; the jobs, counts and rejected rows
stay, an abandoned upload says to upload again, and queued or running imports are never touched."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from leadbase.accounts.models import User
from leadbase.capture.imports.cleanup import import_files_prune
from leadbase.capture.models import ImportJob, ImportStatus
from leadbase.core.scheduler import registered_jobs
from tests.capture.imports.conftest import MakeJob, csv_bytes, dry_run, run_import

pytestmark = pytest.mark.django_db

ROWS = [["email", "first name"], ["ann@example.com", "Ann"], ["not-an-email", "Bad"]]


def age(job: ImportJob, days: int) -> None:
    """Moves the job's last change and finish `days` into the past."""
    past = timezone.now() - dt.timedelta(days=days)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=past, finished_at=past)


def stored_path(job: ImportJob, media_root: Path) -> Path:
    assert job.file.name
    return media_root / job.file.name


def test_a_finished_import_keeps_its_file_for_the_retention_then_loses_only_the_file(
    make_job: MakeJob, media_root: Path, settings: Settings
) -> None:
    settings.LEADBASE_IMPORT_FILE_RETENTION_DAYS = 30
    job = run_import(make_job(csv_bytes(ROWS)))
    path = stored_path(job, media_root)
    assert path.exists()

    age(job, 29)
    assert import_files_prune() == 0
    assert path.exists()

    age(job, 31)
    assert import_files_prune() == 1
    assert not path.exists()
    job.refresh_from_db()
    assert not job.file
    assert (job.status, job.created, job.rejected) == (ImportStatus.DONE, 1, 1)
    assert job.rejections.count() == 1
    assert import_files_prune() == 0  # nothing left to do


def test_an_upload_never_run_is_marked_failed_with_what_to_do(
    make_job: MakeJob, media_root: Path
) -> None:
    job = make_job(csv_bytes(ROWS))
    dry_run(job)
    path = stored_path(job, media_root)
    age(job, 40)

    assert import_files_prune() == 1

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "Upload it again" in job.error
    assert not path.exists()


@pytest.mark.parametrize("status", [ImportStatus.QUEUED, ImportStatus.RUNNING])
def test_queued_and_running_imports_keep_their_file(
    make_job: MakeJob, media_root: Path, status: ImportStatus
) -> None:
    job = make_job(csv_bytes(ROWS))
    ImportJob.objects.filter(pk=job.pk).update(status=status)
    age(job, 400)

    assert import_files_prune() == 0
    assert stored_path(job, media_root).exists()


def test_a_file_already_missing_from_storage_is_still_cleared(
    make_job: MakeJob, media_root: Path
) -> None:
    job = run_import(make_job(csv_bytes(ROWS)))
    stored_path(job, media_root).unlink()
    age(job, 90)

    assert import_files_prune() == 1
    job.refresh_from_db()
    assert not job.file


def test_the_page_and_report_of_a_pruned_import_say_the_file_is_gone(
    make_job: MakeJob, marketer: User, client: Client
) -> None:
    job = make_job(csv_bytes(ROWS))
    dry_run(job)
    client.force_login(marketer)
    problems = reverse("capture:import-problems", args=[job.pk])
    assert client.get(problems).status_code == 200
    age(job, 40)
    import_files_prune()

    assert client.get(problems).status_code == 404
    page = client.get(reverse("capture:import-detail", args=[job.pk]))
    assert page.status_code == 200
    assert b"has been removed" in page.content or b"Upload it again" in page.content


def test_the_prune_runs_as_a_periodic_job() -> None:
    assert "capture.import_files_prune" in {job.name for job in registered_jobs()}
