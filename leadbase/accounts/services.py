"""Writes for accounts: users and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from leadbase.core.errors import ValidationFailed
from leadbase.core.prepared import PreparedValues

from .models import ApiKey, Role, Scope, User

KEY_PREFIX = "lb_"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # write last_used_at at most once a minute per key


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    plain: str  # shown once, never stored


def parse_scopes(raw: str | list[str]) -> list[str]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    scopes = sorted({item.strip().lower() for item in items if item.strip()})
    unknown = [s for s in scopes if s not in Scope.values]
    if not scopes or unknown:
        raise ValidationFailed(
            f"Unknown scope(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(Scope.values)}.",
            fields={"scopes": "must be a comma-separated subset of " + ",".join(Scope.values)},
        )
    return scopes


def apikey_create(*, user: User, scopes: str | list[str], name: str = "") -> NewApiKey:
    scope_list = parse_scopes(scopes)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plain = f"{KEY_PREFIX}{prefix}_{secret}"
    api_key = ApiKey.objects.create(
        user=user, name=name, prefix=prefix, digest=_digest(plain), scopes=scope_list
    )
    return NewApiKey(api_key=api_key, plain=plain)


_KEY_COLUMNS = tuple(field.attname for field in ApiKey._meta.concrete_fields)
_USER_COLUMNS = tuple(field.attname for field in User._meta.concrete_fields)


def _active_key_values(prefix: str) -> QuerySet[ApiKey, dict[str, Any]]:
    # prefix is unique: no ORDER BY needed
    active = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True)
    user_columns = (f"user__{name}" for name in _USER_COLUMNS)
    found: QuerySet[ApiKey, dict[str, Any]] = active.order_by().values(*_KEY_COLUMNS, *user_columns)
    return found[:1]


# Compiled once (see core.prepared): this runs on every API request.
_ACTIVE_KEY = PreparedValues(_active_key_values, prefix=str)


def _active_key(prefix: str) -> ApiKey | None:
    """The unrevoked key with this prefix whose user is active, with its user, read afresh
    from the database (never cached: revoking a key or deactivating a user acts at once)."""
    row = _ACTIVE_KEY.first(prefix=prefix)
    if row is None:
        return None
    db = ApiKey.objects.db
    api_key = ApiKey.from_db(db, _KEY_COLUMNS, [row[name] for name in _KEY_COLUMNS])
    api_key.user = User.from_db(db, _USER_COLUMNS, [row[f"user__{n}"] for n in _USER_COLUMNS])
    return api_key


def apikey_authenticate(plain: str) -> ApiKey | None:
    """The active key matching `plain` (constant-time compare), with last_used_at refreshed."""
    if not plain.startswith(KEY_PREFIX) or plain.count("_") < 2:
        return None
    prefix = plain[len(KEY_PREFIX) :].split("_", 1)[0]
    api_key = _active_key(prefix)
    if api_key is None or not hmac.compare_digest(api_key.digest, _digest(plain)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def apikey_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@dataclass(frozen=True)
class UserCreated:
    user: User
    created: bool
    password: str | None  # set only when this call chose the password


@transaction.atomic
def user_ensure(
    *,
    username: str,
    role: str = Role.VIEWER,
    email: str = "",
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> UserCreated:
    """Create the user if missing (generating a password when none is given); never fails on
    an existing user, whose password is left as it is."""
    if role not in Role.values:
        raise ValidationFailed(
            f"Unknown role {role!r}; choose from {', '.join(Role.values)}.",
            fields={"role": "unknown role"},
        )
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return UserCreated(user=existing, created=False, password=None)
    chosen = password or secrets.token_urlsafe(12)
    user = User(
        username=username,
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    user.set_password(chosen)
    user.save()
    return UserCreated(user=user, created=True, password=None if password else chosen)
