"""Cheap spam signals for public forms: a honeypot field, a signed fill-time token, and
throwaway email domains. Each check answers with a reason ("" when clean); the caller holds a
submission with a reason as SPAM instead of rejecting it, so a person can release it and a bot
learns nothing from the answer."""

from __future__ import annotations

import time
from typing import Any

from disposable_email_domains import blocklist
from django.conf import settings
from django.core import signing

# Names of the fields every rendered form carries besides its own. A dot cannot occur in a
# form field's name (a slug), so these never collide with the builder's fields.
TOKEN_FIELD = "lb.token"  # noqa: S105 -- the name of a form field, not a secret
HONEYPOT_FIELD = "lb.website"

_SALT = "leadbase.capture.forms.fill-token"


def fill_token_make(*, form_id: int, now: float | None = None) -> str:
    """A token signed with SECRET_KEY that says "form `form_id` was shown at `now`"."""
    issued_ms = int((time.time() if now is None else now) * 1000)
    return signing.Signer(salt=_SALT).sign_object({"f": form_id, "t": issued_ms}, compress=False)


def fill_token_check(token: Any, *, form_id: int, now: float | None = None) -> str:
    """ "" when `token` was made for this form at least LEADBASE_FORMS_MIN_FILL_SECONDS and at
    most LEADBASE_FORMS_TOKEN_MAX_AGE_SECONDS ago; otherwise why not."""
    if not token:
        return "no form token (the form was not loaded from Leadbase)"
    if not isinstance(token, str) or len(token) > 200:
        return "malformed form token"
    try:
        payload = signing.Signer(salt=_SALT).unsign_object(token)
        issued = int(payload["t"]) / 1000
        token_form = int(payload["f"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return "form token with a bad signature"
    if token_form != form_id:
        return "form token of another form"
    age = (time.time() if now is None else now) - issued
    minimum = float(settings.LEADBASE_FORMS_MIN_FILL_SECONDS)
    if age < minimum:
        return f"filled in {max(age, 0):.1f} s (faster than the minimum of {minimum:g} s)"
    if age > int(settings.LEADBASE_FORMS_TOKEN_MAX_AGE_SECONDS):
        return f"form token expired (the form was shown {age / 3600:.0f} hours before)"
    return ""


def honeypot_check(value: Any) -> str:
    """The honeypot is hidden from people and screen readers: anything in it came from a bot."""
    if value not in (None, "", False):
        return "honeypot field filled in"
    return ""


def email_is_disposable(email: str) -> bool:
    """The address is at a known throwaway-mailbox domain (or a subdomain of one)."""
    domain = email.rpartition("@")[2].lower()
    parts = domain.split(".")
    return any(".".join(parts[i:]) in blocklist for i in range(len(parts) - 1))
