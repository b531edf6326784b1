"""The event catalogue: the stable `type` names Leadbase knows, documented in docs/tracking.md.

Any other snake_case name is accepted as a custom event (scoring rules can name it too). Some
types state facts only Leadbase or an authenticated integration can know (a form was submitted,
an email bounced): the public beacon refuses them, the events API takes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    label: str
    description: str
    from_browser: bool  # may the public beacon send it


CATALOGUE: tuple[EventType, ...] = (
    EventType("page_view", "Page view", "A page of the site was viewed.", True),
    EventType(
        "pricing_page_view",
        "Pricing page view",
        "A pricing page was viewed (a page view whose path is one of the pricing paths is "
        "stored as this type).",
        True,
    ),
    EventType(
        "content_download", "Content download", "An e-book, whitepaper, ... was downloaded.", True
    ),
    EventType("webinar_registered", "Webinar registration", "Registered for a webinar.", True),
    EventType("webinar_attended", "Webinar attended", "Attended a webinar.", False),
    EventType("demo_request", "Demo request", "Asked for a demo.", True),
    EventType("quote_request", "Quote request", "Asked for a quote.", True),
    EventType("trial_signup", "Free-trial sign-up", "Signed up for a free trial.", True),
    EventType("form_submitted", "Form submitted", "Submitted a Leadbase form.", False),
    EventType("email_opened", "Email opened", "Opened an email.", False),
    EventType("email_clicked", "Email clicked", "Clicked a link in an email.", False),
    EventType("social_engagement", "Social engagement", "Liked, shared or commented.", True),
    EventType("referral_made", "Referral made", "Referred another person.", False),
    EventType("unsubscribed", "Unsubscribed", "Unsubscribed from email.", False),
    EventType("email_bounced", "Email bounced", "An email to the lead bounced.", False),
    EventType("custom", "Custom", "Anything else; name it in `properties.name`.", True),
)
BY_NAME: dict[str, EventType] = {t.name: t for t in CATALOGUE}

# Types that Leadbase itself records (lead_created, consent events, ...): never from outside.
RESERVED_PREFIXES = ("lead_", "consent_", "leadbase_")


def type_problem(name: object, *, from_browser: bool) -> str | None:
    """What is wrong with an event type name, or None when it may be stored."""
    if not isinstance(name, str) or not TYPE_PATTERN.match(name):
        return (
            "type must be a snake_case name of 1 to 64 characters (a-z, 0-9, _), starting with "
            "a letter, e.g. page_view or webinar_attended"
        )
    if name.startswith(RESERVED_PREFIXES):
        return f"type {name!r} is reserved for events Leadbase records itself"
    known = BY_NAME.get(name)
    if from_browser and known is not None and not known.from_browser:
        return (
            f"type {name!r} cannot be sent from a browser; send it with the events API "
            "(POST /api/v1/events) and an API key"
        )
    return None


def label_of(name: str) -> str:
    known = BY_NAME.get(name)
    return known.label if known else name.replace("_", " ").capitalize()
