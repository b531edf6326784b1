"""The public webhook URLs (/hooks/...): thin HTTP wrappers around hook_intake/hook_generic.

No login, no CSRF token (the platforms cannot send one): each request proves itself with its
signature. The body is read only after its announced size is checked against
LEADBASE_HOOKS_MAX_BODY_BYTES.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leadbase.core.ratelimit import client_ip

from .hook_generic import generic_receive
from .hook_intake import (
    Answer,
    Inbound,
    facebook_verify,
    linkedin_validate,
    max_body_bytes,
    platform_receive,
)
from .models import WebhookKind


def _inbound(request: HttpRequest) -> Inbound:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body: bytes | None = None
    if length <= max_body_bytes():
        try:
            body = request.body
        except RequestDataTooBig:
            body = None
    return Inbound(body=body, headers=request.headers, ip_address=client_ip(request), length=length)


def _response(answer: Answer) -> HttpResponse:
    if answer.content_type == "text/plain":
        content = str(answer.body)
        response = HttpResponse(
            content, status=answer.status, content_type="text/plain; charset=utf-8"
        )
    else:
        response = HttpResponse(
            json.dumps(answer.body, ensure_ascii=False),
            status=answer.status,
            content_type="application/json",
        )
    response["Cache-Control"] = "no-store"
    return response


def _hook(
    get: Callable[[HttpRequest], Answer], post: Callable[[HttpRequest], Answer]
) -> Callable[[HttpRequest], HttpResponse]:
    @csrf_exempt
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        handler = get if request.method == "GET" else post
        return _response(handler(request))

    return view


facebook = _hook(
    lambda request: facebook_verify(request.GET),
    lambda request: platform_receive(WebhookKind.FACEBOOK, _inbound(request)),
)
linkedin = _hook(
    lambda request: linkedin_validate(request.GET),
    lambda request: platform_receive(WebhookKind.LINKEDIN, _inbound(request)),
)


@csrf_exempt
@require_http_methods(["POST"])
def generic(request: HttpRequest, public_id: str) -> HttpResponse:
    return _response(generic_receive(public_id, _inbound(request)))
