"""`leadbase export`: the same export from the command line, with the same filters."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leadbase.accounts.models import User
from leadbase.leads.models import Lead

from .conftest import HOSTILE, emails, read_csv, read_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(make_lead: Callable[..., Lead], rep: User, other_rep: User) -> list[Lead]:
    made = [
        make_lead(owner=rep, email="a@acme.example"),
        make_lead(owner=other_rep, email="b@acme.example"),
        make_lead(email="c@acme.example"),
    ]
    Lead.objects.filter(pk=made[0].pk).update(
        temperature="hot", total_score=80, fit_grade="A", is_prospect=True
    )
    Lead.objects.filter(pk=made[1].pk).update(fit_grade="C")
    Lead.objects.filter(pk=made[2].pk).update(archived=True)
    return made


def test_csv_goes_to_standard_output_as_bytes(
    leads: list[Lead], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    call_command("export")
    rows = read_csv(capsysbinary.readouterr().out)
    assert emails(rows) == ["b@acme.example", "a@acme.example"]


def test_csv_to_a_text_stream(leads: list[Lead]) -> None:
    out = io.StringIO()
    call_command("export", "--format", "csv", "--temperature", "hot", stdout=out)
    assert emails(read_csv(out.getvalue().encode())) == ["a@acme.example"]


def test_xlsx_to_a_file_with_a_summary_on_stderr(
    leads: list[Lead], hostile_lead: Lead, tmp_path: Path
) -> None:
    target = tmp_path / "leads.xlsx"
    err = io.StringIO()
    call_command("export", "--format", "xlsx", "--out", str(target), stderr=err)
    rows = read_xlsx(target.read_bytes())
    assert emails(rows) == ["eve@example.com", "b@acme.example", "a@acme.example"]
    assert rows[0]["first_name"] == "'" + HOSTILE["first_name"]
    assert f"Exported 3 leads to {target}" in err.getvalue()
    assert not list(tmp_path.glob(".*partial")), "no partial file left behind"
    # Text cells are strings, never formulas.
    with zipfile.ZipFile(target) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--user", "rob"], ["a@acme.example"]),
        (["--owner", "rita"], ["b@acme.example"]),
        (["--owner", "unassigned", "--archived"], ["c@acme.example"]),
        (["--min-score", "50"], ["a@acme.example"]),
        (["--q", "b@acme"], ["b@acme.example"]),
        (["--sort", "created_at"], ["a@acme.example", "b@acme.example"]),
        (["--grade", "a"], ["a@acme.example"]),
        (["--grade", "A", "--grade", "C"], ["b@acme.example", "a@acme.example"]),
        (["--prospect", "yes"], ["a@acme.example"]),
        (["--prospect", "no"], ["b@acme.example"]),
    ],
)
def test_filters_and_visibility(
    leads: list[Lead], tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    target = tmp_path / "out.csv"
    call_command("export", "--out", str(target), *args, stderr=io.StringIO())
    assert emails(read_csv(target.read_bytes())) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xlsx"], "give --out FILE"),
        (["--temperature", "boiling"], "--temperature: Select a valid choice"),
        (["--min-score", "x"], "--min-score: Enter a number"),
        (["--user", "nobody"], "No user named 'nobody'"),
        (["--owner", "nobody"], "--owner: no active user named 'nobody'"),
        (["--grade", "E"], "--grade: Select a valid choice"),
        (["--prospect", "maybe"], "--prospect: Select a valid choice"),
    ],
)
def test_bad_arguments_say_what_to_fix(leads: list[Lead], args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, stdout=io.StringIO())
