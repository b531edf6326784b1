"""Writes for accounts: users and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from leadbase.core.errors import ValidationFailed

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


def apikey_authenticate(plain: str) -> ApiKey | None:
    """The active key matching `plain` (constant-time compare), with last_used_at refreshed."""
    if not plain.startswith(KEY_PREFIX) or plain.count("_") < 2:
        return None
    prefix = plain[len(KEY_PREFIX) :].split("_", 1)[0]
    # prefix is unique: no ORDER BY needed (this runs on every API request)
    api_key = next(
        iter(
            ApiKey.objects.select_related("user")
            .filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True)
            .order_by()[:1]
        ),
        None,
    )
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
