"""`leadbase demo --no-serve`: the one-command start prepares the database and can run again."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from leadbase.accounts.models import User
from leadbase.capture.models import Form, WebhookSource
from leadbase.leads.models import Lead, LifecycleTransition
from leadbase.scoring.models import ModelStatus, PredictiveModel

pytestmark = pytest.mark.django_db(transaction=True)


def demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--no-serve", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_demo_prepares_admin_and_data_then_keeps_them_on_a_second_run() -> None:
    first = demo("--leads", "60", "--seed", "3")
    assert "Admin user created: admin / " in first
    password = first.split("Admin user created: admin / ", 1)[1].split()[0]
    assert User.objects.get(username="admin").check_password(password)
    assert Lead.objects.count() == 60
    ids = sorted(Lead.objects.values_list("pk", flat=True))
    assert sorted(Form.objects.values_list("slug", flat=True)) == ["demo", "newsletter"]
    assert Form.objects.get(slug="newsletter").double_opt_in
    # every demo lead is scored with the default rule set, keeping the demo's own classes
    assert "Scored 60 leads" in first
    assert not Lead.objects.filter(fit_grade="").exists()
    assert Lead.objects.filter(engagement_score__gt=0).exists()
    assert not LifecycleTransition.objects.filter(actor_label__startswith="scoring v").exists()
    # the prospect flag follows fit (ideal-customer fit 60 in the default rule set)
    assert not Lead.objects.filter(is_prospect=True, fit_score__lt=55).exists()
    assert not Lead.objects.filter(is_prospect=False, fit_score__gte=60).exists()
    assert WebhookSource.objects.count() == 1
    assert "sample forms" in first
    # a first predictive model is trained; 60 leads are too few, and the demo says so plainly
    [model] = PredictiveModel.objects.all()
    assert model.status == ModelStatus.FAILED
    assert f"Predictive model v1: {model.error}" in first and "at least" in model.error

    second = demo("--leads", "60", "--seed", "3")

    assert "already exists" in second
    assert "already present" in second
    assert sorted(Lead.objects.values_list("pk", flat=True)) == ids
    assert Form.objects.count() == 2 and WebhookSource.objects.count() == 1
    assert "sample forms" not in second
    assert PredictiveModel.objects.count() == 1  # not trained again
    assert User.objects.get(username="admin").check_password(password)


def test_reset_starts_over_with_the_asked_size() -> None:
    demo("--leads", "40")
    out = demo("--leads", "25", "--reset")
    assert "Admin user created" in out  # the flush removed the old admin too
    assert Lead.objects.count() == 25


@pytest.mark.parametrize("leads", ["-1", "-5000"])
def test_a_negative_number_of_leads_is_refused_before_anything_is_done(leads: str) -> None:
    out, err = StringIO(), StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("demo", "--no-serve", "--leads", leads, stdout=out, stderr=err)

    assert exit_.value.code == 2
    assert err.getvalue().strip() == "--leads must be 0 or more."
    assert out.getvalue() == ""
    assert not User.objects.exists()  # no admin made, no data loaded


@pytest.mark.parametrize(
    ("leads", "message"),
    [
        ("-1", "--leads must be 0 or more."),
        ("many", "argument --leads: invalid int value: 'many'"),
        ("1.5", "argument --leads: invalid int value: '1.5'"),
    ],
)
def test_the_leadbase_command_refuses_bad_lead_counts_with_exit_status_2(
    tmp_path: Path, leads: str, message: str
) -> None:
    database = tmp_path / "untouched.sqlite3"
    env = {**os.environ, "LEADBASE_ENV": "test", "DATABASE_URL": f"sqlite:///{database}"}

    done = subprocess.run(
        [sys.executable, "-m", "leadbase.cli", "demo", "--no-serve", "--leads", leads],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    assert message in done.stderr
    assert "Admin user" not in done.stdout
    assert _tables(database) == []  # nothing was migrated


def _tables(database: Path) -> list[str]:
    if not database.exists():
        return []
    with closing(sqlite3.connect(database)) as db:
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def test_zero_leads_prepares_an_empty_database_that_a_later_run_fills() -> None:
    out = demo("--leads", "0")
    assert "Admin user created: admin / " in out
    assert "Loaded 0 leads" in out
    assert not Lead.objects.exists()

    out = demo("--leads", "20")
    assert "Loaded 20 leads" in out
    assert Lead.objects.count() == 20


def test_the_sample_forms_are_served_and_the_webhook_source_is_signed(client: Client) -> None:
    demo("--leads", "0")
    for slug in ("newsletter", "demo"):
        page = client.get(f"/f/{slug}")
        assert page.status_code == 200
        assert b'name="email"' in page.content
    assert WebhookSource.objects.get().secret  # generated: the source never accepts unsigned
