"""`leadbase import`: the --json contract, --dry-run, --mapping, --sheet, and exit codes."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from leadbase.capture.models import ImportJob, ImportStatus
from leadbase.leads.models import Lead
from tests.capture.imports.conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    ["Email", "Vorname", "Firma", "Lieblingsfarbe"],
    ["ann@acme.example", "Ann", "Acme", "blau"],
    ["nope", "Bob", "", ""],
    ["ann@acme.example", "Annie", "", "rot"],
    ["cy@acme.example", "Cy", "", ""],
]
KEYS = {"rows", "created", "updated", "unchanged", "duplicates", "rejected", "errors"}


def leadbase_import(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("import", *args, "--json", stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert text.count("\n") <= 1, text  # one JSON object, nothing else
    result: dict[str, Any] = json.loads(text)
    return result


def write(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_json_summary_of_an_import(tmp_path: Path) -> None:
    result = leadbase_import(write(tmp_path, "leute.csv", csv_bytes(ROWS, delimiter=";")))
    assert result.keys() >= KEYS
    assert {k: result[k] for k in KEYS - {"errors"}} == {
        "rows": 4,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "rejected": 1,
    }
    assert result["errors"] == [
        {"row": 3, "reason": result["errors"][0]["reason"]},
    ]
    assert result["errors"][0]["reason"].startswith("email (column “Email”): is not a valid")
    assert (result["status"], result["dry_run"], result["source"]) == (
        "done",
        False,
        "import:leute.csv",
    )
    ann = Lead.objects.get(email="ann@acme.example")
    assert ann.attributes == {"lieblingsfarbe": "blau"}
    job = ImportJob.objects.get(pk=result["import_id"])
    assert job.created_by is None and job.status == ImportStatus.DONE


def test_dry_run_writes_no_lead(tmp_path: Path) -> None:
    result = leadbase_import(write(tmp_path, "x.csv", csv_bytes(ROWS)), "--dry-run")
    assert (result["dry_run"], result["created"], result["duplicates"]) == (True, 2, 1)
    assert result["errors"][0]["row"] == 3
    assert not Lead.objects.exists()


def test_mapping_file_source_and_campaign(tmp_path: Path) -> None:
    mapping = {"Email": "email", "Vorname": "last_name", "Firma": "", "Lieblingsfarbe": ""}
    mapping_file = write(tmp_path, "m.json", json.dumps(mapping).encode())
    result = leadbase_import(
        write(tmp_path, "x.csv", csv_bytes(ROWS)),
        "--mapping",
        mapping_file,
        "--source",
        "trade fair",
        "--campaign",
        "Fair 2026",
    )
    assert result["created"] == 2 and result["source"] == "trade fair"
    ann = Lead.objects.select_related("campaign").get(email="ann@acme.example")
    assert (ann.first_name, ann.last_name, ann.attributes) == ("", "Ann", {})
    assert ann.campaign is not None and ann.campaign.name == "Fair 2026"
    assert ann.source_detail == "trade fair"


def test_encoding_and_delimiter_can_be_given(tmp_path: Path) -> None:
    content = csv_bytes([["email", "jméno"], ["j@acme.example", "Jiří"]], delimiter="|")
    path = write(tmp_path, "cz.csv", content.decode().encode("cp1250"))
    leadbase_import(path, "--encoding", "cp1250", "--delimiter", "|")
    assert Lead.objects.get().attributes == {"jmeno": "Jiří"}


def test_sheet_of_a_workbook(tmp_path: Path) -> None:
    content = xlsx_bytes({"Intro": [["Read me"]], "Leads": [["E-mail"], ["x@acme.example"]]})
    result = leadbase_import(write(tmp_path, "book.xlsx", content), "--sheet", "Leads")
    assert result["created"] == 1


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (b"", (), "is empty"),
        (b"Email\n", (), "no data rows"),
        (csv_bytes(ROWS), ("--mapping", "missing.json"), "Cannot read the mapping file"),
        (csv_bytes(ROWS), ("--sheet", "Leads"), "A CSV file has no sheets"),
        (b"Name,Notes\nAnn,x\n", (), "maps no column to email or phone"),
    ],
)
def test_file_level_errors_are_command_errors_with_a_json_error(
    tmp_path: Path, content: bytes, extra: tuple[str, ...], message: str
) -> None:
    path = write(tmp_path, "x.csv", content)
    args = [a if a != "missing.json" else str(tmp_path / a) for a in extra]
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("import", path, *args, "--json", stdout=out, stderr=io.StringIO())
    assert message in json.loads(out.getvalue())["error"]


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="There is no file at"):
        call_command("import", str(tmp_path / "nope.csv"), stdout=io.StringIO())


def test_plain_output_lists_the_rejected_rows(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("import", write(tmp_path, "x.csv", csv_bytes(ROWS)), stdout=out)
    text = out.getvalue()
    assert "Imported x.csv" in text and "2 created" in text and "1 rejected" in text
    assert "  row 3: email (column “Email”)" in text


def subprocess_database_url(tmp_path: Path) -> str:
    """A database the subprocess can use with the test database's tables: on SQLite a copy
    of the in-memory test database (no migrations to run again), else the test database."""
    connection.ensure_connection()
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "cli.sqlite3"
        with sqlite3.connect(path) as target:
            connection.connection.backup(target)
        return f"sqlite:///{path}"
    user, password = quote(settings["USER"] or "", safe=""), quote(settings["PASSWORD"] or "")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{credentials}{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_the_leadbase_command_prints_only_json_and_exits_by_outcome(tmp_path: Path) -> None:
    """The installed `leadbase` script in a process of its own."""
    leadbase = Path(sys.executable).with_name("leadbase")
    env = {
        **os.environ,
        "LEADBASE_ENV": "test",
        "LEADBASE_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": subprocess_database_url(tmp_path),
    }
    good = write(tmp_path, "good.csv", csv_bytes(ROWS))
    done = subprocess.run(
        [leadbase, "import", good, "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert (result["created"], result["rejected"]) == (2, 1)

    bad = write(tmp_path, "bad.csv", b"\x00\x01\x02binary\xff" * 100)
    failed = subprocess.run(
        [leadbase, "import", bad, "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert failed.returncode == 1
    assert "binary data" in json.loads(failed.stdout)["error"]
    assert "binary data" in failed.stderr
