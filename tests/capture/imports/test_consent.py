"""Consent on import: the consent column (yes / no / a date; anything else rejects the row),
the import-level text and purpose, every row consented, and through the API, the CLI and the
page; a re-import records nothing twice."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from leadbase.accounts.models import User
from leadbase.capture.imports import services
from leadbase.capture.imports.consent import ConsentValueError, consent_given
from leadbase.capture.imports.tasks import import_run_task
from leadbase.capture.models import ImportJob
from leadbase.core.errors import ValidationFailed
from leadbase.leads.models import Consent, Lead
from tests.capture.imports.conftest import csv_bytes, upload
from tests.capture.imports.test_api import Api
from tests.capture.imports.test_views import mapping_post, uploaded

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]

HOSTILE = "<script>alert(1)</script> =cmd|' /C calc'!A0 ‮ Zoë 同意 🎉\r\nSecond line"
STORED = HOSTILE.replace("\r\n", "\n")
ROWS = [
    ["Email", "Name", "Opt-in"],
    ["ann@acme.example", "Ann Lee", "yes"],
    ["bob@acme.example", "Bob", "no"],
    ["cy@acme.example", "Cy", ""],
    ["dee@acme.example", "Dee", "2024-03-01"],
    ["eve@acme.example", "Eve", "maybe"],
    ["fay@acme.example", "Fay", "✓"],
    ["broken", "Gus", "yes"],
]
MAPPING = {"Email": "email", "Name": "full_name", "Opt-in": "consent"}


def run(job: ImportJob, **settings: Any) -> ImportJob:
    services.import_job_configure(job=job, mapping=settings.pop("mapping", MAPPING), **settings)
    services.import_start(job=job, enqueue=False)
    return services.import_run(job_id=job.pk)


def consents() -> list[tuple[Any, ...]]:
    rows = Consent.objects.values_list("lead__email", "purpose", "text_shown", "recorded_at")
    return sorted(rows)


def test_the_consent_column_records_consent_for_the_rows_it_marks() -> None:
    job = run(upload(csv_bytes(ROWS)), consent_text=HOSTILE, consent_purpose="newsletter")
    assert (job.created, job.rejected) == (5, 2)
    reasons = dict(job.rejections.values_list("row_number", "reason"))
    assert reasons[6].startswith("consent (column “Opt-in”): “maybe” says neither yes, no")
    assert reasons[8].startswith("email (column “Email”)")
    recorded = consents()
    assert [(email, purpose, text) for email, purpose, text, _ in recorded] == [
        ("ann@acme.example", "newsletter", STORED),
        ("dee@acme.example", "newsletter", STORED),
        ("fay@acme.example", "newsletter", STORED),
    ]
    assert recorded[1][3] == timezone.make_aware(dt.datetime(2024, 3, 1))
    assert recorded[0][3] == recorded[2][3] and recorded[0][3] > recorded[1][3]
    consent = Consent.objects.get(lead__email="ann@acme.example")
    assert consent.status == "granted" and consent.ip_address is None
    assert consent.source == f"import:leads.csv (import {job.pk})"


def test_a_reimport_of_the_file_records_no_consent_twice() -> None:
    content = csv_bytes(ROWS)
    run(upload(content), consent_text="Newsletter, monthly.")
    again = run(upload(content), consent_text="Newsletter, monthly.")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert Consent.objects.count() == 3


def test_every_row_consented() -> None:
    mapping = {"Email": "email", "Name": "full_name", "Opt-in": ""}
    job = run(upload(csv_bytes(ROWS)), mapping=mapping, consent_text="Yes.", consent_all=True)
    assert job.created == 6
    assert Consent.objects.count() == 6
    assert set(Consent.objects.values_list("purpose", flat=True)) == {"marketing_email"}


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({}, "consent_text", "is required to record consent"),
        ({"consent_text": "  \n "}, "consent_text", "is required to record consent"),
        ({"consent_text": "x", "consent_purpose": "spam"}, "consent_purpose", "must be one of"),
        ({"consent_text": "x" * 5001}, "consent_text", "the limit is 5,000"),
        ({"consent_text": "x", "consent_all": True}, "consent_all", "cannot go with"),
        ({"consent_text": "x", "mapping": {"Email": "email"}}, "consent_text", "no column is"),
    ],
)
def test_consent_settings_that_cannot_work_are_refused(
    options: dict[str, Any], field: str, message: str
) -> None:
    job = upload(csv_bytes(ROWS))
    with pytest.raises(ValidationFailed) as caught:
        services.import_job_configure(job=job, mapping=options.pop("mapping", MAPPING), **options)
    assert message in caught.value.fields[field]
    job.refresh_from_db()
    assert (job.consent_text, job.consent_all) == ("", False)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("yes", True),
        (" TRUE ", True),
        ("1", True),
        ("x", True),
        ("Ja", True),
        ("oui", True),
        ("No", False),
        ("", False),
        ("0", False),
        ("false", False),
        ("2024-03-01", timezone.make_aware(dt.datetime(2024, 3, 1))),
        ("2024-03-01T10:30:00+02:00", dt.datetime(2024, 3, 1, 8, 30, tzinfo=dt.UTC)),
    ],
)
def test_what_a_consent_cell_says(cell: str, expected: bool | dt.datetime) -> None:
    assert consent_given(cell) == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("maybe", "says neither yes, no"),
        ("01/03/2024", "says neither yes, no"),
        ("2024-02-30", "not a valid date"),
        ("2024-03-01 at noon", "not a valid date"),
        ("2999-01-01", "in the future"),
    ],
)
def test_consent_cells_that_say_nothing_clear(cell: str, message: str) -> None:
    with pytest.raises(ConsentValueError, match=message):
        consent_given(cell)


@given(st.text(max_size=40))
def test_any_cell_is_read_or_refused_with_a_reason(cell: str) -> None:
    result: bool | dt.datetime | str
    try:
        result = consent_given(cell)
    except ConsentValueError as exc:  # the only error: the row is rejected with this reason
        result = str(exc)
    if isinstance(result, str):
        assert "“" in result
    else:
        assert result in (True, False) or isinstance(result, dt.datetime)


def test_the_api_takes_the_consent_settings(
    client: Client, api_key_for: Callable[..., str], marketer: User
) -> None:
    api = Api(client, api_key_for(marketer))
    status, body = api.post(csv_bytes(ROWS), mapping=json.dumps(MAPPING))
    assert status == HTTPStatus.UNPROCESSABLE_ENTITY, body
    assert body["errors"]["consent_text"].startswith("is required to record consent")
    assert not ImportJob.objects.exists()

    status, body = api.post(
        csv_bytes(ROWS),
        mapping=json.dumps(MAPPING),
        consent_text=HOSTILE,
        consent_purpose="sales_contact",
    )
    assert status == HTTPStatus.ACCEPTED, body
    assert (body["consent_text"], body["consent_purpose"]) == (STORED, "sales_contact")
    assert body["consent_all"] is False
    import_run_task.call(body["id"])
    assert Consent.objects.filter(purpose="sales_contact", text_shown=STORED).count() == 3


def _cli(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("import", *args, "--json", stdout=out, stderr=io.StringIO())
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_the_cli_takes_the_consent_settings(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(csv_bytes(ROWS))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(MAPPING))
    with pytest.raises(CommandError, match="consent_text is required"):
        _cli(str(path), "--mapping", str(mapping))
    result = _cli(str(path), "--mapping", str(mapping), "--consent-text", "Zoë said yes 🎉")
    assert (result["created"], result["rejected"]) == (5, 2)
    assert Consent.objects.filter(text_shown="Zoë said yes 🎉").count() == 3

    other = tmp_path / "more.csv"
    other.write_bytes(csv_bytes([["Email"], ["new@acme.example"], ["ann@acme.example"]]))
    with pytest.raises(CommandError, match="no column is mapped to consent"):
        _cli(str(other), "--consent-text", "Phone calls OK", "--consent-purpose", "phone")


def test_the_cli_records_every_row_with_all_consented(tmp_path: Path) -> None:
    path = tmp_path / "more.csv"
    path.write_bytes(csv_bytes([["Email"], ["new@acme.example"], ["ann@acme.example"]]))
    result = _cli(
        str(path), "--consent-text", "Calls OK", "--consent-purpose", "phone", "--all-consented"
    )
    assert result["created"] == 2
    assert sorted(Consent.objects.values_list("lead__email", "purpose")) == [
        ("ann@acme.example", "phone"),
        ("new@acme.example", "phone"),
    ]


def test_the_page_sets_the_consent_and_shows_its_text_escaped(login: Login, marketer: User) -> None:
    client = login(marketer)
    job = uploaded(client, csv_bytes(ROWS))
    url = reverse("capture:import-dry-run", args=[job.pk])
    post = mapping_post(job, column_2="consent")
    response = client.post(url, post)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "is required to record consent" in response.text

    post |= {"consent_text": HOSTILE, "consent_purpose": "newsletter"}
    response = client.post(url, post)
    assert response.status_code == HTTPStatus.FOUND
    html = client.get(reverse("capture:import-detail", args=[job.pk])).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Consent (Newsletter) will be recorded for the rows the consent column marks" in html
    job.refresh_from_db()
    assert (job.consent_text, job.consent_purpose) == (STORED, "newsletter")
    assert not Lead.objects.exists()
