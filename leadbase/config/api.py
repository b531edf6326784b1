"""The JSON API root at /api/v1/: each app contributes its own router module.

Every error is JSON of one shape, `{"detail": "<what to fix>", "errors": {"field": "what is
wrong"}}`, with the status that fits: services' ApplicationError (its own status), ninja's
schema errors (422), bad JSON (400), no or bad key (401), missing scope or role (403), unknown
endpoint (404), wrong method (405), body too large (413), and anything unexpected (500).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import wraps
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import (
    NoReverseMatch,
    Resolver404,
    URLPattern,
    URLResolver,
    re_path,
    resolve,
    reverse,
)
from django.utils.log import log_response
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from ninja.types import DictStrAny

from leadbase.accounts.api_auth import ApiKeyAuth
from leadbase.capture.api_forms import router as forms_router
from leadbase.capture.api_hooks import router as hooks_router
from leadbase.capture.api_imports import router as imports_router
from leadbase.core.api_json import ApiJSONRenderer
from leadbase.core.errors import ApplicationError
from leadbase.leads.api import router as leads_router
from leadbase.leads.api_duplicates import router as duplicates_router
from leadbase.scoring.api import router as scoring_router
from leadbase.scoring.api_models import router as models_router
from leadbase.tracking.api import router as tracking_router


class InvalidJSON(ValueError):
    """The body is not a JSON document (ninja turns parser errors into a 400 HttpError)."""


class StrictJSONParser(Parser):
    """JSON bodies only, without the NaN/Infinity that Python accepts but JSON does not."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        try:
            data: DictStrAny = json.loads(request.body, parse_constant=_reject_constant)
        except InvalidJSON:
            raise
        except json.JSONDecodeError as exc:
            raise InvalidJSON(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
        except UnicodeDecodeError:
            raise InvalidJSON("it is not UTF-8 text") from None
        return data


def _reject_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not a JSON value; send a number or null")


class LeadbaseAPI(NinjaAPI):
    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        """ninja's URLs, with a JSON 405 for wrong methods and a JSON 404 for the rest."""
        patterns, app_name, namespace = super().urls
        wrapped = [_json_405(p) if isinstance(p, URLPattern) else p for p in patterns]
        return [*wrapped, re_path(r"^", _not_found, name="not-found")], app_name, namespace


api = LeadbaseAPI(
    title="Leadbase API",
    version="1",
    description=(
        "Leads, companies and more. Authenticate with `Authorization: Bearer <key>`. "
        'Errors are JSON: `{"detail": "what to fix", "errors": {"field": "problem"}}`.'
    ),
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
    auth=ApiKeyAuth(),
    parser=StrictJSONParser(),
    renderer=ApiJSONRenderer(),
)
api.add_router("/", leads_router)
api.add_router("/", duplicates_router)
api.add_router("/", forms_router)
api.add_router("/", hooks_router)
api.add_router("/", imports_router)
api.add_router("/", tracking_router)
api.add_router("/", scoring_router)
api.add_router("/", models_router)


@api.get("/ping", auth=None, tags=["status"], summary="Reachability check (no key needed)")
def ping(request: HttpRequest) -> dict[str, bool]:
    """Answers without touching the database: for load balancers, and the benchmarks' baseline."""
    return {"ok": True}


# --- Error responses -----------------------------------------------------------------------


def error_response(
    request: HttpRequest, status: int, detail: str, errors: Mapping[str, str] | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"detail": detail, "errors": dict(errors or {})}, status=status
    )


def _json_response(
    status: int, detail: str, errors: Mapping[str, str] | None = None
) -> HttpResponse:
    body = json.dumps({"detail": detail, "errors": dict(errors or {})})
    return HttpResponse(body, status=status, content_type="application/json")


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return error_response(request, exc.status, exc.message, exc.fields)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """ninja's error location ("body", "payload", "email") as the client's field name."""
    source, *path = loc or ["body"]
    if source == "body" and path:
        path = path[1:]  # the view's parameter name, which the client never sees
    return ".".join(str(part) for part in path) or str(source)


def _message_of(error: Mapping[str, Any]) -> str:
    kind, message = error.get("type", ""), str(error.get("msg", "is not valid"))
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (put custom data under 'attributes')"
    return message.removeprefix("Value error, ")


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for error in exc.errors:
        errors.setdefault(_field_of(tuple(error.get("loc", ()))), _message_of(error))
    if errors == {"body": "is required"}:
        detail = "The request has no body. Send a JSON object (see /api/v1/docs)."
    elif errors.keys() == {"body"}:
        detail = (
            f"The request body is not what this endpoint takes: {errors['body']}. "
            "Send a JSON object (see /api/v1/docs)."
        )
    else:
        summary = "; ".join(f"{field}: {message}" for field, message in errors.items())
        detail = f"Some values are not valid ({summary}). Correct them and send the request again."
    return error_response(request, HTTPStatus.UNPROCESSABLE_ENTITY, detail, errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = exc.message
    if isinstance(exc.__cause__, InvalidJSON):
        detail = (
            f"The request body is not valid JSON: {exc.__cause__}. Send a JSON object with "
            "Content-Type: application/json."
        )
    response = error_response(request, exc.status_code, detail)
    if exc.status_code == HTTPStatus.UNAUTHORIZED:
        response["WWW-Authenticate"] = 'Bearer realm="leadbase"'
    return response


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        request,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        f"The request body is larger than the limit of {limit:,} bytes. Send less data per "
        "request (e.g. one lead per request, shorter attributes).",
    )


@api.exception_handler(Http404)
def _http_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, HTTPStatus.NOT_FOUND, "Not found. Check the URL and the id.")


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = error_response(
        request,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "Leadbase hit an unexpected error and logged it; nothing you sent is at fault as far "
        "as it can tell. Try again later, and tell your Leadbase admin if it persists.",
    )
    # Logged like Django logs a crashed view (traceback included), and only once.
    log_response(
        "Internal Server Error: %s", request.path, response=response, request=request, exception=exc
    )
    return response


# --- Unknown endpoints and methods ---------------------------------------------------------


def _json_405(pattern: URLPattern) -> URLPattern:
    view: Callable[..., HttpResponseBase] = pattern.callback

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code != HTTPStatus.METHOD_NOT_ALLOWED:
            return response
        allowed = response.get("Allow", "")
        json_response = _json_response(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{request.method} is not allowed on {request.path}; use {allowed}.",
        )
        json_response["Allow"] = allowed
        return json_response

    return URLPattern(pattern.pattern, wrapper, pattern.default_args, pattern.name)


@csrf_exempt  # a POST to a wrong URL deserves the JSON 404, not a CSRF failure page
def _not_found(request: HttpRequest) -> HttpResponse:
    detail = f"There is no API endpoint at {request.path}."
    other = request.path[:-1] if request.path.endswith("/") else f"{request.path}/"
    try:
        if resolve(other).url_name != "not-found":
            detail += f" Did you mean {other}?"
    except (Resolver404, NoReverseMatch):
        pass
    docs = reverse(f"{api.urls_namespace}:openapi-view")
    return _json_response(HTTPStatus.NOT_FOUND, f"{detail} The endpoints are listed at {docs}.")
