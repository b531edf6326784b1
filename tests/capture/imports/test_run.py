"""The dry run and the real run: counts, duplicates, re-import, rejections, progress, resume,
and that the dry run's forecast is what the run then does."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pytest_django import Settings

from leadbase.capture.imports import services
from leadbase.capture.models import ImportJob, ImportRejection, ImportStatus
from leadbase.core.errors import ValidationFailed
from leadbase.leads.models import Campaign, Event, Lead, LeadChange
from leadbase.leads.services import lead_upsert
from tests.capture.imports.conftest import (
    MakeJob,
    csv_bytes,
    dry_run,
    run_import,
    upload,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

HEADER = ["E-mail", "First Name", "Last Name", "Company", "Phone", "Country", "Notes"]
ROWS = [
    HEADER,
    ["ann@acme.example", "Ann", "Lee", "Acme", "", "GB", "met at fair"],  # 2: new
    ["bob@acme.example", "Bob", "", "Acme", "+442079460958", "GB", ""],  # 3: new
    ["not-an-email", "Carl", "", "", "", "", ""],  # 4: rejected
    ["ANN@acme.example", "", "", "", "+442079460959", "", "second row"],  # 5: duplicate of 2
    ["", "", "", "", "", "", "only a note"],  # 6: rejected, no email or phone
    ["dee@acme.example", "Dee", "X" * 101, "", "", "", ""],  # 7: rejected, name too long
    ["", "Bobby", "", "", "+44 20 7946 0958", "", ""],  # 8: duplicate of 3 (by phone)
]


def test_dry_run_forecasts_and_writes_nothing(make_job: MakeJob) -> None:
    job = make_job(csv_bytes(ROWS))
    summary = dry_run(job)
    assert summary["state"] == "done"
    assert {k: summary[k] for k in ("rows", "create", "update", "duplicates", "rejected")} == {
        "rows": 7,
        "create": 2,
        "update": 0,
        "duplicates": 2,
        "rejected": 3,
    }
    assert [e["row"] for e in summary["errors"]] == [4, 6, 7]
    assert summary["errors"][0]["reason"].startswith(
        "email (column “E-mail”): is not a valid email address"
    )
    assert summary["errors"][2]["reason"] == (
        "last_name (column “Last Name”): is 101 characters long; the limit is 100"
    )
    assert job.status == ImportStatus.ANALYSED and job.total_rows == 7
    assert not Lead.objects.exists() and not Campaign.objects.exists()
    assert not ImportRejection.objects.exists()


def test_import_creates_the_leads_and_counts_every_row(make_job: MakeJob) -> None:
    job = run_import(make_job(csv_bytes(ROWS)), campaign="Fair 2026")
    assert job.status == ImportStatus.DONE, job.error
    counts = (job.created, job.updated, job.unchanged, job.duplicates, job.rejected)
    assert counts == (2, 0, 0, 2, 3)
    assert job.processed_rows == job.total_rows == 7
    ann = Lead.objects.get(email="ann@acme.example")
    assert (ann.first_name, ann.last_name, ann.country) == ("Ann", "Lee", "GB")
    assert ann.phone == "+442079460959"  # filled in by the duplicate row
    assert ann.attributes == {"notes": "met at fair"}  # the differing note is kept as history
    assert LeadChange.objects.filter(lead=ann, field="attributes.notes").exists()
    assert ann.source_channel == "import"
    assert ann.source_detail == "import:leads.csv"
    assert ann.campaign is not None and ann.campaign.name == "Fair 2026"
    assert job.campaign == ann.campaign
    bob = Lead.objects.get(email="bob@acme.example")
    assert bob.first_name == "Bob"  # "Bobby" differs: not applied, kept in the history
    assert Lead.objects.count() == 2


def test_new_leads_get_one_lead_created_event_and_updates_none(make_job: MakeJob) -> None:
    run_import(make_job(csv_bytes(ROWS)))
    events = Event.objects.filter(type="lead_created")
    assert events.count() == 2
    assert set(events.values_list("source", flat=True)) == {"import:leads.csv"}
    assert Event.objects.count() == 2


def test_rejected_rows_are_kept_with_reason_and_values(make_job: MakeJob) -> None:
    job = run_import(make_job(csv_bytes(ROWS)))
    rejections = list(ImportRejection.objects.filter(job=job).order_by("row_number"))
    assert [r.row_number for r in rejections] == [4, 6, 7]
    assert rejections[0].values == dict(zip(HEADER, ROWS[3], strict=True))
    assert rejections[1].reason == (
        "email (column “E-mail”): an email address or a phone number is required"
    )


def test_importing_the_same_file_again_creates_nothing(make_job: MakeJob) -> None:
    content = csv_bytes(ROWS)
    first = run_import(make_job(content))
    leads, events = Lead.objects.count(), Event.objects.count()
    second = run_import(make_job(content))
    assert first.created == 2
    assert second.created == 0
    assert (second.updated, second.unchanged, second.duplicates) == (0, 2, 2)
    assert Lead.objects.count() == leads and Event.objects.count() == events
    assert services.import_source(second) == "import:leads.csv"


def test_ragged_rows_are_rejected_and_the_rest_imported(make_job: MakeJob) -> None:
    content = (
        b"email,first_name,city\n"
        b"a@acme.example,Ann,Paris\n"
        b"b@acme.example,Bob,Lyon,extra\n"  # one cell too many
        b"c@acme.example,Cy\n"  # one too few
        b"d@acme.example,Dee,Nice,,\n"  # blank extra cells are fine
    )
    job = run_import(make_job(content))
    assert (job.created, job.rejected) == (2, 2)
    reasons = dict(job.rejections.values_list("row_number", "reason"))
    assert reasons[3].startswith("has 4 cells, more than the 3 columns of the header")
    assert reasons[4].startswith("has 2 cells, fewer than the 3 columns")
    assert job.rejections.get(row_number=3).values == {
        "email": "b@acme.example",
        "first_name": "Bob",
        "city": "Lyon",
        "(extra cell 1)": "extra",
    }


def test_formulas_and_markup_are_stored_as_the_text_they_are(make_job: MakeJob) -> None:
    content = csv_bytes(
        [
            ["email", "first_name", "company", "notes"],
            ["f@acme.example", '=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1)"],
            ["s@acme.example", "<script>alert(1)</script>", "-2+3", "\tx"],
        ]
    )
    run_import(make_job(content))
    f = Lead.objects.get(email="f@acme.example")
    assert f.first_name == '=HYPERLINK("http://x")'
    assert f.attributes == {"notes": "@SUM(1)"}
    s = Lead.objects.get(email="s@acme.example")
    assert s.first_name == "<script>alert(1)</script>"


def test_unicode_and_internationalised_emails(make_job: MakeJob) -> None:
    content = csv_bytes(
        [
            ["email", "first name", "city"],
            ["Zoë@Bücher.example", "Zoë", "Zürich"],
            ["ann@xn--bcher-kva.example", "Ann", "Köln"],
            ["李@例え.example", "李", "東京"],
        ],
        encoding="utf-16",
    )
    job = run_import(make_job(content))
    assert job.created == 3, list(job.rejections.values_list("reason", flat=True))
    emails = set(Lead.objects.values_list("email", flat=True))
    assert emails == {"zoë@bücher.example", "ann@bücher.example", "李@例え.example"}


def test_xlsx_import_of_a_chosen_sheet(make_job: MakeJob) -> None:
    content = xlsx_bytes(
        {
            "Notes": [["nothing here"]],
            "Leads": [
                ["Email", "Mobile", "Employees", "Country"],
                ["x@acme.example", "+442079460958", 250, "gb"],
                ["y@beta.example", 3012345678, 12, "DE"],  # a number: read with the country
            ],
        }
    )
    job = make_job(content, "leads.xlsx", sheet="Leads")
    assert (job.format, job.sheet) == ("xlsx", "Leads")
    job = run_import(job)
    assert (job.created, job.rejected) == (2, 0), list(job.rejections.values("reason"))
    y = Lead.objects.select_related("company").get(email="y@beta.example")
    assert y.phone == "+493012345678"
    assert y.company is not None and y.company.employee_count == 12


def test_choosing_another_sheet_reads_its_columns(make_job: MakeJob) -> None:
    job = make_job(xlsx_bytes({"A": [["email"], ["a@acme.example"]], "B": [["Phone"], ["+1"]]}))
    services.import_job_choose_sheet(job=job, sheet="B")
    job.refresh_from_db()
    assert job.sheet == "B"
    assert job.analysis["headers"] == ["Phone"]
    assert job.mapping == {"Phone": "phone"}


def test_progress_is_stored_after_every_chunk(
    make_job: MakeJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CHUNK", 3)
    rows = [["email"]] + [[f"p{i}@acme.example"] for i in range(10)]
    seen: list[tuple[int, int, int]] = []

    def progress(job: ImportJob) -> None:
        stored = ImportJob.objects.get(pk=job.pk)  # what the UI polls
        seen.append((stored.processed_rows, stored.created, stored.total_rows))

    run_import(make_job(csv_bytes(rows)), progress=progress)
    assert seen == [(3, 3, 10), (6, 6, 10), (9, 9, 10), (10, 10, 10)]


class Crash(BaseException):
    """Stands for the worker dying (not an Exception: the run cannot catch it)."""


def test_an_interrupted_import_resumes_after_its_last_chunk(
    make_job: MakeJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CHUNK", 4)
    rows = [["email"]] + [[f"p{i}@acme.example"] for i in range(10)] + [["bad"]]
    job = make_job(csv_bytes(rows))
    services.import_job_configure(job=job, mapping=None)
    services.import_start(job=job, enqueue=False)

    def crash(job: ImportJob) -> None:
        raise Crash

    with pytest.raises(Crash):
        services.import_run(job_id=job.pk, progress=crash)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created) == (ImportStatus.RUNNING, 4, 4)

    job = services.import_run(job_id=job.pk)  # as the task, run again by another worker
    assert (job.status, job.processed_rows, job.created, job.rejected) == ("done", 11, 10, 1)
    assert Lead.objects.count() == 10
    assert job.rejections.count() == 1


def test_running_a_finished_import_again_changes_nothing(make_job: MakeJob) -> None:
    job = run_import(make_job(csv_bytes(ROWS)))
    again = services.import_run(job_id=job.pk)
    assert (again.status, again.created, again.processed_rows) == ("done", 2, 7)
    assert Lead.objects.count() == 2


def test_a_file_unreadable_part_way_fails_keeping_the_rows_before(make_job: MakeJob) -> None:
    good = b"".join(b"p%d@acme.example,x\n" % i for i in range(12))
    content = b"email,note\n" + good + b'bad@acme.example,"never closed\n' + b"y" * 140_000
    job = run_import(make_job(content))
    assert job.status == ImportStatus.FAILED
    assert "Row 14 cannot be read" in job.error
    assert (job.created, job.total_rows) == (12, 0)  # the count stopped at that row too
    assert Lead.objects.count() == 12


def test_an_unreadable_row_among_the_first_ones_refuses_the_upload(make_job: MakeJob) -> None:
    content = b'email,note\na@acme.example,"never closed\n' + b"y" * 140_000
    with pytest.raises(ValidationFailed, match="Row 2 cannot be read"):
        make_job(content)


def test_a_header_without_rows_is_refused(make_job: MakeJob) -> None:
    job = make_job(b"email,first_name\n")
    with pytest.raises(ValidationFailed, match="header row but no data rows"):
        dry_run(job)
    job.refresh_from_db()
    assert job.dry_run["state"] == "failed"


def test_settings_are_checked(make_job: MakeJob) -> None:
    job = make_job(csv_bytes(ROWS))
    with pytest.raises(ValidationFailed) as caught:
        services.import_job_configure(job=job, mapping=None, source="s" * 65, campaign="c" * 201)
    assert caught.value.fields.keys() == {"source", "campaign"}


def test_a_started_import_cannot_be_changed(make_job: MakeJob) -> None:
    job = make_job(csv_bytes(ROWS))
    services.import_start(job=job, enqueue=False)
    with pytest.raises(services.ImportStateError, match="is queued"):
        services.import_job_configure(job=job, mapping=None)
    with pytest.raises(services.ImportStateError):
        services.import_start(job=job, enqueue=False)


def test_a_file_over_the_limit_is_refused_and_not_stored(
    settings: Settings, make_job: MakeJob
) -> None:
    settings.LEADBASE_IMPORT_MAX_BYTES = 100
    with pytest.raises(services.ImportTooLarge, match="the limit is 0 MB"):
        make_job(csv_bytes(ROWS))
    assert not ImportJob.objects.exists()


def test_an_unreadable_upload_leaves_no_job_and_no_file(make_job: MakeJob, media_root: Any) -> None:
    with pytest.raises(ValidationFailed, match="binary data"):
        make_job(bytes(range(256)) * 10, "x.csv")
    assert not ImportJob.objects.exists()
    assert not any(p.is_file() for p in media_root.rglob("*"))


# --- The forecast is what the run does -----------------------------------------------------

EMAILS = ["a@acme.example", "b@acme.example", "B@Acme.example", "c@other.example", "", "oops"]
PHONES = ["+442079460958", "+442079460959", "020 7946 0960", "", "12"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    stored=st.lists(
        st.tuples(st.sampled_from([*EMAILS[:4], ""]), st.sampled_from([*PHONES[:2], ""])),
        max_size=3,
    ),
    rows=st.lists(
        st.tuples(
            st.sampled_from(EMAILS),
            st.sampled_from(PHONES),
            st.sampled_from(["", "GB"]),
            st.sampled_from(["Ann", "Bob", ""]),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_the_dry_run_forecasts_exactly_what_the_run_does(
    stored: list[tuple[str, str]], rows: list[tuple[str, str, str, str]]
) -> None:
    assume(any(any(row) for row in rows))  # blank rows are skipped, and a file needs one
    with transaction.atomic():
        for email, phone in stored:
            if email or phone:
                lead_upsert(data={"email": email, "phone": phone}, source="before")
        content = csv_bytes([["email", "phone", "country", "first_name"], *rows])
        job = upload(content)
        forecast = dry_run(job)
        done = run_import(job)
        assert done.status == ImportStatus.DONE, done.error
        actual = (done.created, done.updated + done.unchanged, done.duplicates, done.rejected)
        expected = tuple(forecast[k] for k in ("create", "update", "duplicates", "rejected"))
        assert actual == expected, (stored, rows)
        assert done.processed_rows == sum(expected) == sum(1 for row in rows if any(row))
        transaction.set_rollback(True)
