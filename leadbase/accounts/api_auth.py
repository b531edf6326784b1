"""API-key authentication for the JSON API, and the scope check every endpoint makes.

A request carries `Authorization: Bearer <key>`. The key acts with the rights of its user
(role, lead visibility), narrowed to the key's scopes: `read`, `write`, `ingest`.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import HttpBearer

from .models import ApiKey, User
from .services import apikey_authenticate

HOW_TO_SEND = (
    "Send your API key in the header `Authorization: Bearer <key>`; "
    "an admin can create one with `leadbase apikey create`."
)
_META_NAME = "HTTP_AUTHORIZATION"  # the Authorization header (HttpBearer.header) in META


class ApiKeyAuth(HttpBearer):
    """Bearer API keys. Every failure raises (so the client learns what to fix) instead of
    ninja's bare "Unauthorized"."""

    def __call__(self, request: HttpRequest) -> ApiKey:
        # META rather than request.headers, which builds a dict of every header first
        header = request.META.get(_META_NAME, "").strip()
        if not header:
            raise AuthenticationError(message=f"No API key was sent. {HOW_TO_SEND}")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            raise AuthenticationError(
                message=f"The Authorization header is not of the form `Bearer <key>`. {HOW_TO_SEND}"
            )
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        # recent: a key verified in the last few seconds is not read again (see
        # services.apikey_authenticate for how revocation still takes effect)
        api_key = apikey_authenticate(token, recent=True)
        if api_key is None:
            raise AuthenticationError(
                message="This API key is not valid: it is unknown, it was revoked, or its user "
                "was deactivated. Check that the whole key was copied, or ask an admin for a "
                "new one."
            )
        return api_key


def request_api_key(request: HttpRequest) -> ApiKey:
    """The key that authenticated `request` (set by ApiKeyAuth)."""
    api_key = getattr(request, "auth", None)
    if not isinstance(api_key, ApiKey):
        raise AuthenticationError(message=f"This endpoint needs an API key. {HOW_TO_SEND}")
    return api_key


def request_user(request: HttpRequest) -> User:
    """The user the request's API key acts for."""
    return request_api_key(request).user


def require_scope(request: HttpRequest, scope: str, *alternatives: str) -> ApiKey:
    """The request's key, if it has `scope` (or one of `alternatives`); else 403 naming it."""
    api_key = request_api_key(request)
    accepted = (scope, *alternatives)
    if not any(api_key.has_scope(s) for s in accepted):
        needed = " or ".join(f"'{s}'" for s in accepted)
        held = ", ".join(api_key.scopes) or "none"
        raise AuthorizationError(
            message=f"This API key lacks the {needed} scope (its scopes: {held}). Use a key "
            f"with the {needed} scope, or ask an admin to create one."
        )
    return api_key
