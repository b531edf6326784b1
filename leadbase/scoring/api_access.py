"""Who may call the scoring API's endpoints: shared by its routers (rule sets, models)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from leadbase.accounts.api_auth import request_user, require_scope
from leadbase.accounts.models import Scope, User

from .rule_sets import require_editor


def reader(request: HttpRequest) -> User:
    """The key's user, for a read (scope read)."""
    require_scope(request, Scope.READ)
    return request_user(request)


def editor(request: HttpRequest) -> User:
    """The key's user, for a change (scope write, and an admin or a marketer)."""
    require_scope(request, Scope.WRITE)
    user = request_user(request)
    require_editor(user)
    return user


def user_ref(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "username": user.username}
