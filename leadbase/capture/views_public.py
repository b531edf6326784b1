"""Public form endpoints, open to anyone on the internet (see docs/capture-forms.md):

- `GET /f/<slug>`: the hosted page (works without JavaScript);
- `POST /f/<slug>`: a submission as form encoding, multipart or JSON; answers HTML or JSON;
- `OPTIONS /f/<slug>`: the CORS preflight of the embed;
- `GET /f/<slug>/embed.js`: the embed script with the form in it.

None of them reads the session or any cookie for authentication, and none needs a CSRF token:
they are posted from other sites on purpose. What protects them is the origin check (browsers
send Origin; only the form's allowed domains and Leadbase itself pass), body and field limits,
rate limits per IP and per form, and the spam signals, which hold a submission rather than
reject it. Views parse and answer; `services_submissions` decides.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import lru_cache
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.csp import CSP  # type: ignore[import-not-found,unused-ignore]
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from leadbase.core.errors import ApplicationError
from leadbase.core.ratelimit import Rate, RateLimited, client_ip, parse_rate, rate_check

from .attribution import CONTEXT_FIELDS, UTM_KEYS, VISITOR_COOKIE
from .form_cache import public_form_get
from .form_render import embed_config, embed_script, initial_values, widgets_for
from .form_values import CONSENT_FIELD
from .models import Form, FormField
from .origins import allowed_hosts, origin_allowed, redirect_target
from .services_submissions import IDEMPOTENCY_KEY_MAX_LENGTH, RATE_MESSAGE, submission_receive
from .spam import HONEYPOT_FIELD, TOKEN_FIELD, fill_token_make

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_TYPE = "application/json"
MAX_POSTED_FIELDS = 200
DEFAULT_THANK_YOU = "Thank you! We have received your submission."
CORS_MAX_AGE = "600"


class BadRequest(ApplicationError):
    """The request itself cannot be read (not the values in it)."""


class UnsupportedType(ApplicationError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class TooLarge(ApplicationError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class OriginRefused(ApplicationError):
    status = HTTPStatus.FORBIDDEN


def _wants_json(request: HttpRequest) -> bool:
    if request.content_type == JSON_TYPE:
        return True
    accept = request.headers.get("Accept", "")
    return JSON_TYPE in accept and "text/html" not in accept


def _thank_you(form: Form) -> str:
    return form.thank_you_message.strip() or DEFAULT_THANK_YOU


# --- The hosted page -----------------------------------------------------------------------


@csrf_exempt  # posted from other sites on purpose; protected by origin, limits and spam checks
@require_http_methods(["GET", "HEAD", "POST", "OPTIONS"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    public = public_form_get(slug)
    form = public.form if public else None
    if request.method == "OPTIONS":
        return _preflight(request, form)
    if public is None or form is None:
        return _error(request, None, HTTPStatus.NOT_FOUND, _not_found_message(), {})
    fields = list(public.fields)
    if request.method == "POST":
        return _submit(request, form, fields, public.answers)
    meta = _meta_from_request(request)
    values = initial_values(fields=fields, query=request.GET)
    return _page(request, form, fields, values=values, errors={}, meta=meta)


def _not_found_message() -> str:
    return (
        "This form is not available: the link may be mistyped, or the form has been closed. "
        "Please contact the site that sent you here."
    )


def _meta_from_request(request: HttpRequest) -> dict[str, str]:
    """The context the hosted page posts back: its own URL, the page before it, the UTM values
    of its query string, and a fresh fill-time token (added by _page)."""
    meta = {"lb.landing_page": request.build_absolute_uri()}
    referer = request.headers.get("Referer", "")
    if referer.startswith(("http://", "https://")):
        meta["lb.referrer"] = referer
    for key in UTM_KEYS:
        if value := request.GET.get(key, ""):
            meta[f"lb.{key}"] = value
    return meta


def _page(
    request: HttpRequest,
    form: Form,
    fields: list[FormField],
    *,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    meta: Mapping[str, str],
    status: int = HTTPStatus.OK,
) -> HttpResponse:
    token = meta.get(TOKEN_FIELD) or fill_token_make(form_id=form.pk)
    hidden = [(name, value) for name, value in meta.items() if name != TOKEN_FIELD]
    consent_value = values.get(CONSENT_FIELD)
    response = TemplateResponse(
        request,
        "capture/public/form_page.html",
        {
            "form": form,
            "widgets": widgets_for(form=form, fields=fields, values=values, errors=errors),
            "errors": errors,
            "general_error": errors.get("__all__", ""),
            "meta": hidden,
            "token_field": TOKEN_FIELD,
            "token": token,
            "honeypot_field": HONEYPOT_FIELD,
            "consent_field": CONSENT_FIELD,
            "consent_checked": str(consent_value).lower() in {"on", "true", "1", "yes"},
            "consent_error": errors.get(CONSENT_FIELD, ""),
        },
        status=status,
    )
    add_never_cache_headers(response)  # each page carries its own fill-time token
    return _allow_other_sites(response, form)


def _allow_other_sites(response: HttpResponse, form: Form | None) -> HttpResponse:
    """The form's allowed domains may frame its pages (an <iframe> is the way to embed it
    without JavaScript), and its submission may redirect to them: CSP's form-action also
    covers where a form's answer redirects, so the thank-you redirect needs them there."""
    hosts = [h for h in allowed_hosts(form) if ":" not in h] if form else []
    if hosts:
        policy = dict(settings.SECURE_CSP)
        policy["form-action"] = [CSP.SELF, *hosts]
        policy["frame-ancestors"] = [CSP.SELF, *hosts]
        response._csp_config = policy  # type: ignore[attr-defined]  # read by CSP middleware
        response.xframe_options_exempt = True  # the CSP says who may frame it
    return response


