"""Reading one event as sent (JSON object) into an `EventIn`, or a message saying what to fix.

Shape (docs/tracking.md): `type`; `timestamp` (ISO 8601, default now; without an offset it is
UTC); `properties` (an object, at most LEADBASE_TRACKING_MAX_PROPERTIES_BYTES as JSON, nested
at most MAX_DEPTH deep); exactly one of `lead_id`, `email`, `visitor_id`; optional `event_id`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from email_validator import EmailNotValidError

from leadbase.leads.events import CLIENT_EVENT_ID_MAX_LENGTH, EventIn
from leadbase.leads.normalize import normalize_email

from .catalogue import type_problem

FIELDS = frozenset(
    {"type", "timestamp", "properties", "lead_id", "email", "visitor_id", "event_id"}
)
MAX_DEPTH = 5
FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # clocks of senders run a little fast
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
VISITOR_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
VISITOR_ID_RULE = (
    "must be 8 to 64 characters (letters, digits, '.', '_' or '-'), as the tracking snippet "
    "makes them"
)


class Invalid(ValueError):
    """One event cannot be stored; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """An event read from its JSON: `lead_id` or `email` (not resolved yet) or `visitor_id`."""

    type: str
    occurred_at: dt.datetime
    properties: dict[str, Any]
    lead_id: int | None
    email: str | None
    visitor_id: str | None
    client_event_id: str | None

    def as_event(self, *, lead_id: int | None, source: str) -> EventIn:
        return EventIn(
            type=self.type,
            occurred_at=self.occurred_at,
            properties=self.properties,
            source=source,
            lead_id=lead_id,
            visitor_id=self.visitor_id,
            client_event_id=self.client_event_id,
        )


def max_properties_bytes() -> int:
    return int(settings.LEADBASE_TRACKING_MAX_PROPERTIES_BYTES)


def _depth(value: Any, level: int = 0) -> int:
    if isinstance(value, Mapping):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def parse_timestamp(raw: Any, *, now: dt.datetime) -> dt.datetime:
    if raw is None:
        return now
    if not isinstance(raw, str):
        raise Invalid("timestamp must be an ISO 8601 string such as 2026-11-26T14:05:00Z")
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid(
            f"timestamp {raw[:40]!r} is not ISO 8601; send e.g. 2026-11-26T14:05:00Z"
        ) from None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    if value > now + FUTURE_TOLERANCE:
        raise Invalid(
            f"timestamp {raw[:40]} is in the future (now is {now:%Y-%m-%dT%H:%M:%SZ}); check "
            "the sender's clock and time zone"
        )
    if value < EARLIEST:
        raise Invalid(f"timestamp {raw[:40]} is before 2000; send the time the event happened")
    return value


def parse_properties(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Invalid('properties must be a JSON object, e.g. {"url": "/pricing"}')
    size = len(json.dumps(raw, ensure_ascii=False).encode("utf-8"))
    limit = max_properties_bytes()
    if size > limit:
        raise Invalid(f"properties take {size:,} bytes as JSON; the limit is {limit:,}")
    if _depth(raw) > MAX_DEPTH:
        raise Invalid(f"properties are nested more than {MAX_DEPTH} levels deep")
    return raw


def _identity(item: Mapping[str, Any]) -> tuple[int | None, str | None, str | None]:
    given = [key for key in ("lead_id", "email", "visitor_id") if item.get(key) not in (None, "")]
    if len(given) != 1:
        raise Invalid(
            "give exactly one of lead_id, email or visitor_id"
            + (f" (this event has {', '.join(given)})" if given else "")
        )
    key = given[0]
    value = item[key]
    if key == "lead_id":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise Invalid("lead_id must be a positive whole number")
        return value, None, None
    if key == "email":
        if not isinstance(value, str) or len(value) > 320:
            raise Invalid("email must be an email address (text, at most 320 characters)")
        try:
            return None, normalize_email(value), None
        except EmailNotValidError as exc:
            raise Invalid(f"email is not a valid email address: {exc}") from None
    if not isinstance(value, str) or not VISITOR_ID.match(value):
        raise Invalid(f"visitor_id {VISITOR_ID_RULE}")
    return None, None, value


def parse_event(
    item: Any, *, now: dt.datetime, from_browser: bool = False, visitor_id: str | None = None
) -> Parsed:
    """Read one event. A browser's events (the beacon) carry their visitor id outside the event
    (`visitor_id`), and may not name a lead."""
    if not isinstance(item, dict):
        raise Invalid("each event must be a JSON object with at least a type")
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise Invalid(
            f"unknown field {unknown[0][:40]!r}; put custom data under properties (fields: "
            + ", ".join(sorted(FIELDS))
            + ")"
        )
    if problem := type_problem(item.get("type"), from_browser=from_browser):
        raise Invalid(problem)
    if from_browser:
        if any(item.get(key) not in (None, "") for key in ("lead_id", "email", "visitor_id")):
            raise Invalid("events from a browser are the visitor's: they cannot name a lead")
        lead_id, email, visitor = None, None, visitor_id
    else:
        lead_id, email, visitor = _identity(item)
    client_id = item.get("event_id")
    if client_id is not None and (
        not isinstance(client_id, str) or not 0 < len(client_id) <= CLIENT_EVENT_ID_MAX_LENGTH
    ):
        raise Invalid(f"event_id must be text of 1 to {CLIENT_EVENT_ID_MAX_LENGTH} characters")
    return Parsed(
        type=str(item["type"]),
        occurred_at=parse_timestamp(item.get("timestamp"), now=now),
        properties=parse_properties(item.get("properties")),
        lead_id=lead_id,
        email=email,
        visitor_id=visitor,
        client_event_id=client_id,
    )
