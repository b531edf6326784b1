"""The import pages: upload → mapping → dry run → import → progress → reports, as a person
clicks through them (Django test client), with the roles, the errors and hostile input."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from leadbase.accounts.models import User
from leadbase.capture.imports import services
from leadbase.capture.imports.tasks import import_dry_run_task, import_run_task
from leadbase.capture.models import ImportJob, ImportStatus
from leadbase.leads.models import Lead
from tests.capture.imports.conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]

XSS = "<script>alert(1)</script>"
ROWS = [
    ["E-mail", "First Name", "Company", XSS],
    ["ann@acme.example", "Ann", "Acme", "<img src=x onerror=alert(1)>"],
    ["=cmd|' /C calc'!A0", "@Bob", "+Evil", "-1"],
    ["ann@acme.example", "", "", ""],
]


def upload(client: Client, content: bytes, name: str = "leads.csv") -> Any:
    return client.post(reverse("capture:imports"), {"file": SimpleUploadedFile(name, content)})


def uploaded(client: Client, content: bytes = b"", name: str = "leads.csv") -> ImportJob:
    response = upload(client, content or csv_bytes(ROWS), name)
    assert response.status_code == HTTPStatus.FOUND, response.content[:500]
    job = ImportJob.objects.latest("id")
    assert response["Location"] == reverse("capture:import-detail", args=[job.pk])
    return job


def streamed(response: Any) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)  # type: ignore[arg-type]  # sync iterator


def mapping_post(job: ImportJob, **overrides: str) -> dict[str, str]:
    """The mapping form as the page fills it in (each column's suggestion), with changes."""
    data = {f"column_{i}": job.mapping[h] for i, h in enumerate(job.analysis["headers"])}
    data.update(source="", campaign="")
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ["rep", "viewer"])
def test_other_roles_may_not_import(
    login: Login, role: str, request: pytest.FixtureRequest
) -> None:
    client = login(request.getfixturevalue(role))
    assert client.get(reverse("capture:imports")).status_code == HTTPStatus.FORBIDDEN
    assert upload(client, csv_bytes(ROWS)).status_code == HTTPStatus.FORBIDDEN
    assert not ImportJob.objects.exists()