# --- Submissions ---------------------------------------------------------------------------


def _submit(
    request: HttpRequest, form: Form, fields: list[FormField], answers: dict[str, Any]
) -> HttpResponse:
    json_mode = _wants_json(request)
    cors = _cors_headers(form, request.headers.get("Origin", ""))
    ip_address = client_ip(request)
    limits = _rate_limits(ip_address, form)
    values: dict[str, Any] = {}
    try:
        _check_origin(request, cors)
        _check_size(request)
        _check_type(request)
        try:
            values = _parse(request)
            key = _idempotency_key(request)
        except ApplicationError:
            rate_check(limits, message=RATE_MESSAGE)  # unreadable posts count too
            raise
        received = submission_receive(
            form=form,
            values=values,
            fields=fields,
            ip_address=ip_address,
            user_agent=request.headers.get("User-Agent", ""),
            idempotency_key=key,
            referer=request.headers.get("Referer", ""),
            visitor_cookie=request.COOKIES.get(VISITOR_COOKIE, ""),
            limits=limits,
            from_allowed_site=bool(cors) or _referred_by_allowed_site(form, request),
        )
    except ApplicationError as exc:
        return _with_headers(_refused(request, form, fields, values, exc, json_mode), cors)
    response = _accepted(request, form, json_mode, answers)
    if received.replayed:
        response["Idempotent-Replayed"] = "true"
    _never_cache(response)
    return _with_headers(response, cors)


def _refused(
    request: HttpRequest,
    form: Form,
    fields: list[FormField],
    values: Mapping[str, Any],
    exc: ApplicationError,
    json_mode: bool,
) -> HttpResponse:
    """The answer to a post that was not taken: the form again with the problems (HTML and
    values that were read), else the message; 429 says when to come back."""
    if json_mode or not values or isinstance(exc, RateLimited) or exc.status != 400:
        response = _error(request, form, exc.status, exc.message, exc.fields, json_mode=json_mode)
    else:
        meta = {
            name: value
            for name, value in values.items()
            if (name in CONTEXT_FIELDS or name == TOKEN_FIELD) and isinstance(value, str)
        }
        response = _page(
            request, form, fields, values=values, errors=exc.fields, meta=meta, status=exc.status
        )
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _accepted(
    request: HttpRequest, form: Form, json_mode: bool, answers: dict[str, Any]
) -> HttpResponse:
    """The same answer for every stored submission (processed later, held as spam, or a
    duplicate), so a bot learns nothing: JSON, the redirect, or the thank-you page. The
    bodies depend on the form only: made once per version of the form (form_cache)."""
    if (redirect := answers.get("redirect")) is None:
        redirect = answers["redirect"] = redirect_target(form)
    if json_mode:
        if (body := answers.get("json")) is None:
            message = {"ok": True, "message": _thank_you(form), "redirect": redirect or None}
            body = answers["json"] = JsonResponse(message).content
        return HttpResponse(body, content_type=JSON_TYPE)
    if redirect:
        return HttpResponseRedirect(redirect, status=HTTPStatus.SEE_OTHER)
    if (page := answers.get("thank_you")) is None:
        # Rendered without the request: the page has no per-request value (CSP nonce, CSRF
        # token), so it can serve every request.
        context = {"form": form, "message": _thank_you(form)}
        page = answers["thank_you"] = render_to_string("capture/public/thank_you.html", context)
    return _allow_other_sites(HttpResponse(page), form)


