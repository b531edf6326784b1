"""Reads of imports. Imports are seen by admins and marketers (the callers check the role):
every import, whoever ran it, since they work on the same leads."""

from __future__ import annotations

from django.db.models import QuerySet

from leadbase.accounts.models import Role, User

from ..models import ImportJob, ImportRejection, ImportStatus

IMPORTER_ROLES = frozenset({Role.ADMIN, Role.MARKETER})


def may_import(user: User) -> bool:
    """Admins and marketers run imports and see them; other roles do not (an import's
    rejected rows hold any lead's data, and sales reps see only their own leads)."""
    return user.is_active and (user.role in IMPORTER_ROLES or user.is_superuser)


def import_job_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by", "campaign").order_by("-id")


def import_job_get(*, job_id: int) -> ImportJob | None:
    return import_job_list().filter(pk=job_id).first()


def import_job_same_file(*, job: ImportJob) -> ImportJob | None:
    """The latest other import of a file with the same content that ran to its end."""
    same = ImportJob.objects.filter(sha256=job.sha256, status=ImportStatus.DONE)
    return same.exclude(pk=job.pk).order_by("-id").first()


def import_rejections(*, job: ImportJob) -> QuerySet[ImportRejection]:
    return job.rejections.order_by("row_number", "id")
