"""Taking events in: from the events API (`events_ingest`), the browser beacon and the pixel
(`beacon_collect`), and identifying a visitor through the API (`visitor_identify_api`).

Every accepted event is stored (committed) before the caller answers. A batch keeps its valid
events and reports each invalid one by its position: one bad event never loses the others.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.utils import timezone
from email_validator import EmailNotValidError

from leadbase.accounts.models import User
from leadbase.core.errors import ApplicationError, NotFound, ValidationFailed
from leadbase.leads.events import EventIn, EventsRecorded, events_record, visitor_identify
from leadbase.leads.models import Lead
from leadbase.leads.normalize import normalize_email
from leadbase.leads.selectors import lead_visible_to

from .validation import VISITOR_ID, VISITOR_ID_RULE, Invalid, Parsed, parse_event

BATCH_MAX = 1000  # events per API request
BEACON_BATCH_MAX = 20  # events per beacon request
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
TEXT_MAX = 2000  # characters kept of a URL, title or referrer


class BatchTooLarge(ApplicationError):
    status = 413


@dataclass(frozen=True, slots=True)
class ItemError:
    index: int
    message: str


@dataclass(frozen=True, slots=True)
class IngestResult:
    accepted: int
    duplicates: int
    errors: tuple[ItemError, ...] = ()
    lead_ids: frozenset[int] = field(default_factory=frozenset)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "errors": [{"index": e.index, "message": e.message} for e in self.errors],
        }


def _lead_ids_by_email(user: User, emails: set[str]) -> dict[str, int]:
    if not emails:
        return {}
    rows = lead_visible_to(user).filter(email__in=emails).values_list("email", "pk")
    return {str(email): int(pk) for email, pk in rows}


def events_ingest(*, items: Sequence[Any], user: User, source: str) -> IngestResult:
    """Validate and store a batch from the events API; `user` is the API key's user (a sales
    rep's key reaches only the rep's own leads)."""
    if len(items) > BATCH_MAX:
        raise BatchTooLarge(
            f"The batch has {len(items):,} events; send at most {BATCH_MAX:,} per request."
        )
    now = timezone.now()
    parsed: list[tuple[int, Parsed]] = []
    errors: list[ItemError] = []
    for index, item in enumerate(items):
        try:
            parsed.append((index, parse_event(item, now=now)))
        except Invalid as exc:
            errors.append(ItemError(index, str(exc)))
    by_email = _lead_ids_by_email(user, {p.email for _, p in parsed if p.email})
    events: list[EventIn] = []
    positions: list[int] = []
    for index, event in parsed:
        lead_id = event.lead_id
        if event.email is not None:
            lead_id = by_email.get(event.email)
            if lead_id is None:
                errors.append(ItemError(index, f"no lead has the email {event.email}"))
                continue
        events.append(event.as_event(lead_id=lead_id, source=source))
        positions.append(index)
    recorded = EventsRecorded(0, (), frozenset())
    if events:
        recorded = events_record(events, leads=lead_visible_to(user))
    for position in recorded.unknown_leads:
        lead_id = events[position].lead_id
        message = f"no lead with id {lead_id} (or not yours to see)"
        errors.append(ItemError(positions[position], message))
    return IngestResult(
        accepted=recorded.stored,
        duplicates=len(recorded.duplicates),
        errors=tuple(sorted(errors, key=lambda e: e.index)),
        lead_ids=recorded.lead_ids,
    )


def pricing_paths() -> tuple[str, ...]:
    paths = str(settings.LEADBASE_TRACKING_PRICING_PATHS).split(",")
    return tuple(p.strip().rstrip("/") or "/" for p in paths if p.strip())


def _is_pricing(url: str) -> bool:
    path = (urlsplit(url).path or "/").rstrip("/") or "/"
    return any(path == p or path.startswith(p + "/") for p in pricing_paths())


def _page_properties(properties: dict[str, Any]) -> dict[str, Any]:
    """Page facts the snippet sends, clipped; UTM values read from the URL when not given."""
    out = dict(properties)
    for key in ("url", "title", "referrer"):
        if isinstance(out.get(key), str):
            out[key] = out[key][:TEXT_MAX]
    url = out.get("url")
    if isinstance(url, str):
        query = dict(parse_qsl(urlsplit(url).query))
        for key in UTM_KEYS:
            if key in query and key not in out:
                out[key] = query[key][:200]
    return out


def _browser_client_id(visitor_id: str, raw: str | None) -> str | None:
    """A browser's event ids live in the visitor's own space, so a page can never claim the id
    an integration will use."""
    if not raw:
        return None
    return "b:" + hashlib.sha256(f"{visitor_id}\0{raw}".encode()).hexdigest()[:40]


def beacon_collect(*, visitor_id: str, items: Sequence[Any], source: str) -> IngestResult:
    """Store events a browser sent for its visitor (no key: the visitor's own doings)."""
    if len(items) > BEACON_BATCH_MAX:
        raise BatchTooLarge(f"Send at most {BEACON_BATCH_MAX} events per beacon request.")
    now = timezone.now()
    events: list[EventIn] = []
    errors: list[ItemError] = []
    for index, item in enumerate(items):
        try:
            event = parse_event(item, now=now, from_browser=True, visitor_id=visitor_id)
        except Invalid as exc:
            errors.append(ItemError(index, str(exc)))
            continue
        properties = _page_properties(event.properties)
        kind = event.type
        if kind == "page_view" and _is_pricing(str(properties.get("url", ""))):
            kind = "pricing_page_view"
        events.append(
            EventIn(
                type=kind,
                occurred_at=event.occurred_at,
                properties=properties,
                source=source,
                visitor_id=visitor_id,
                client_event_id=_browser_client_id(visitor_id, event.client_event_id),
            )
        )
    recorded = events_record(events) if events else EventsRecorded(0, (), frozenset())
    return IngestResult(
        accepted=recorded.stored,
        duplicates=len(recorded.duplicates),
        errors=tuple(errors),
        lead_ids=recorded.lead_ids,
    )


@dataclass(frozen=True, slots=True)
class IdentifyResult:
    lead: Lead
    attached: int
    relinked_from: int | None


def visitor_identify_api(
    *, user: User, visitor_id: str, lead_id: int | None, email: str | None
) -> IdentifyResult:
    """Link a visitor to a lead the key's user can see (by id or by email)."""
    if not VISITOR_ID.match(visitor_id):
        raise ValidationFailed(
            "visitor_id is not a tracking visitor id.", fields={"visitor_id": VISITOR_ID_RULE}
        )
    if (lead_id is None) == (email is None):
        raise ValidationFailed(
            "Give exactly one of lead_id or email.", fields={"lead_id": "or email, not both"}
        )
    leads = lead_visible_to(user)
    try:
        if lead_id is not None:
            lead = leads.get(pk=lead_id)
        else:
            lead = leads.get(email=normalize_email(str(email)))
    except EmailNotValidError as exc:
        raise ValidationFailed(
            f"email is not a valid email address: {exc}", fields={"email": str(exc)}
        ) from None
    except Lead.DoesNotExist:
        raise NotFound(
            "No such lead (or not yours to see). Create the lead first (POST /api/v1/leads)."
        ) from None
    done = visitor_identify(visitor_id=visitor_id, lead=lead)
    return IdentifyResult(lead=lead, attached=done.attached, relinked_from=done.relinked_from)


def anonymous_retention() -> dt.timedelta:
    return dt.timedelta(days=int(settings.LEADBASE_TRACKING_ANONYMOUS_DAYS))
