"""Public pages behind the links emailed to leads: /f/confirm/<token> (double opt-in) and
/f/download/<token> (content delivery). No login: the signed token is the permission."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from . import optin
from .optin_emails import business_name, content_title, delivers_content
from .optin_links import (
    LinkInvalid,
    confirm_token_read,
    download_token_make,
    download_token_read,
)

_PROBLEMS = {
    "expired": "This link has expired.",
    "invalid": "This link is not valid: it may have been cut short or changed.",
    "gone": "What this link was for no longer exists.",
}


def _private[R: HttpResponseBase](response: R) -> R:
    """Pages reached by a personal link: never cached, never indexed."""
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _problem(request: HttpRequest, error: LinkInvalid, *, what: str) -> HttpResponse:
    status = 410 if error.reason == "gone" else 400
    context = {"problem": _PROBLEMS[error.reason], "what": what, "business": business_name()}
    response = TemplateResponse(request, "capture/optin/link_problem.html", context, status=status)
    return _private(response)


# The token in the URL is the capability: a cross-site form cannot know it, so a CSRF check
# would protect nothing and would only fail for people whose mail app's browser drops cookies.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def optin_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a page with a confirm button (mail scanners that open links confirm
    nothing); POST confirms."""
    try:
        link = confirm_token_read(token)
        if request.method != "POST":
            page = {"business": business_name(), "token": token}
            return _private(TemplateResponse(request, "capture/optin/confirm.html", page))
        result = optin.optin_confirm(link=link)
    except LinkInvalid as error:
        return _problem(request, error, what="confirm your email address")
    download_url = ""
    if delivers_content(result.form):
        download_url = reverse(
            "forms:download",
            args=[download_token_make(submission=result.submission, email=link.email)],
        )
    context: dict[str, object] = {
        "business": business_name(),
        "form_name": content_title(result.form),
        "first_time": result.first_time,
        "thank_you": result.form.thank_you_message,
        "download_url": download_url,
    }
    return _private(TemplateResponse(request, "capture/optin/confirmed.html", context))


def safe_filename(name: str) -> str:
    """The last part of a stored file name, without control or format characters, slashes
    or leading dots; "download" when nothing is left."""
    base = PurePosixPath(name.replace("\\", "/")).name
    text = "".join(ch for ch in base if unicodedata.category(ch)[0] not in {"C", "Z"} or ch == " ")
    text = " ".join(text.split()).lstrip(".").strip()
    return text[:150] or "download"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 one (RFC 6266/8187)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", ascii_name).strip() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=utf-8''{quote(filename, safe='')}"


@require_safe
def content_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """Stream the form's content file; the first GET of each link records a download."""
    try:
        link = download_token_read(token)
        submission, lead = optin.content_download_get(link=link)
        stored = submission.form.content_file
        try:
            handle = stored.open("rb")
        except OSError:
            raise LinkInvalid("gone") from None
    except LinkInvalid as error:
        return _problem(request, error, what="download this file")
    filename = safe_filename(stored.name or "")
    if request.method == "GET" and lead is not None:
        optin.content_download_record(
            link=link, submission=submission, lead=lead, file_name=filename
        )
    response = FileResponse(handle, as_attachment=True)
    response["Content-Disposition"] = content_disposition(filename)
    return _private(response)
