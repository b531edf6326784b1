"""Public tracking URLs (stable, documented in docs/tracking.md), answered without a login:

- `GET /t/lb.js`: the snippet a site includes with one script tag;
- `POST /t/collect`: the snippet's beacon, `{"visitor_id": "...", "events": [...]}` (sent as
  text/plain so browsers need no preflight; application/json works too);
- `GET /t/pixel.gif`: a 1x1 image for pages without JavaScript.

Per-IP rate limit (LEADBASE_TRACKING_RATE_PER_IP, 429 with Retry-After), body limit, and, when
LEADBASE_TRACKING_ALLOWED_DOMAINS is set, only pages of those sites (Origin or Referer).
"""

from __future__ import annotations

import base64
import json
import secrets
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from leadbase.core.errors import ApplicationError
from leadbase.core.ratelimit import RateLimited, client_ip, parse_rate, rate_check

from .services import BatchTooLarge, IngestResult, beacon_collect
from .validation import VISITOR_ID, VISITOR_ID_RULE

VISITOR_COOKIE = "lb_vid"
VISITOR_COOKIE_SECONDS = 2 * 365 * 24 * 3600
BEACON_MAX_BYTES = 16_384
SNIPPET = Path(__file__).parent / "static" / "tracking" / "lb.js"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
PIXEL_FIELDS = {"url", "title", "referrer"}
RATE_MESSAGE = "Too many tracking requests from this address."


class SiteNotTracked(ApplicationError):
    status = 403


@cache
def _snippet() -> bytes:
    return SNIPPET.read_bytes()


@require_safe
def snippet(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_snippet(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _allowed_hosts() -> set[str]:
    raw = str(getattr(settings, "LEADBASE_TRACKING_ALLOWED_DOMAINS", ""))
    return {h.strip().lower() for h in raw.replace(",", " ").split() if h.strip()}


def _page_host(request: HttpRequest) -> str:
    page = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return (urlsplit(page).hostname or "").lower()


def _site_problem(request: HttpRequest) -> str | None:
    allowed = _allowed_hosts()
    if not allowed:
        return None
    host = _page_host(request)
    if host in allowed or any(host.endswith("." + a) for a in allowed):
        return None
    return "This page's site is not one Leadbase tracks (LEADBASE_TRACKING_ALLOWED_DOMAINS)."


def _limit(request: HttpRequest) -> None:
    rate = parse_rate(
        settings.LEADBASE_TRACKING_RATE_PER_IP, setting="LEADBASE_TRACKING_RATE_PER_IP"
    )
    rate_check([(f"track:ip:{client_ip(request) or 'unknown'}", rate)], message=RATE_MESSAGE)


def _json(status: int, body: dict[str, Any]) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-store"
    return response


def _refusal(exc: ApplicationError) -> JsonResponse:
    response = _json(exc.status, {"detail": exc.message, "errors": dict(exc.fields)})
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _read_beacon(request: HttpRequest) -> tuple[str, list[Any]]:
    """(visitor id, events) of a beacon body, or ApplicationError saying what to fix."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > BEACON_MAX_BYTES:
        raise BatchTooLarge(f"The body is {length:,} bytes; the limit is {BEACON_MAX_BYTES:,}.")
    body = request.read(BEACON_MAX_BYTES + 1)
    if len(body) > BEACON_MAX_BYTES:
        raise BatchTooLarge(f"The body is over the limit of {BEACON_MAX_BYTES:,} bytes.")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApplicationError(
            'The body is not JSON; send {"visitor_id": "...", "events": [...]}.'
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ApplicationError(
            'The body must be a JSON object {"visitor_id": "...", "events": [...]}.',
            fields={"events": "must be a list"},
        )
    visitor = data.get("visitor_id")
    if not isinstance(visitor, str) or not VISITOR_ID.match(visitor):
        raise ApplicationError(
            "visitor_id is missing or not valid.", fields={"visitor_id": VISITOR_ID_RULE}
        )
    return visitor, data["events"]


def _preflight() -> HttpResponse:
    response = HttpResponse(status=HTTPStatus.NO_CONTENT)
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def collect(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight()
    try:
        if problem := _site_problem(request):
            raise SiteNotTracked(problem)
        _limit(request)
        visitor, items = _read_beacon(request)
        result = beacon_collect(visitor_id=visitor, items=items, source="tracking:beacon")
    except ApplicationError as exc:
        return _refusal(exc)
    return _json(HTTPStatus.ACCEPTED, result.as_dict())


def _pixel(status: int, error: str = "") -> HttpResponse:
    response = HttpResponse(PIXEL, content_type="image/gif", status=status)
    response["Cache-Control"] = "no-store, max-age=0"
    if error:
        # Header values must be one line of Latin-1: the message is plain ASCII text.
        response["X-Leadbase-Error"] = error.encode("ascii", "replace").decode()[:300]
    return response


@require_safe
def pixel(request: HttpRequest) -> HttpResponse:
    """`/t/pixel.gif?vid=<visitor id>&type=page_view&url=...&title=...&referrer=...`. Without
    `vid`, the visitor is the one of Leadbase's own `lb_vid` cookie (set here when missing)."""
    params = request.GET
    visitor = params.get("vid") or request.COOKIES.get(VISITOR_COOKIE) or ""
    minted = False
    if not visitor:
        visitor, minted = secrets.token_urlsafe(16), True
    try:
        if problem := _site_problem(request):
            return _pixel(HTTPStatus.FORBIDDEN, problem)
        _limit(request)
        if not VISITOR_ID.match(visitor):
            return _pixel(HTTPStatus.BAD_REQUEST, f"vid {VISITOR_ID_RULE}")
        properties = {k: params[k] for k in PIXEL_FIELDS if params.get(k)}
        if "url" not in properties and (page := request.headers.get("Referer")):
            properties["url"] = page
        event = {"type": params.get("type") or "page_view", "properties": properties}
        result: IngestResult = beacon_collect(
            visitor_id=visitor, items=[event], source="tracking:pixel"
        )
    except RateLimited as exc:
        response = _pixel(HTTPStatus.TOO_MANY_REQUESTS, exc.message)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if result.errors:
        return _pixel(HTTPStatus.BAD_REQUEST, result.errors[0].message)
    response = _pixel(HTTPStatus.OK)
    if minted:
        response.set_cookie(
            VISITOR_COOKIE,
            visitor,
            max_age=VISITOR_COOKIE_SECONDS,
            secure=request.is_secure(),
            httponly=True,
            samesite="None" if request.is_secure() else "Lax",
        )
    return response
