"""`leadbase demo --no-serve`: the one-command start prepares the database and can run again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from leadbase.accounts.models import User
from leadbase.leads.models import Lead

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

    second = demo("--leads", "60", "--seed", "3")

    assert "already exists" in second
    assert "already present" in second
    assert sorted(Lead.objects.values_list("pk", flat=True)) == ids
    assert User.objects.get(username="admin").check_password(password)


def test_reset_starts_over_with_the_asked_size() -> None:
    demo("--leads", "40")
    out = demo("--leads", "25", "--reset")
    assert "Admin user created" in out  # the flush removed the old admin too
    assert Lead.objects.count() == 25
