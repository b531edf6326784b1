"""The `leadbase` management commands for users and API keys."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leadbase.accounts.models import ApiKey, User
from leadbase.accounts.services import apikey_authenticate

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_createuser_prints_a_generated_password_once() -> None:
    out, _ = run("createuser", "sam", "--role", "sales_rep")
    password = out.strip().splitlines()[-1].split(": ", 1)[1]
    user = User.objects.get(username="sam")
    assert user.role == "sales_rep"
    assert user.check_password(password)
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", "sam")


def test_apikey_create_prints_only_the_key_on_the_last_line() -> None:
    run("createuser", "tool", "--role", "marketer", "--password", "x-long-enough-pass")
    out, err = run("apikey", "create", "--user", "tool", "--scopes", "read, ingest")
    key = out.strip().splitlines()[-1]
    assert key.startswith("lb_")
    assert " " not in key
    assert "shown once" in err
    api_key = apikey_authenticate(key)
    assert api_key is not None
    assert api_key.scopes == ["ingest", "read"]
    stored = ApiKey.objects.get()
    assert key not in (stored.digest, stored.prefix)  # only a digest is kept


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "ghost", "--scopes", "read"], "No user named 'ghost'"),
        (["--user", "tool", "--scopes", "read,admin"], "Unknown scope"),
        (["--user", "tool", "--scopes", ""], "Unknown scope"),
    ],
)
def test_apikey_create_explains_bad_input(args: list[str], message: str) -> None:
    User.objects.create(username="tool", role="marketer")
    with pytest.raises(CommandError, match=message):
        run("apikey", "create", *args)
    assert ApiKey.objects.count() == 0


def test_revoked_key_no_longer_authenticates() -> None:
    run("createuser", "tool", "--role", "marketer", "--password", "x-long-enough-pass")
    out, _ = run("apikey", "create", "--user", "tool", "--scopes", "read")
    key = out.strip().splitlines()[-1]
    prefix = ApiKey.objects.get().prefix
    run("apikey", "revoke", prefix)
    assert apikey_authenticate(key) is None
    listing, _ = run("apikey", "list")
    assert "revoked" in listing
    assert key not in listing


def test_a_key_of_a_deactivated_user_is_refused() -> None:
    run("createuser", "tool", "--role", "marketer", "--password", "x-long-enough-pass")
    out, _ = run("apikey", "create", "--user", "tool", "--scopes", "read")
    User.objects.filter(username="tool").update(is_active=False)
    assert apikey_authenticate(out.strip().splitlines()[-1]) is None


@pytest.mark.parametrize(
    "candidate", ["", "lb_", "lb_abc", "Bearer lb_x_y", "lb_" + "a" * 5000, "lb_\r\n_x"]
)
def test_malformed_keys_never_authenticate(candidate: str) -> None:
    assert apikey_authenticate(candidate) is None
