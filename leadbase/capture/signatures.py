"""HMAC signatures of the webhook platforms, computed over the raw request body.

Every comparison is constant-time (`hmac.compare_digest` on bytes), and every check works on
the exact bytes received: a body parsed and serialised again does not verify.

- Facebook / Instagram Lead Ads: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body)>`, keyed
  with the app secret.
- LinkedIn: the validation answer is the hex HMAC-SHA256 of the `challengeCode`; notifications
  carry `X-LI-Signature`, the hex HMAC-SHA256 keyed with the client secret (see
  `linkedin_signature_valid` for the two readings of LinkedIn's description that are accepted).
- Generic: `X-Leadbase-Signature: sha256=<hex HMAC-SHA256("<timestamp>.<body>")>` with
  `X-Leadbase-Timestamp: <unix seconds>`, within a replay window.
"""

from __future__ import annotations

import hashlib
import hmac
import re

GENERIC_TOLERANCE_SECONDS = 300
LINKEDIN_PREFIX = b"hmacsha256="
_HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _same(expected_hex: str, given: str) -> bool:
    """Constant-time comparison of two hex digests (case-insensitive); a value that is not a
    64-digit hex string never matches."""
    given = given.strip()
    if not _HEX_DIGEST.match(given):
        return False
    return hmac.compare_digest(expected_hex.encode(), given.lower().encode())


def _sha256_value(header: str) -> str | None:
    """The hex part of `sha256=<hex>`, or None when the header is not of that form."""
    scheme, sep, digest = header.strip().partition("=")
    if not sep or scheme.strip().lower() != "sha256":
        return None
    return digest


# --- Facebook ------------------------------------------------------------------------------


def facebook_signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends for `body` (used by tests and the docs)."""
    return f"sha256={hmac_hex(secret, body)}"


def facebook_signature_valid(*, secret: str, body: bytes, header: str) -> bool:
    digest = _sha256_value(header)
    return digest is not None and bool(secret) and _same(hmac_hex(secret, body), digest)


# --- LinkedIn ------------------------------------------------------------------------------


def linkedin_challenge_response(secret: str, challenge_code: str) -> str:
    return hmac_hex(secret, challenge_code.encode())


def linkedin_signature(secret: str, body: bytes) -> str:
    """X-LI-Signature as LinkedIn documents it: the HMAC of `hmacsha256=` + the raw body."""
    return hmac_hex(secret, LINKEDIN_PREFIX + body)


def linkedin_signature_valid(*, secret: str, body: bytes, header: str) -> bool:
    """LinkedIn describes the header as the HMAC-SHA256 "of the POST body prefixed by
    hmacsha256=", which reads two ways, and integrations in the wild use both: the HMAC of
    `hmacsha256=` + body (the documented recipe), or the HMAC of the body alone. Both are
    accepted, sent bare or as `hmacsha256=<hex>`; either needs the client secret. (A body
    that starts with `hmacsha256=` is not JSON, so one reading cannot stand in for the
    other on a real notification.)"""
    if not secret:
        return False
    value = header.strip()
    if value[: len(LINKEDIN_PREFIX)].lower() == LINKEDIN_PREFIX.decode():
        value = value[len(LINKEDIN_PREFIX) :]
    documented = _same(linkedin_signature(secret, body), value)
    plain = _same(hmac_hex(secret, body), value)
    return documented or plain


# --- Generic -------------------------------------------------------------------------------


def generic_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Leadbase-Signature value for `body` sent at `timestamp` (unix seconds)."""
    return f"sha256={hmac_hex(secret, timestamp.encode() + b'.' + body)}"


def generic_signature_valid(*, secret: str, timestamp: str, body: bytes, header: str) -> bool:
    digest = _sha256_value(header)
    if digest is None or not secret:
        return False
    return _same(hmac_hex(secret, timestamp.encode() + b"." + body), digest)


def generic_timestamp_problem(timestamp: str, *, now: float) -> str | None:
    """What is wrong with an X-Leadbase-Timestamp value at time `now`, or None if it is fine."""
    value = timestamp.strip()
    if not value:
        return "X-Leadbase-Timestamp is missing: send the current time in unix seconds."
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        return "X-Leadbase-Timestamp must be the current time as whole unix seconds."
    drift = int(value) - now
    if abs(drift) > GENERIC_TOLERANCE_SECONDS:
        side = "in the past" if drift < 0 else "in the future"
        return (
            f"X-Leadbase-Timestamp is {abs(drift):.0f} seconds {side}; requests are accepted "
            f"only within {GENERIC_TOLERANCE_SECONDS // 60} minutes of the server's clock "
            "(replay protection). Sign each request when you send it, and check the sender's "
            "clock."
        )
    return None
