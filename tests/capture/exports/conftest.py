"""Leads with hostile values and readers that parse what an export produced."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from python_calamine import CalamineWorkbook

from leadbase.accounts.models import User
from leadbase.leads.models import Lead

HOSTILE: dict[str, str] = {
    "first_name": '=HYPERLINK("http://evil.example","click")',
    "last_name": "+1+1",
    "job_title": '-2+3\nsecond line, with "quotes"',
    "department": "@SUM(A1:A9)",
    "city": "\tcmd",
    "region": "\r=1",
    "source_detail": "<script>alert('x')</script>",
    "utm_campaign": "\uff1d1+1",  # full-width equals sign
    "utm_term": "Zoë 李 🚀",
}


def login_as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response: Any) -> bytes:
    assert isinstance(response, StreamingHttpResponse), type(response)
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_xlsx(data: bytes) -> list[dict[str, Any]]:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Leads")
    rows = sheet.to_python(skip_empty_area=False)
    header = [str(name) for name in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def emails(rows: Iterable[dict[str, Any]]) -> list[str]:
    return [str(row["email"]) for row in rows]


@pytest.fixture
def hostile_lead(make_lead: Callable[..., Lead], rep: User) -> Lead:
    """A lead of `rep` whose text fields hold formulas, line breaks, markup and Unicode (set
    directly, as any import or old data could have left them), and a negative score."""
    lead = make_lead(owner=rep, email="eve@example.com", company="=cmd|' /C calc'!A0")
    Lead.objects.filter(pk=lead.pk).update(
        **HOSTILE, total_score=-5, fit_score=-7.5, attributes={"note": "=1+1", "x": [1]}
    )
    lead.refresh_from_db()
    return lead
