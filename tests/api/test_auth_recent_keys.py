"""The API keeps the keys it verified in the last few seconds (accounts.services, "Recently
verified keys"): a burst of requests reads its key once, and yet revoking a key or changing
its user takes effect at once in this process and within RECENT_KEY_SECONDS elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadbase.accounts import services
from leadbase.accounts.models import ApiKey, Role, User
from leadbase.accounts.services import apikey_create, apikey_revoke
from leadbase.leads.models import Lead

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

ApiWithKey = Callable[[str | None], ApiClient]


class Clock:
    """services._clock, moved forward by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def after_the_bound(self) -> None:
        self.now += services.RECENT_KEY_SECONDS + 0.001


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(services, "_clock", fake)
    services.forget_recent_keys()
    yield fake
    services.forget_recent_keys()


def key_reads(api: ApiClient, path: str) -> tuple[int, int]:
    """The status of GET `path`, and how many queries it made on the API key table."""
    with CaptureQueriesContext(connection) as queries:
        status = api.get(path).status
    return status, sum(ApiKey._meta.db_table in q["sql"] for q in queries.captured_queries)


def revoke_elsewhere(api_key: ApiKey) -> None:
    """What another process (another worker, the CLI) revoking the key looks like here: the
    row changes, and this process is not told."""
    ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=timezone.now())


def test_a_burst_of_requests_reads_the_key_once(
    clock: Clock, api_with_key: ApiWithKey, marketer: User
) -> None:
    api = api_with_key(apikey_create(user=marketer, scopes="read").plain)

    assert key_reads(api, "/leads") == (HTTPStatus.OK, 2)  # the key, and its last_used_at
    assert key_reads(api, "/leads") == (HTTPStatus.OK, 0)
    clock.after_the_bound()
    assert key_reads(api, "/leads") == (HTTPStatus.OK, 1)  # read again; used a minute ago


def test_revoking_a_key_refuses_it_at_once_in_this_process(
    clock: Clock, api_with_key: ApiWithKey, admin_user: User
) -> None:
    new = apikey_create(user=admin_user, scopes="read")
    api = api_with_key(new.plain)
    assert api.get("/leads").status == HTTPStatus.OK

    apikey_revoke(api_key=new.api_key)
    reply = api.get("/leads")

    assert reply.status == HTTPStatus.UNAUTHORIZED
    assert "revoked" in reply.detail


def test_a_key_revoked_elsewhere_is_refused_once_the_bound_has_passed(
    clock: Clock, api_with_key: ApiWithKey, admin_user: User
) -> None:
    new = apikey_create(user=admin_user, scopes="read")
    api = api_with_key(new.plain)
    assert api.get("/leads").status == HTTPStatus.OK

    revoke_elsewhere(new.api_key)
    clock.now += services.RECENT_KEY_SECONDS - 0.5
    assert api.get("/leads").status == HTTPStatus.OK  # the documented bound, not beyond it
    clock.after_the_bound()

    assert api.get("/leads").status == HTTPStatus.UNAUTHORIZED


def test_deactivating_the_user_refuses_the_key_at_once(
    clock: Clock, api_with_key: ApiWithKey, marketer: User
) -> None:
    api = api_with_key(apikey_create(user=marketer, scopes="read").plain)
    assert api.get("/leads").status == HTTPStatus.OK

    marketer.is_active = False
    marketer.save(update_fields=["is_active"])

    assert api.get("/leads").status == HTTPStatus.UNAUTHORIZED


def test_a_user_deactivated_elsewhere_is_refused_once_the_bound_has_passed(
    clock: Clock, api_with_key: ApiWithKey, marketer: User
) -> None:
    api = api_with_key(apikey_create(user=marketer, scopes="read").plain)
    assert api.get("/leads").status == HTTPStatus.OK

    User.objects.filter(pk=marketer.pk).update(is_active=False)
    clock.after_the_bound()

    assert api.get("/leads").status == HTTPStatus.UNAUTHORIZED


