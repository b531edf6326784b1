"""The imports API: multipart upload (dry run or queued run), status, rejections, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from leadbase.accounts.models import User
from leadbase.capture.imports.tasks import import_run_task
from leadbase.capture.models import ImportJob
from leadbase.leads.models import Lead
from tests.capture.imports.conftest import csv_bytes

pytestmark = pytest.mark.django_db

ROWS = [
    ["Email", "Name", "Phone"],
    ["ann@acme.example", "Ann Lee", ""],
    ["broken", "Bob", ""],
    ["", "Cy", "not a phone"],
    ["dee@acme.example", "Dee", "+442079460958"],
]


class Api:
    def __init__(self, client: Client, key: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {key}"}

    def post(self, content: bytes | None, name: str = "leads.csv", **fields: Any) -> Any:
        data: dict[str, Any] = {k: str(v) for k, v in fields.items()}
        if content is not None:
            data["file"] = SimpleUploadedFile(name, content, content_type="text/csv")
        response = self.client.post("/api/v1/imports", data, headers=self.headers)
        return response.status_code, response.json()

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(f"/api/v1{path}", params, headers=self.headers)
        return response.status_code, response.json()


@pytest.fixture
def api(client: Client, api_key_for: Callable[..., str], marketer: User) -> Api:
    return Api(client, api_key_for(marketer))


def test_dry_run_answers_with_the_forecast_and_writes_no_lead(api: Api) -> None:
    status, body = api.post(csv_bytes(ROWS), dry_run="true")
    assert status == HTTPStatus.CREATED, body
    assert body["status"] == "analysed"
    assert body["columns"] == ["Email", "Name", "Phone"]
    assert body["mapping"] == {"Email": "email", "Name": "full_name", "Phone": "phone"}
    summary = body["dry_run"]
    assert (summary["rows"], summary["create"], summary["rejected"]) == (4, 2, 2)
    assert [e["row"] for e in summary["errors"]] == [3, 4]
    assert summary["errors"][1]["reason"].startswith("phone (column “Phone”):")
    assert not Lead.objects.exists()


def test_upload_queues_the_run_then_status_and_rejections(
    api: Api, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    mapping = json.dumps({"Email": "email", "Name": "attributes.name", "Phone": ""})
    with django_capture_on_commit_callbacks(execute=True):
        status, body = api.post(csv_bytes(ROWS), mapping=mapping, source="crm export")
    assert status == HTTPStatus.ACCEPTED, body
    assert (body["status"], body["source"]) == ("queued", "crm export")
    job = ImportJob.objects.get(pk=body["id"])
    assert DBTaskResult.objects.filter(id=job.task_id).exists()

    import_run_task.call(job.pk)  # the worker

    status, body = api.get(body["url"].removeprefix("/api/v1"))
    assert status == HTTPStatus.OK
    assert body["status"] == "done"
    assert (body["processed_rows"], body["created"], body["rejected"]) == (4, 2, 2)
    assert Lead.objects.get(email="ann@acme.example").attributes == {"name": "Ann Lee"}

    status, page = api.get(f"/imports/{job.pk}/rejections", limit=1)
    assert status == HTTPStatus.OK
    assert page["items"] == [
        {
            "row": 3,
            "reason": page["items"][0]["reason"],
            "values": {"Email": "broken", "Name": "Bob", "Phone": ""},
        }
    ]
    assert page["next"] == 3
    status, rest = api.get(f"/imports/{job.pk}/rejections", after=3)
    assert ([i["row"] for i in rest["items"]], rest["next"]) == ([4], None)


@pytest.mark.parametrize(
    ("fields", "content", "status", "error_field", "detail"),
    [
        ({}, None, HTTPStatus.UNPROCESSABLE_ENTITY, "file", "is required"),
        ({"mapping": "{not json"}, b"email\na@acme.example\n", 422, "mapping", "not a JSON object"),
        (
            {"mapping": '{"Email": "emial"}'},
            b"Email\na@acme.example\n",
            422,
            "mapping.Email",
            "emial",
        ),
        ({}, b"\x00\x01\x02" * 100, 422, "file", "binary data"),
        ({}, b"", 422, "file", ""),
    ],
)
def test_bad_uploads_are_4xx_and_leave_nothing(
    api: Api,
    fields: dict[str, str],
    content: bytes | None,
    status: int,
    error_field: str,
    detail: str,
) -> None:
    got, body = api.post(content, **fields)
    assert got == status, body
    assert error_field in body["errors"], body
    assert detail in body["detail"] or detail in body["errors"][error_field]
    assert not ImportJob.objects.exists()


def test_too_large_is_413(api: Api, settings: Settings) -> None:
    settings.LEADBASE_IMPORT_MAX_BYTES = 50
    status, body = api.post(csv_bytes(ROWS))
    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "too large" in body["detail"]


def test_roles_and_scopes(
    client: Client, api_key_for: Callable[..., str], viewer: User, rep: User, marketer: User
) -> None:
    for user in (viewer, rep):
        status, body = Api(client, api_key_for(user)).post(csv_bytes(ROWS))
        assert status == HTTPStatus.FORBIDDEN
        assert "Only admins and marketers may import leads" in body["detail"]
    status, body = Api(client, api_key_for(marketer, "read")).post(csv_bytes(ROWS))
    assert status == HTTPStatus.FORBIDDEN and "'write' scope" in body["detail"]
    assert not ImportJob.objects.exists()
    status, body = Api(client, api_key_for(marketer, "read")).get("/imports/999")
    assert status == HTTPStatus.NOT_FOUND