_NEVER_CACHE = HttpResponse()
add_never_cache_headers(_NEVER_CACHE)
_NEVER_CACHE_CONTROL = _NEVER_CACHE["Cache-Control"]


def _never_cache(response: HttpResponse) -> None:
    """add_never_cache_headers, with its Cache-Control value made once."""
    if response.has_header("Cache-Control") or response.has_header("Expires"):
        add_never_cache_headers(response)
        return
    response.headers["Expires"] = _http_date(int(time.time()))
    response.headers["Cache-Control"] = _NEVER_CACHE_CONTROL


@lru_cache(maxsize=2)
def _http_date(second: int) -> str:
    return http_date(second)


def _cors_headers(form: Form, origin: str) -> dict[str, str]:
    if not origin_allowed(form, origin):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _with_headers(response: HttpResponse, headers: Mapping[str, str]) -> HttpResponse:
    for name, value in headers.items():
        response[name] = value
    return response


def _referred_by_allowed_site(form: Form, request: HttpRequest) -> bool:
    """A browser posting a plain HTML form names the page in Referer (and, mostly, Origin)."""
    try:
        parts = urlsplit(request.headers.get("Referer", ""))
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc) and origin_allowed(
        form, f"{parts.scheme}://{parts.netloc}"
    )


def _check_origin(request: HttpRequest, cors: Mapping[str, str]) -> None:
    """Browsers name the page's origin on every cross-site POST: refuse origins that are not
    an allowed domain of the form (no Origin at all is a server or an old client: let it be,
    the spam checks apply)."""
    origin = request.headers.get("Origin", "")
    if not origin or cors or origin == f"{request.scheme}://{request.get_host()}":
        return
    raise OriginRefused(
        f"This form does not accept submissions from {origin[:100]}. The form's owner can "
        "add that site's host name to the form's allowed domains."
    )


def _check_size(request: HttpRequest) -> None:
    limit = int(settings.LEADBASE_FORMS_MAX_BODY_BYTES)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest("The Content-Length header is not a number.") from None
    if length > limit:
        raise TooLarge(
            f"The submission is {length:,} bytes; a form takes at most {limit:,}. Shorten the "
            "longest answers and send it again."
        )


def _check_type(request: HttpRequest) -> None:
    content_type = request.content_type or ""
    if content_type in FORM_TYPES or content_type == JSON_TYPE:
        charset = (request.content_params or {}).get("charset", "utf-8").lower()
        if charset.replace("_", "-") in {"utf-8", "utf8"}:
            return
        raise UnsupportedType(f"Send the submission as UTF-8 text, not {charset[:40]}.")
    raise UnsupportedType(
        f"A form takes {', '.join(FORM_TYPES)} or {JSON_TYPE}, not "
        f"{content_type[:80] or 'a body without a Content-Type'}."
    )


def _rate_limits(ip_address: str | None, form: Form) -> list[tuple[str, Rate]]:
    """One hit per post on the client's IP address and on the form (settings
    LEADBASE_FORMS_RATE_PER_IP and LEADBASE_FORMS_RATE_PER_FORM)."""
    per_ip = _rate(settings.LEADBASE_FORMS_RATE_PER_IP, "LEADBASE_FORMS_RATE_PER_IP")
    per_form = _rate(settings.LEADBASE_FORMS_RATE_PER_FORM, "LEADBASE_FORMS_RATE_PER_FORM")
    limits = [(f"forms:form:{form.pk}", per_form)]
    if ip_address:
        limits.insert(0, (f"forms:ip:{ip_address}", per_ip))
    return limits


@lru_cache(maxsize=16)
def _rate(text: str, setting: str) -> Rate:
    return parse_rate(text, setting=setting)


