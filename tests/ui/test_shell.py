"""Sign in and out, the navigation every page shares, and the health check."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from leadbase.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def test_login_page(client: Client) -> None:
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.text
    assert '<label for="id_username">Username' in html
    assert '<label for="id_password">Password' in html
    assert 'class="topbar"' not in html  # no navigation before signing in


def test_login_with_the_form_goes_to_the_page_asked_for(client: Client, rep: User) -> None:
    response = client.post(
        reverse("accounts:login"), {"username": "rob", "password": PASSWORD, "next": "/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_says_so(client: Client, rep: User) -> None:
    response = client.post(reverse("accounts:login"), {"username": "rob", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.text
    assert "Please enter a correct username and password" in response.text


def test_login_refuses_a_foreign_next(client: Client, rep: User) -> None:
    response = client.post(
        reverse("accounts:login"),
        {"username": "rob", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_logout_is_a_post(login: Login, rep: User) -> None:
    client = login(rep)
    html = client.get("/").text
    assert f'<form method="post" action="{reverse("accounts:logout")}"' in html
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert client.get("/").status_code == 302


def test_navigation_names_the_lifecycle(login: Login, marketer: User) -> None:
    html = login(marketer).get("/").text
    assert 'class="nav-item is-active" aria-current="page">Leads</a>' in html
    assert f'<a href="{reverse("capture:forms")}" class="nav-item">Capture</a>' in html
    assert f'<a href="{reverse("scoring:rule-sets")}" class="nav-item">Scoring</a>' in html
    for coming in ["Sales", "Nurture", "Analytics"]:
        assert f'aria-disabled="true" title="Coming in a later release">{coming} <small>' in html
    assert "mia" in html
    assert '<span class="badge badge-role">Marketer</span>' in html
    # Settings is the Django admin, for staff only.
    assert reverse("admin:index") not in html


def test_admin_gets_a_settings_link(login: Login, admin_user: User) -> None:
    html = login(admin_user).get("/").text
    assert f'<a href="{reverse("admin:index")}" class="nav-item">Settings</a>' in html
    assert '<span class="badge badge-role">Admin</span>' in html


def test_healthz(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reports_a_broken_database(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db.backends.utils import CursorWrapper

    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("gone")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}
