"""Signed, expiring links sent to leads: the double opt-in confirmation link (/f/confirm/<token>)
and the content download link (/f/download/<token>).

A token is `django.core.signing.dumps` of a small JSON object, with a salt of its own per kind
of link (a confirmation token is never a valid download token and the other way round) and a
timestamp, checked against LEADBASE_OPTIN_LINK_DAYS / LEADBASE_DOWNLOAD_LINK_DAYS (7 days by
default) when read. Tokens carry no secret data: only the submission id, the address the email
went to and, for downloads, a random link id; they are signed, not encrypted.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core import signing

from .models import Submission

CONFIRM_SALT = "leadbase.capture.optin.confirm"
DOWNLOAD_SALT = "leadbase.capture.content.download"
# Far longer than any token this module makes; longer ones are refused before any crypto.
MAX_TOKEN_LENGTH = 600


class LinkInvalid(Exception):
    """The token of a link cannot be used: `reason` is "expired", "invalid" (forged, tampered
    with, cut short) or "gone" (what it points to no longer exists)."""

    def __init__(self, reason: Literal["expired", "invalid", "gone"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ConfirmLink:
    submission_id: int
    email: str
    issued_at: dt.datetime


@dataclass(frozen=True)
class DownloadLink:
    submission_id: int
    email: str
    link_id: str


def optin_link_max_age() -> dt.timedelta:
    return dt.timedelta(days=float(getattr(settings, "LEADBASE_OPTIN_LINK_DAYS", 7)))


def download_link_max_age() -> dt.timedelta:
    return dt.timedelta(days=float(getattr(settings, "LEADBASE_DOWNLOAD_LINK_DAYS", 7)))


def confirm_token_make(*, submission: Submission, email: str) -> str:
    # "t": when the link was issued (milliseconds, rounded up), so that the consents recorded
    # up to then, and not later ones, are what the link confirms.
    payload = {"s": submission.pk, "e": email, "t": math.ceil(time.time() * 1000)}
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=True)


def download_token_make(*, submission: Submission, email: str) -> str:
    payload = {"s": submission.pk, "e": email, "n": secrets.token_urlsafe(6)}
    return signing.dumps(payload, salt=DOWNLOAD_SALT, compress=True)


def _load(token: str, *, salt: str, max_age: dt.timedelta) -> dict[str, Any]:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkInvalid("invalid")
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkInvalid("expired") from None
    except (signing.BadSignature, ValueError):
        raise LinkInvalid("invalid") from None
    if not isinstance(payload, dict):
        raise LinkInvalid("invalid")
    if not isinstance(payload.get("s"), int) or not isinstance(payload.get("e"), str):
        raise LinkInvalid("invalid")
    return payload


def confirm_token_read(token: str) -> ConfirmLink:
    payload = _load(token, salt=CONFIRM_SALT, max_age=optin_link_max_age())
    issued = payload.get("t")
    if not isinstance(issued, int):
        raise LinkInvalid("invalid")
    return ConfirmLink(
        submission_id=payload["s"],
        email=payload["e"],
        issued_at=dt.datetime.fromtimestamp(issued / 1000, tz=dt.UTC),
    )


def download_token_read(token: str) -> DownloadLink:
    payload = _load(token, salt=DOWNLOAD_SALT, max_age=download_link_max_age())
    link_id = payload.get("n")
    if not isinstance(link_id, str):
        raise LinkInvalid("invalid")
    return DownloadLink(submission_id=payload["s"], email=payload["e"], link_id=link_id)
