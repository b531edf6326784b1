"""Lead.name_key: what same-name duplicate suggestions compare, the same on SQLite and
PostgreSQL, for non-ASCII names too, and kept up to date by every write."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import reverse

from leadbase.accounts.models import User
from leadbase.leads.bulk import lead_upsert_many
from leadbase.leads.bulk_companies import leads_named
from leadbase.leads.demo_data import load_demo_data
from leadbase.leads.merge_rules import name_key_for
from leadbase.leads.models import DuplicateSuggestion, Lead
from leadbase.leads.services import lead_merge, lead_update, lead_upsert
from tests.ui.test_admin import change_data

pytestmark = pytest.mark.django_db


def _pairs() -> set[tuple[str, str]]:
    return {(s.lead.email, s.candidate.email) for s in DuplicateSuggestion.objects.all()}


def _key(lead: Lead) -> str:
    lead.refresh_from_db()
    return lead.name_key


def test_name_key_is_both_names_case_folded_or_nothing() -> None:
    assert name_key_for("ÉLODIE", "Straße") == "élodie\tstrasse"
    assert name_key_for("élodie", "STRASSE") == name_key_for("Élodie", "straße")
    assert name_key_for("Mary Ann", "Lee") != name_key_for("Mary", "Ann Lee")
    assert name_key_for("Ann", "") == name_key_for("", "Lee") == ""


ELODIE = {"email": "elodie@acme.example", "first_name": "Élodie", "last_name": "Duré"}
ELODIE_AGAIN = {"email": "e.dure@acme.example", "first_name": "ÉLODIE", "last_name": "DURÉ"}


def test_non_ascii_names_differing_in_case_are_suggested_row_by_row() -> None:
    """iexact, which this used to use, is ASCII-only on SQLite: É and é were two names."""
    first = lead_upsert(data=ELODIE, source="form")
    second = lead_upsert(data=ELODIE_AGAIN, source="import")
    assert second.duplicate_suggestions == (first.lead.pk,)
    assert _pairs() == {("e.dure@acme.example", "elodie@acme.example")}


def test_non_ascii_names_differing_in_case_are_suggested_by_the_batch_too() -> None:
    lead_upsert_many([ELODIE, ELODIE_AGAIN], source="import")
    assert _pairs() == {("e.dure@acme.example", "elodie@acme.example")}


def test_the_batch_finds_a_stored_lead_by_its_non_ascii_name() -> None:
    lead_upsert(data=ELODIE, source="form")
    lead_upsert(data={"email": "other@acme.example", "first_name": "Élodie"}, source="form")
    lead_upsert_many([ELODIE_AGAIN], source="import")
    assert _pairs() == {("e.dure@acme.example", "elodie@acme.example")}


def test_name_key_is_set_on_create_and_when_an_upsert_fills_a_name() -> None:
    lead = lead_upsert(data={"email": "ann@acme.example", "first_name": "Ann"}, source="t").lead
    assert _key(lead) == ""
    lead_upsert(data={"email": "ann@acme.example", "last_name": "LÉE"}, source="t")
    assert _key(lead) == "ann\tlée"


def test_name_key_is_set_when_the_batch_creates_or_fills_a_name() -> None:
    lead_upsert_many([{"email": "bob@acme.example", "first_name": "Bob"}], source="t")
    lead_upsert_many(
        [{"email": "ann@acme.example", "first_name": "Ann", "last_name": "Ö"}], source="t"
    )
    lead_upsert_many([{"email": "bob@acme.example", "last_name": "Smith"}], source="t")
    keys = dict(Lead.objects.values_list("email", "name_key"))
    assert keys == {"bob@acme.example": "bob\tsmith", "ann@acme.example": "ann\tö"}


def test_name_key_follows_an_edit() -> None:
    lead = lead_upsert(data={**ELODIE, "email": "e@acme.example"}, source="t").lead
    lead_update(lead=lead, data={"first_name": "Zoë"}, actor=None)
    assert _key(lead) == "zoë\tduré"
    lead_update(lead=lead, data={"last_name": ""}, actor=None)  # "" clears it
    assert _key(lead) == ""


def test_name_key_follows_a_merge() -> None:
    primary = lead_upsert(data={"email": "a@acme.example", "first_name": "Ann"}, source="t").lead
    duplicate = lead_upsert(
        data={"email": "b@acme.example", "first_name": "Anna", "last_name": "Żak"}, source="t"
    ).lead
    merged = lead_merge(primary=primary, duplicate=duplicate)
    assert (merged.first_name, _key(merged)) == ("Ann", "ann\tżak")


def test_name_key_follows_an_admin_edit(admin_user: User) -> None:
    lead = lead_upsert(data={**ELODIE, "company": "Globex"}, source="t").lead
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    response = client.post(url, change_data(lead, first_name="Émile", company=""))
    errors = re.findall(r'class="errorlist[^>]*>(.*?)</ul>', response.text, re.S)
    assert response.status_code == 302, errors
    assert _key(lead) == "émile\tduré"
    assert lead.company is None and "globex" not in lead.search_text


def test_demo_data_has_name_keys() -> None:
    load_demo_data(leads=60, seed=3, now=datetime(2025, 6, 1, tzinfo=UTC))
    leads = list(Lead.objects.values_list("first_name", "last_name", "name_key"))
    assert leads and all(key == name_key_for(first, last) for first, last, key in leads)
    assert any(key for _, _, key in leads)


def test_the_migration_fills_name_keys_of_stored_leads(monkeypatch: pytest.MonkeyPatch) -> None:
    migration = importlib.import_module("leadbase.leads.migrations.0003_fill_lead_name_key")
    monkeypatch.setattr(migration, "BATCH", 2)  # several batches
    rows: list[dict[str, Any]] = [
        {"email": f"p{i}@acme.example", "first_name": f"Ä{i}", "last_name": "Ö"} for i in range(5)
    ]
    rows.append({"email": "nameless@acme.example", "first_name": "Solo"})
    lead_upsert_many(rows, source="t")
    Lead.objects.update(name_key="")
    migration.fill_name_keys(apps, SimpleNamespace(connection=connection))
    keys = dict(Lead.objects.values_list("email", "name_key"))
    assert keys == {
        **{f"p{i}@acme.example": f"ä{i}\tö" for i in range(5)},
        "nameless@acme.example": "",
    }


def test_the_batch_reads_only_the_stored_leads_with_a_name_of_the_batch() -> None:
    for i, (first, last) in enumerate([("Ann", "Lee"), ("Bob", "Lee"), ("ANN", "LEE")]):
        data = {"email": f"p{i}@acme.example", "first_name": first, "last_name": last}
        lead_upsert(data=data, source="t")
    lead_upsert(
        data={"email": "ann@globex.example", "first_name": "Ann", "last_name": "Lee"}, source="t"
    )
    acme = Lead.objects.get(email="p0@acme.example").company_id
    assert acme is not None
    found = leads_named({(acme, "ann\tlee"), (acme, "zoë\tlee")})
    emails = dict(Lead.objects.values_list("pk", "email"))
    assert sorted(emails[pk] for pk, _, _ in found) == ["p0@acme.example", "p2@acme.example"]
    assert {(company, key) for _, company, key in found} == {(acme, "ann\tlee")}
