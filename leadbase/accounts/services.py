"""Writes for accounts: users and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.signals import post_delete, post_init, post_save, pre_init
from django.dispatch import receiver
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


# Compiled once (see core.prepared): this runs whenever a key is not among the recent ones.
_ACTIVE_KEY = PreparedValues(_active_key_values, prefix=str)


@dataclass(frozen=True, slots=True)
class _KeyRow:
    """An active key and its user as read from the database: the instances' attributes."""

    key: dict[str, Any]
    user: dict[str, Any]
    db: str

    @classmethod
    def read(cls, prefix: str) -> _KeyRow | None:
        """The unrevoked key with this prefix whose user is active, read afresh."""
        row = _ACTIVE_KEY.first(prefix=prefix)
        if row is None:
            return None
        key = {name: row[name] for name in _KEY_COLUMNS}
        user = {name: row[f"user__{name}"] for name in _USER_COLUMNS}
        return cls(key=key, user=user, db=ApiKey.objects.db)

    def instances(self) -> ApiKey:
        """A new ApiKey with its user (new instances every time: callers may change them)."""
        api_key = _instance(ApiKey, self.key, self.db)
        api_key.scopes = list(self.key["scopes"])  # the one mutable value
        api_key._state.fields_cache["user"] = _instance(User, self.user, self.db)
        return api_key


def _instance[M: Model](model: type[M], attributes: dict[str, Any], db: str) -> M:
    """What `model.from_db` builds from a full row, five times faster: the attributes set
    directly, as unpickling does (from_db goes through __init__ argument by argument)."""
    if pre_init.receivers or post_init.receivers:  # __init__ would send them: let it
        names = tuple(attributes)
        return model.from_db(db, names, [attributes[name] for name in names])
    instance = model.__new__(model)
    instance.__dict__.update(attributes)
    state = instance._state = ModelState()
    state.adding = False
    state.db = db
    return instance


# --- Recently verified keys -----------------------------------------------------------------
#
# Each process keeps the keys it verified in the last RECENT_KEY_SECONDS, by digest, so that
# a client's burst of requests reads its key and user once, not once per request. Bounds:
# - in this process, revoking a key (apikey_revoke) or saving or deleting any user or key
#   (deactivation, role change) forgets every recent key at once, and a read that raced
#   with it is not kept (the generation check);
# - in other processes (other workers, the CLI, another server, an UPDATE in SQL), a key or
#   user change takes effect within RECENT_KEY_SECONDS: an entry is never used longer than
#   that after the database read that made it began.
# Unknown, revoked or mismatching keys are never kept: they are checked in the database on
# every request, and a new key works at once.

RECENT_KEY_SECONDS = 5.0
RECENT_KEYS_MAX = 1024  # distinct keys kept per process; beyond that the cache starts afresh
_clock = time.monotonic  # (tests move it forward)


@dataclass(frozen=True, slots=True)
class _Recent:
    row: _KeyRow
    expires: float  # _clock()


_recent: dict[str, _Recent] = {}
_recent_lock = threading.Lock()
_recent_generation = 0  # bumped by every forget_recent_keys()


def forget_recent_keys() -> None:
    """Make every request of this process read its key and user afresh (called when a key
    is revoked, and when a user or key is saved or deleted)."""
    global _recent_generation
    with _recent_lock:
        _recent_generation += 1
        _recent.clear()


def _forget_after_commit() -> None:
    """Forget now, and again when the surrounding transaction commits: a request that read
    the old row before the commit must not keep it."""
    forget_recent_keys()
    transaction.on_commit(forget_recent_keys, robust=True)


def _parse(plain: str) -> str | None:
    """The prefix of a key of our form, else None."""
    if not plain.startswith(KEY_PREFIX) or plain.count("_") < 2:
        return None
    return plain[len(KEY_PREFIX) :].split("_", 1)[0]


def _verified(row: _KeyRow | None, digest: str) -> bool:
    return row is not None and hmac.compare_digest(row.key["digest"], digest)


def _record_use(row: _KeyRow, api_key: ApiKey) -> None:
    """Write last_used_at when the stored value is older than LAST_USED_RESOLUTION."""
    now = timezone.now()
    last_used_at = row.key["last_used_at"]
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        row.key["last_used_at"] = api_key.last_used_at = now


def apikey_authenticate(plain: str, *, recent: bool = False) -> ApiKey | None:
    """The active key matching `plain` (constant-time compare) with its user, last_used_at
    refreshed (written at most once a minute per key).

    By default the key and user are read afresh from the database. With `recent=True` (the
    API does this on every request), a key this process verified in the last
    RECENT_KEY_SECONDS is not read again; see "Recently verified keys" for the bounds."""
    prefix = _parse(plain)
    if prefix is None:
        return None
    digest = _digest(plain)
    if recent:
        hit = _recent.get(digest)
        if hit is not None and hit.expires > _clock():
            return hit.row.instances()
        generation, expires = _recent_generation, _clock() + RECENT_KEY_SECONDS
    row = _KeyRow.read(prefix)
    if row is None or not _verified(row, digest):
        return None
    api_key = row.instances()
    _record_use(row, api_key)
    if recent:
        with _recent_lock:
            if generation == _recent_generation:
                if len(_recent) >= RECENT_KEYS_MAX:
                    _recent.clear()
                _recent[digest] = _Recent(row=row, expires=expires)
    return api_key


@receiver(post_save, sender=User, dispatch_uid="leadbase.accounts.forget_keys.user_saved")
def _user_saved(update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    if update_fields is not None and update_fields <= {"last_login"}:
        return  # a sign-in changes nothing a key depends on
    _forget_after_commit()


@receiver(post_save, sender=ApiKey, dispatch_uid="leadbase.accounts.forget_keys.key_saved")
@receiver(post_delete, sender=ApiKey, dispatch_uid="leadbase.accounts.forget_keys.key_deleted")
@receiver(post_delete, sender=User, dispatch_uid="leadbase.accounts.forget_keys.user_deleted")
def _key_or_user_changed(**kwargs: Any) -> None:
    _forget_after_commit()


def apikey_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _forget_after_commit()


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