def test_signing_in_is_required(client: Client) -> None:
    response = client.get(reverse("capture:imports"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("accounts:login"))


def test_upload_shows_what_was_detected_and_suggests_a_mapping(
    login: Login, marketer: User
) -> None:
    client = login(marketer)
    job = uploaded(client, csv_bytes(ROWS, delimiter=";", encoding="utf-8-sig"))
    assert job.created_by == marketer
    html = client.get(reverse("capture:import-detail", args=[job.pk])).text
    assert "UTF-8 (with byte order mark)" in html
    assert "semicolon ( ; )" in html
    assert "<td>ann@acme.example</td>" in html  # the first rows
    assert re.search(r'<option value="email" selected>Email</option>', html)
    assert re.search(r'<option value="first_name" selected>First name</option>', html)
    assert 'href="/capture/imports/"' in html  # the section's navigation has Imports
    assert "Not checked yet" in html


def test_hostile_names_and_values_are_shown_escaped(login: Login, marketer: User) -> None:
    client = login(marketer)
    job = uploaded(client, csv_bytes(ROWS), name="<svg onload=alert(2)>.csv")
    html = client.get(reverse("capture:import-detail", args=[job.pk])).text
    assert XSS not in html and "<img src=x" not in html and "<svg" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;svg onload=alert(2)&gt;.csv" in html
    list_html = client.get(reverse("capture:imports")).text
    assert "<svg" not in list_html and "&lt;svg onload=alert(2)&gt;.csv" in list_html


@pytest.mark.parametrize(
    ("content", "name", "status", "message"),
    [
        (b"", "empty.csv", HTTPStatus.BAD_REQUEST, "Choose a file to upload"),  # Django: empty
        (b"\x00\x01binary" * 50, "x.csv", HTTPStatus.BAD_REQUEST, "holds binary data"),
        (b"email,name\na@b.example,x\n", "x.xlsx", HTTPStatus.BAD_REQUEST, "is not one"),
    ],
)
def test_unreadable_uploads_say_why(
    login: Login, admin_user: User, content: bytes, name: str, status: int, message: str
) -> None:
    response = upload(login(admin_user), content, name)
    assert response.status_code == status
    assert message in response.text
    assert 'role="alert"' in response.text
    assert not ImportJob.objects.exists()


def test_a_file_over_the_limit_is_a_413(login: Login, marketer: User, settings: Settings) -> None:
    settings.LEADBASE_IMPORT_MAX_BYTES = 1000
    client = login(marketer)
    rows = [["email"]] + [[f"p{i}@acme.example"] for i in range(99)]  # ~2 KB: the file's size
    response = upload(client, csv_bytes(rows))
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "The file is too large" in response.text and "LEADBASE_IMPORT_MAX_BYTES" in response.text
    rows = [["email"]] + [[f"p{i}@acme.example"] for i in range(9999)]  # ~200 KB: the body's
    response = upload(client, csv_bytes(rows))
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "The file is too large (0.2 MB; the limit is 0 MB)" in response.text
    assert not ImportJob.objects.exists()
    assert upload(client, b"email\na@acme.example\n").status_code == HTTPStatus.FOUND


def test_dry_run_then_import_then_progress_then_reports(
    login: Login,
    marketer: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    client = login(marketer)
    job = uploaded(client)
    detail = reverse("capture:import-detail", args=[job.pk])

    # Dry run: nothing written, the counts and the rejected row shown.
    response = client.post(
        reverse("capture:import-dry-run", args=[job.pk]), mapping_post(job, campaign="Fair")
    )
    assert response.status_code == HTTPStatus.FOUND
    html = client.get(detail).text
    assert '<dd id="dry-create">1</dd>' in html
    assert '<dd id="dry-duplicates">1</dd>' in html
    assert '<dd id="dry-rejected">1</dd>' in html
    assert "is not a valid email address" in html
    assert "Import 3 rows" in html
    assert not Lead.objects.exists()

    problems = client.get(reverse("capture:import-problems", args=[job.pk]))
    lines = list(csv.reader(io.StringIO(streamed(problems).decode("utf-8-sig"))))
    assert lines[0] == ["row", "reason", "E-mail", "First Name", "Company", XSS]
    assert lines[1][0] == "3" and lines[1][2:] == ["'=cmd|' /C calc'!A0", "'@Bob", "'+Evil", "'-1"]

    # Import: queued as a background task, the page polls the progress.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("capture:import-start", args=[job.pk]))
    assert response.status_code == HTTPStatus.FOUND
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    assert DBTaskResult.objects.filter(id=job.task_id).exists()
    polling = client.get(
        reverse("capture:import-progress", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert 'hx-trigger="every 1s"' in polling.text
    assert "<html" not in polling.text  # only the part that changes
    assert "waiting for a worker" in polling.text

    import_run_task.call(job.pk)  # what the worker does with the queued task

    done = client.get(
        reverse("capture:import-progress", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert "hx-trigger" not in done.text  # finished: the polling stops
    assert '<progress id="import-progress-bar" value="3" max="3"' in done.text
    assert '<dd id="count-created">1</dd>' in done.text
    assert '<dd id="count-duplicates">1</dd>' in done.text
    assert '<dd id="count-rejected">1</dd>' in done.text
    lead = Lead.objects.get()
    assert lead.campaign is not None and lead.campaign.name == "Fair"

    report = client.get(reverse("capture:import-rejections", args=[job.pk]))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        report["Content-Disposition"] == f'attachment; filename="import-{job.pk}-rejected-rows.csv"'
    )
    body = streamed(report).decode("utf-8")
    assert body.startswith("\ufeffrow,reason,")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[1][2:] == ["'=cmd|' /C calc'!A0", "'@Bob", "'+Evil", "'-1"]  # neutralised

    # Another click on Import changes nothing.
    again = client.post(reverse("capture:import-start", args=[job.pk]), follow=True)
    assert "This import is done; its file and mapping can no longer change" in again.text
    assert DBTaskResult.objects.count() == 1


def test_an_invalid_mapping_is_a_400_naming_the_column(login: Login, marketer: User) -> None:
    client = login(marketer)
    job = uploaded(client)
    data = mapping_post(job, column_1="email")  # E-mail and First Name both to email
    response = client.post(reverse("capture:import-dry-run", args=[job.pk]), data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "maps to email, as the column “E-mail” does already" in response.text
    job.refresh_from_db()
    assert job.dry_run == {}

    skip_all = {f"column_{i}": "" for i in range(4)}
    response = client.post(reverse("capture:import-dry-run", args=[job.pk]), skip_all)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "maps no column to email or phone" in response.text


def test_a_large_file_is_dry_run_in_the_background(
    login: Login,
    marketer: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    monkeypatch.setattr(services, "INLINE_DRY_RUN_BYTES", 10)
    client = login(marketer)
    job = uploaded(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("capture:import-dry-run", args=[job.pk]), mapping_post(job))
    busy = client.get(
        reverse("capture:import-progress", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert 'hx-trigger="every 1s"' in busy.text and "Checking every row" in busy.text
    import_dry_run_task.call(job.pk)
    done = client.get(
        reverse("capture:import-progress", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert "hx-trigger" not in done.text
    assert '<dd id="dry-create">1</dd>' in done.text


def test_a_workbook_sheet_is_chosen_on_the_page(login: Login, admin_user: User) -> None:
    client = login(admin_user)
    content = xlsx_bytes({"Intro": [["Read me"], ["x"]], "Leads": [["Email"], ["x@acme.example"]]})
    job = uploaded(client, content, "book.xlsx")
    html = client.get(reverse("capture:import-detail", args=[job.pk])).text
    assert "Read this sheet" in html and "Excel workbook (.xlsx)" in html
    client.post(reverse("capture:import-sheet", args=[job.pk]), {"sheet": "Leads"})
    job.refresh_from_db()
    assert (job.sheet, job.mapping) == ("Leads", {"Email": "email"})


def test_a_csv_file_read_wrong_can_be_read_with_another_encoding(
    login: Login, marketer: User
) -> None:
    client = login(marketer)
    czech = [["email", "jméno"], *[[f"j{i}@acme.example", "Jiří Dvořák"] for i in range(5)]]
    job = uploaded(client, csv_bytes(czech, encoding="cp1250"))
    assert job.encoding == "cp1252"  # Czech reads as Western European text, wrongly
    html = client.get(reverse("capture:import-detail", args=[job.pk])).text
    assert "Jiøí Dvoøák" in html and "Not read right?" in html
    response = client.post(
        reverse("capture:import-read-as", args=[job.pk]), {"encoding": "cp1250", "delimiter": ","}
    )
    assert response.status_code == HTTPStatus.FOUND
    job.refresh_from_db()
    assert job.encoding == "cp1250"
    assert "Jiří Dvořák" in client.get(reverse("capture:import-detail", args=[job.pk])).text
    bad = client.post(
        reverse("capture:import-read-as", args=[job.pk]),
        {"encoding": "rot13", "delimiter": ","},
        follow=True,
    )
    assert "Choose one of the encodings and delimiters offered" in bad.text


def test_the_same_file_again_is_pointed_out(login: Login, marketer: User) -> None:
    client = login(marketer)
    first = uploaded(client)
    services.import_job_configure(job=first, mapping=None)
    services.import_start(job=first, enqueue=False)
    services.import_run(job_id=first.pk)
    second = uploaded(client)
    html = client.get(reverse("capture:import-detail", args=[second.pk])).text
    assert f"import #{first.pk}</a>" in html and "creates no new leads" in html
    listing = client.get(reverse("capture:imports")).text
    assert listing.count("leads.csv") == 2
