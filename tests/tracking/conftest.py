"""Fixtures of the tracking tests: the API client of tests/api, as an admin with ingest."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leadbase.accounts.models import User
from tests.api.conftest import ApiClient, api_as

__all__ = ["api_as"]


@pytest.fixture
def api(api_as: Callable[..., ApiClient], admin_user: User) -> ApiClient:
    return api_as(admin_user, "ingest")
