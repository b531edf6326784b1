"""Shared fixtures: named users for each role, API keys, and small lead factories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadbase.accounts.models import Role, User
from leadbase.accounts.services import apikey_create
from leadbase.leads.models import Lead
from leadbase.leads.services import lead_upsert
from leadbase.scoring.rule_sets import active_forget

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _forget_active_rule_set() -> None:
    """Each process keeps the rule set in force for a moment; a test's database is new."""
    active_forget()


def make_user(username: str, role: str) -> User:
    user = User(username=username, role=role, email=f"{username}@leadbase.test")
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def admin_user(db: None) -> User:
    return make_user("admin", Role.ADMIN)


@pytest.fixture
def marketer(db: None) -> User:
    return make_user("mia", Role.MARKETER)


@pytest.fixture
def rep(db: None) -> User:
    return make_user("rob", Role.SALES_REP)


@pytest.fixture
def other_rep(db: None) -> User:
    return make_user("rita", Role.SALES_REP)


@pytest.fixture
def viewer(db: None) -> User:
    return make_user("vic", Role.VIEWER)


@pytest.fixture
def api_key_for() -> Callable[..., str]:
    def factory(user: User, scopes: str = "read,write,ingest") -> str:
        return apikey_create(user=user, scopes=scopes).plain

    return factory


@pytest.fixture
def make_lead(db: None) -> Callable[..., Lead]:
    counter = iter(range(1, 1_000_000))

    def factory(owner: User | None = None, **data: Any) -> Lead:
        data.setdefault("email", f"lead{next(counter)}@acme-{len(data)}.example")
        lead = lead_upsert(data=data, source="test").lead
        if owner is not None:
            lead.owner = owner
            lead.save(update_fields=["owner"])
        return lead

    return factory
