"""Fixtures of the predictive-scoring tests: a seeded world whose outcome depends on pricing
page visits, and a trained model version. Training takes seconds, so the first test that needs
a good model trains it for real (model_train) and the others install a copy of that version's
artefact (the same bytes, hash and columns) instead of training again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from leadbase.accounts.models import User
from leadbase.scoring.models import ModelStatus, PredictiveModel
from leadbase.scoring.predictive import prediction
from leadbase.scoring.predictive.training import model_train
from tests.api.conftest import ApiClient

from .world import World, build_world

ApiAs = Callable[..., ApiClient]


@pytest.fixture
def api_as(client: Client, api_key_for: Callable[..., str]) -> ApiAs:
    """An API client with a key of the given user and scopes."""

    def factory(user: User, scopes: str = "read,write") -> ApiClient:
        return ApiClient(client, f"Bearer {api_key_for(user, scopes)}")

    return factory


_trained: dict[str, dict[str, Any]] = {}
COPIED = ("kind", "artefact", "artefact_sha256", "metrics", "charts", "summary", "validation")


@pytest.fixture(autouse=True)
def _forget_predictor() -> Iterator[None]:
    """Each process keeps the active version for a moment; a test's database is new."""
    prediction.forget()
    yield
    prediction.forget()


@pytest.fixture
def world(db: None) -> World:
    return build_world(seed=0)


def install_model(
    fields: dict[str, Any], *, version: int, status: str = ModelStatus.ACTIVE
) -> PredictiveModel:
    return PredictiveModel.objects.create(
        version=version, status=status, **{name: fields[name] for name in COPIED}
    )


def good_model_fields() -> dict[str, Any] | None:
    return _trained.get("good")


@pytest.fixture
def good_model(world: World) -> PredictiveModel:
    """The active model trained on `world` (trained once per test session); open leads are
    predicted with it."""
    cached = _trained.get("good")
    if cached is None:
        model = model_train()
        assert model.status == ModelStatus.ACTIVE, model.error or model.activation_note
        _trained["good"] = {name: getattr(model, name) for name in COPIED}
        return model
    model = install_model(cached, version=1)
    prediction.open_leads_predict()
    return model