def _parse(request: HttpRequest) -> dict[str, Any]:
    """The posted values by name (the first of repeated names); files are ignored."""
    content_type = request.content_type
    try:
        if content_type == JSON_TYPE:
            return _parse_json(request.body)
        if content_type == FORM_TYPES[0]:
            text = request.body.decode("utf-8")
            pairs = parse_qsl(
                text,
                keep_blank_values=True,
                encoding="utf-8",
                errors="strict",
                max_num_fields=MAX_POSTED_FIELDS,
            )
            values: dict[str, Any] = {}
            for name, value in pairs:
                values.setdefault(name, value)
            return values
        if len(request.POST) > MAX_POSTED_FIELDS:
            raise BadRequest(f"The submission has more than {MAX_POSTED_FIELDS} fields.")
        return {name: request.POST.get(name) for name in request.POST}
    except UnicodeDecodeError:
        raise BadRequest("The submission is not valid UTF-8 text.") from None
    except (ValueError, TooManyFieldsSent):  # parse_qsl's too many fields, among others
        raise BadRequest(
            f"The form data cannot be read (more than {MAX_POSTED_FIELDS} fields, or not "
            "encoded as the Content-Type says)."
        ) from None
    except MultiPartParserError as exc:
        raise BadRequest(f"The multipart form data cannot be read: {exc}.") from None
    except RequestDataTooBig:
        raise TooLarge("The submission is larger than this server accepts.") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise BadRequest('Send a JSON object of field values, e.g. {"email": "ann@example.com"}.')
    if len(data) > MAX_POSTED_FIELDS:
        raise BadRequest(f"The submission has more than {MAX_POSTED_FIELDS} fields.")
    return data


def _idempotency_key(request: HttpRequest) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not (key.isascii() and key.isprintable()):
        raise BadRequest(
            f"The Idempotency-Key header must be printable ASCII of at most "
            f"{IDEMPOTENCY_KEY_MAX_LENGTH} characters (e.g. a UUID).",
            fields={"Idempotency-Key": "is not a usable key"},
        )
    return key


def _json_error(status: int, detail: str, errors: Mapping[str, str]) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": dict(errors)}, status=status)


def _error(
    request: HttpRequest,
    form: Form | None,
    status: int,
    message: str,
    errors: Mapping[str, str],
    *,
    json_mode: bool | None = None,
) -> HttpResponse:
    if json_mode is None:
        json_mode = _wants_json(request)
    if json_mode:
        return _json_error(status, message, errors)
    title = {
        HTTPStatus.NOT_FOUND: "Form not available",
        HTTPStatus.TOO_MANY_REQUESTS: "Too many submissions",
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "Submission too large",
    }.get(HTTPStatus(status), "The submission could not be read")
    page = TemplateResponse(
        request,
        "capture/public/message.html",
        {"form": form, "title": title, "message": message},
        status=status,
    )
    return _allow_other_sites(page, form)


def _preflight(request: HttpRequest, form: Form | None) -> HttpResponse:
    """CORS preflight: allowed origins learn they may POST JSON with an Idempotency-Key;
    others get a 403 without any CORS header, so their browser refuses to send."""
    origin = request.headers.get("Origin", "")
    if form is None or not origin_allowed(form, origin):
        return HttpResponse(status=HTTPStatus.FORBIDDEN)
    response = HttpResponse(status=HTTPStatus.NO_CONTENT)
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST"
    response["Access-Control-Allow-Headers"] = "Content-Type, Accept, Idempotency-Key"
    response["Access-Control-Max-Age"] = CORS_MAX_AGE
    response["Vary"] = "Origin"
    return response


# --- The embed script ----------------------------------------------------------------------


@require_safe
def embed_js(request: HttpRequest, slug: str) -> HttpResponse:
    """The embed script of one form, with a fresh fill-time token (so never cached)."""
    public = public_form_get(slug)
    if public is None:
        response = HttpResponse(
            "/* This Leadbase form does not exist or is closed. */\n",
            status=HTTPStatus.NOT_FOUND,
            content_type="text/javascript; charset=utf-8",
        )
    else:
        config = embed_config(
            form=public.form,
            fields=public.fields,
            token=fill_token_make(form_id=public.form.pk),
            thank_you=_thank_you(public.form),
        )
        response = HttpResponse(embed_script(config), content_type="text/javascript; charset=utf-8")
    add_never_cache_headers(response)
    # Loaded by pages of other sites, also those that require cross-origin opt-in (COEP).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response._csp_config = {}  # type: ignore[attr-defined]  # a script needs no CSP header
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def ping(request: HttpRequest) -> JsonResponse:
    """`/f/-/ping`: the same stack as a form post (middleware, routing, a JSON answer) without
    the database; the form benchmark's baseline and a reachability check. It reads the body
    it is sent (a server must, to keep the connection open for the next request)."""
    return JsonResponse({"ok": True, "received": len(request.body)})