def test_deleting_the_user_or_the_key_refuses_it_at_once(
    clock: Clock, api_with_key: ApiWithKey, marketer: User, viewer: User
) -> None:
    deleted_user = api_with_key(apikey_create(user=marketer, scopes="read").plain)
    new = apikey_create(user=viewer, scopes="read")
    deleted_key = api_with_key(new.plain)
    assert deleted_user.get("/leads").status == deleted_key.get("/leads").status == HTTPStatus.OK

    marketer.delete()
    new.api_key.delete()

    assert deleted_user.get("/leads").status == HTTPStatus.UNAUTHORIZED
    assert deleted_key.get("/leads").status == HTTPStatus.UNAUTHORIZED


def test_a_role_change_applies_at_once(
    clock: Clock,
    api_with_key: ApiWithKey,
    marketer: User,
    other_rep: User,
    make_lead: Callable[..., Lead],
) -> None:
    lead = make_lead(owner=other_rep)
    api = api_with_key(apikey_create(user=marketer, scopes="read").plain)
    assert api.get(f"/leads/{lead.pk}").status == HTTPStatus.OK

    marketer.role = Role.SALES_REP
    marketer.save()

    assert api.get(f"/leads/{lead.pk}").status == HTTPStatus.NOT_FOUND


def test_a_wrong_secret_is_refused_even_while_the_right_one_is_recent(
    clock: Clock, api_with_key: ApiWithKey, admin_user: User
) -> None:
    key = apikey_create(user=admin_user, scopes="read").plain
    assert api_with_key(key).get("/leads").status == HTTPStatus.OK

    assert api_with_key(key[:-4] + "AAAA").get("/leads").status == HTTPStatus.UNAUTHORIZED
    assert api_with_key(key + "A").get("/leads").status == HTTPStatus.UNAUTHORIZED


def test_refused_keys_are_not_kept(
    clock: Clock, api_with_key: ApiWithKey, admin_user: User
) -> None:
    new = apikey_create(user=admin_user, scopes="read")
    api = api_with_key(new.plain)
    revoke_elsewhere(new.api_key)
    assert api.get("/leads").status == HTTPStatus.UNAUTHORIZED

    ApiKey.objects.filter(pk=new.api_key.pk).update(revoked_at=None)  # (never done for real)

    assert api.get("/leads").status == HTTPStatus.OK


def test_a_read_that_raced_with_a_revocation_is_not_kept(
    clock: Clock, monkeypatch: pytest.MonkeyPatch, api_with_key: ApiWithKey, admin_user: User
) -> None:
    new = apikey_create(user=admin_user, scopes="read")
    api = api_with_key(new.plain)
    read = services._KeyRow.read

    def read_then_revoked(prefix: str) -> services._KeyRow | None:
        row = read(prefix)  # the key is read while still active...
        apikey_revoke(api_key=new.api_key)  # ...and revoked before the read is kept
        return row

    monkeypatch.setattr(services._KeyRow, "read", read_then_revoked)
    assert api.get("/leads").status == HTTPStatus.OK  # the request that raced
    monkeypatch.setattr(services._KeyRow, "read", read)

    assert api.get("/leads").status == HTTPStatus.UNAUTHORIZED


def test_each_request_gets_its_own_key_and_user(
    clock: Clock, admin_user: User, marketer: User
) -> None:
    plain = apikey_create(user=marketer, scopes="read,write").plain
    first = services.apikey_authenticate(plain, recent=True)
    assert first is not None
    first.scopes.append("ingest")
    first.user.role = Role.ADMIN

    second = services.apikey_authenticate(plain, recent=True)

    assert second is not None and second is not first and second.user is not first.user
    assert second.scopes == ["read", "write"]
    assert second.user.role == Role.MARKETER
    assert second.user == marketer and second.user.get_deferred_fields() == set()
    assert second._state.adding is False and second._state.db == "default"
