"""Where a form submission came from: the UTM values, referrer, landing page and tracking
visitor id sent with it (the `lb.*` fields the hosted page and the embed add), and the source
channel derived from them when the form names none. Pure functions, no database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from leadbase.leads.models import Channel
from leadbase.leads.normalize import clean_text

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# posted name -> context key
CONTEXT_FIELDS: dict[str, str] = {
    **{f"lb.{key}": key for key in UTM_KEYS},
    "lb.referrer": "referrer",
    "lb.landing_page": "landing_page",
    "lb.visitor_id": "visitor_id",
}
VISITOR_COOKIE = "lb_vid"
UTM_MAX_LENGTH = 200
URL_MAX_LENGTH = 2000
_VISITOR_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")

_SEARCH = frozenset(
    [
        "google",
        "bing",
        "duckduckgo",
        "yahoo",
        "baidu",
        "yandex",
        "ecosia",
        "startpage",
        "qwant",
        "naver",
        "seznam",
    ]
)
_SOCIAL = frozenset(
    [
        "facebook",
        "fb",
        "instagram",
        "ig",
        "linkedin",
        "lnkd",
        "twitter",
        "youtube",
        "reddit",
        "pinterest",
        "tiktok",
        "threads",
        "xing",
        "bsky",
        "mastodon",
        "snapchat",
        "quora",
        "vk",
    ]
)
_SOCIAL_HOSTS = frozenset({"t.co", "x.com"})
_MEDIUM: dict[str, str] = {
    **dict.fromkeys(("cpc", "ppc", "paidsearch", "paid_search", "sem"), Channel.PAID_SEARCH),
    **dict.fromkeys(
        ("paid_social", "paidsocial", "social_paid", "cpm", "display", "banner", "paid"),
        Channel.PAID_SOCIAL,
    ),
    **dict.fromkeys(
        ("social", "social_media", "sm", "organic_social", "social_network"),
        Channel.ORGANIC_SOCIAL,
    ),
    **dict.fromkeys(("email", "e_mail", "newsletter", "mail"), Channel.EMAIL),
    **dict.fromkeys(("referral", "link"), Channel.REFERRAL),
    **dict.fromkeys(("affiliate", "partner", "partners"), Channel.PARTNER),
    **dict.fromkeys(("event", "events", "offline", "print", "qr"), Channel.EVENT),
    **dict.fromkeys(("organic", "seo"), Channel.ORGANIC_SEARCH),
}


def _http_url(value: Any) -> str:
    """The value when it is an http(s) URL of acceptable length, else ""."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if len(url) > URL_MAX_LENGTH or any(c in url for c in "\r\n\x00"):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in {"http", "https"} and parts.netloc else ""


def _short_text(value: Any) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return ""
    return clean_text(value)[:UTM_MAX_LENGTH]


def context_from(
    posted: Mapping[str, Any], *, referer_header: str = "", visitor_cookie: str = ""
) -> dict[str, str]:
    """The submission's context from the posted `lb.*` values. A plain HTML form on another
    site sends none: then the landing page is the page that posted (the Referer header) and the
    UTM values are read from its query string. Bad values are dropped, not reported: they are
    the page's, not the visitor's, doing."""
    context: dict[str, str] = {}
    landing = _http_url(posted.get("lb.landing_page")) or _http_url(referer_header)
    if landing:
        context["landing_page"] = landing
    if referrer := _http_url(posted.get("lb.referrer")):
        context["referrer"] = referrer
    query: dict[str, str] = {}
    if landing:
        try:
            query = dict(parse_qsl(urlsplit(landing).query, keep_blank_values=False))
        except ValueError:
            query = {}
    for key in UTM_KEYS:
        if value := _short_text(posted.get(f"lb.{key}")) or _short_text(query.get(key)):
            context[key] = value
    visitor = posted.get("lb.visitor_id") or visitor_cookie
    if isinstance(visitor, str) and _VISITOR_ID.match(visitor):
        context["visitor_id"] = visitor
    return context


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _labels(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - {""}


def _kind_of(name: str) -> str:
    """ "search", "social" or "" for a host name or a utm_source value."""
    if name in _SOCIAL_HOSTS:
        return "social"
    labels = _labels(name)
    if labels & _SEARCH:
        return "search"
    if labels & _SOCIAL:
        return "social"
    return ""


def channel_for(context: Mapping[str, str]) -> str:
    """The source channel of a submission with this context: from utm_medium (cpc, email,
    social, ...) and utm_source, else from the referrer's host (a search engine, a social
    network, another site), else direct."""
    medium = re.sub(r"[\s-]+", "_", context.get("utm_medium", "").strip().lower())
    source_kind = _kind_of(context.get("utm_source", ""))
    if medium:
        channel = _MEDIUM.get(medium, "")
        if channel == Channel.PAID_SEARCH and source_kind == "social":
            return Channel.PAID_SOCIAL
        if channel == Channel.PAID_SOCIAL and medium in {"display", "banner", "cpm", "paid"}:
            return Channel.PAID_SOCIAL if source_kind == "social" else Channel.OTHER
        if channel:
            return channel
    if source_kind:
        return Channel.ORGANIC_SEARCH if source_kind == "search" else Channel.ORGANIC_SOCIAL
    if medium or context.get("utm_source"):
        return Channel.OTHER
    referrer_host = _host(context.get("referrer", ""))
    if not referrer_host or referrer_host == _host(context.get("landing_page", "")):
        return Channel.DIRECT
    kind = _kind_of(referrer_host)
    if kind == "search":
        return Channel.ORGANIC_SEARCH
    if kind == "social":
        return Channel.ORGANIC_SOCIAL
    return Channel.REFERRAL
