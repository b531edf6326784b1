"""An API client that speaks JSON with a bearer key, and helpers for walking pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client

from leadbase.accounts.models import User

BASE = "/api/v1"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    response: HttpResponseBase
    content: bytes

    @property
    def detail(self) -> str:
        return str(self.body["detail"])

    @property
    def errors(self) -> dict[str, str]:
        return dict(self.body["errors"])


class ApiClient:
    """Requests to /api/v1 with the given Authorization header (none when it is None).

    Every reply is checked to be JSON (except 204), and every error reply to carry a
    non-empty "detail" and an "errors" object, so each test checks that for free."""

    def __init__(self, client: Client, authorization: str | None) -> None:
        self.client = client
        self.authorization = authorization

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.authorization} if self.authorization is not None else {}

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        return self._reply(self.client.get(BASE + path, params or {}, headers=self.headers()))

    def post(self, path: str, body: Any) -> Reply:
        return self.post_raw(path, json.dumps(body))

    def post_raw(
        self, path: str, data: str | bytes, content_type: str = "application/json"
    ) -> Reply:
        response = self.client.post(
            BASE + path, data, content_type=content_type, headers=self.headers()
        )
        return self._reply(response)

    def patch(self, path: str, body: Any) -> Reply:
        response = self.client.patch(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers()
        )
        return self._reply(response)

    def delete(self, path: str) -> Reply:
        return self._reply(self.client.delete(BASE + path, headers=self.headers()))

    def walk(self, path: str, params: Mapping[str, Any]) -> Iterator[Reply]:
        """Every page of a listing, following `next` until it is null."""
        cursor: str | None = None
        for _ in range(10_000):
            page = self.get(path, {**params, **({"cursor": cursor} if cursor else {})})
            assert page.status == HTTPStatus.OK, page.body
            yield page
            cursor = page.body["next"]
            if cursor is None:
                return
        raise AssertionError("pagination did not end")

    @staticmethod
    def _reply(response: HttpResponseBase) -> Reply:
        content: bytes = getattr(response, "content", b"")
        if response.status_code == HTTPStatus.NO_CONTENT:
            return Reply(response.status_code, None, response, content)
        assert response["Content-Type"].startswith("application/json"), content[:200]
        body = json.loads(content)
        if response.status_code >= HTTPStatus.BAD_REQUEST:
            assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
            assert isinstance(body.get("errors"), dict), body
        return Reply(response.status_code, body, response, content)


@pytest.fixture
def api_as(client: Client, api_key_for: Callable[..., str]) -> Callable[..., ApiClient]:
    """api_as(user, scopes="read,write,ingest"): a client with a fresh key of that user."""

    def factory(user: User, scopes: str = "read,write,ingest") -> ApiClient:
        return ApiClient(client, f"Bearer {api_key_for(user, scopes)}")

    return factory


@pytest.fixture
def api_with_key(client: Client) -> Callable[[str | None], ApiClient]:
    """api_with_key(key): a client sending `Bearer <key>` (None sends no header at all)."""

    def factory(key: str | None) -> ApiClient:
        return ApiClient(client, None if key is None else f"Bearer {key}")

    return factory


@pytest.fixture
def api_with_header(client: Client) -> Callable[[str], ApiClient]:
    """api_with_header(value): a client sending this exact Authorization header."""

    def factory(value: str) -> ApiClient:
        return ApiClient(client, value)

    return factory
