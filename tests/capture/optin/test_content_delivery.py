"""Content delivery: the download email (at once, or after confirmation with double opt-in),
the download view (streamed file, safe Content-Disposition, one event per link)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.http import FileResponse
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from pytest_django import DjangoCaptureOnCommitCallbacks

from leadbase.capture.models import Form, FormPurpose
from leadbase.capture.optin_links import download_token_make
from leadbase.capture.views_optin import content_disposition, safe_filename
from leadbase.leads.models import Event

from .conftest import BASE_URL, Handler, Received, Submit

pytestmark = pytest.mark.django_db
DOWNLOAD_LINK = re.compile(re.escape(BASE_URL) + r"(/f/download/[A-Za-z0-9_:\-.]+)")
CONFIRM_LINK = re.compile(re.escape(BASE_URL) + r"(/f/confirm/[A-Za-z0-9_:\-.]+)")
PDF = b"%PDF-1.4 not really a pdf\n" * 1000


def link(received: Received, pattern: re.Pattern[str]) -> str:
    text = received.message.get_body(preferencelist=("plain",))
    html = received.message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    found = pattern.findall(text.get_content())
    assert found and found[0] in html.get_content()
    return str(found[0])


@pytest.fixture
def content_form(make_form: Callable[..., Form]) -> Callable[..., Form]:
    def factory(**fields: Any) -> Form:
        fields.setdefault("name", "The 2025 pricing guide")
        return make_form(
            purpose=FormPurpose.CONTENT_DOWNLOAD,
            content=(fields.pop("file_name", "Pricing guide \N{EN DASH} Übersicht.pdf"), PDF),
            **fields,
        )

    return factory


def download(client: Client, path: str) -> tuple[FileResponse, bytes]:
    response = client.get(path)
    assert response.status_code == HTTPStatus.OK, response.content[:500]
    assert isinstance(response, FileResponse)
    return response, b"".join(response.streaming_content)


def test_content_is_emailed_at_once_without_double_opt_in(
    content_form: Callable[..., Form], submit: Submit, mailbox: Handler, client: Client
) -> None:
    form = content_form()
    _, result = submit(form, email="ann@example.com", first_name="Ann")

    assert len(mailbox.received) == 1
    message = mailbox.received[0].message
    assert message["To"] == "ann@example.com"
    assert "The 2025 pricing guide" in message["Subject"] and "Brightwave" in message["Subject"]
    response, body = download(client, link(mailbox.received[0], DOWNLOAD_LINK))

    assert body == PDF
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    # Django's storage keeps Unicode letters and drops what is unsafe in a file name.
    assert "filename*=utf-8''Pricing_guide__%C3%9Cbersicht.pdf" in disposition
    assert 'filename="Pricing_guide__Ubersicht.pdf"' in disposition
    event = Event.objects.get(lead=result.lead, type="content_download", source="form:form-1")
    assert event.properties["file"] == "Pricing_guide__Übersicht.pdf"


def test_a_download_event_is_recorded_once_per_link(
    content_form: Callable[..., Form], submit: Submit, mailbox: Handler, client: Client
) -> None:
    form = content_form()
    submission, result = submit(form)
    path = link(mailbox.received[0], DOWNLOAD_LINK)

    download(client, path)
    download(client, path)
    client.head(path)
    assert Event.objects.filter(lead=result.lead, properties__has_key="link_id").count() == 1

    other = download_token_make(submission=submission, email="ann@example.com")
    download(client, f"/f/download/{other}")
    assert Event.objects.filter(lead=result.lead, properties__has_key="link_id").count() == 2


def test_with_double_opt_in_content_follows_the_confirmation(
    content_form: Callable[..., Form],
    submit: Submit,
    mailbox: Handler,
    client: Client,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    form = content_form(double_opt_in=True)
    submit(form)
    assert len(mailbox.received) == 1, "only the confirmation email before confirming"
    confirm = link(mailbox.received[0], CONFIRM_LINK)
    plain = mailbox.received[0].message.get_body(("plain",))
    assert plain is not None and "download follows" in plain.get_content()

    client.get(confirm)
    assert len(mailbox.received) == 1, "opening the link does not confirm"
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(confirm)

    assert len(mailbox.received) == 2
    _, body = download(client, link(mailbox.received[1], DOWNLOAD_LINK))
    assert body == PDF
    # The thank-you page offers the download too.
    direct = re.search(rb'href="(/f/download/[^"]+)"', page.content)
    assert direct is not None
    download(client, direct.group(1).decode())

    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm)
    assert len(mailbox.received) == 2, "confirming again sends nothing"


def test_expired_download_link_gets_a_400_page(
    content_form: Callable[..., Form], submit: Submit, client: Client, monkeypatch: Any
) -> None:
    submission, result = submit(content_form())
    eight_days_ago = time.time() - 8 * 86400
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: eight_days_ago)
        old = download_token_make(submission=submission, email="ann@example.com")

    response = client.get(f"/f/download/{old}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"This link has expired" in response.content
    assert not Event.objects.filter(lead=result.lead, properties__has_key="link_id").exists()


def test_tampered_download_link_gets_a_400_page(
    content_form: Callable[..., Form], submit: Submit, client: Client
) -> None:
    submission, _ = submit(content_form())
    token = download_token_make(submission=submission, email="ann@example.com")
    response = client.get(f"/f/download/{token[:-1]}{'a' if token[-1] != 'a' else 'b'}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"This link is not valid" in response.content


def test_removed_content_file_answers_gone(
    content_form: Callable[..., Form], submit: Submit, client: Client
) -> None:
    form = content_form()
    submission, _ = submit(form)
    token = download_token_make(submission=submission, email="ann@example.com")
    form.content_file.storage.delete(form.content_file.name or "")

    response = client.get(f"/f/download/{token}")

    assert response.status_code == HTTPStatus.GONE
    assert b"no longer exists" in response.content


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("capture/content/guide.pdf", "guide.pdf"),
        ("capture/content/Ünïcödé 文件.pdf", "Ünïcödé 文件.pdf"),
        ("a\\b\\..\\evil.pdf", "evil.pdf"),
        ("x/evil\r\nX-Injected: 1.pdf", "evilX-Injected: 1.pdf"),
        ("x/..", "download"),
        ("x/\u202egnp.exe", "gnp.exe"),  # right-to-left override, a format character
        ("x/.hidden", "hidden"),
    ],
)
def test_safe_filename(stored: str, expected: str) -> None:
    assert safe_filename(stored) == expected


@given(st.text(max_size=300))
def test_content_disposition_is_one_header_line_for_any_name(name: str) -> None:
    header = content_disposition(safe_filename(name))
    assert "\r" not in header and "\n" not in header
    assert header.isascii()
    assert header.startswith('attachment; filename="')
    ascii_part = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in ascii_part and "\\" not in ascii_part
