"""Bad requests to the predictive-model API get a 4xx that says what to fix, and change
nothing: no version is created, none is activated."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from leadbase.accounts.models import User
from leadbase.leads.schemas import MAX_DB_ID
from leadbase.scoring.models import ModelStatus, PredictiveModel

from .conftest import ApiAs

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        "{not json",  # malformed
        '{"activate": "maybe"}',  # wrong type
        '{"activate": "<script>alert(1)</script>"}',  # hostile
        '{"activate": "ja\u0308"}',  # unicode, still not a yes/no
    ],
)
def test_a_malformed_training_request_is_refused_and_trains_nothing(
    api_as: ApiAs, marketer: User, body: str
) -> None:
    reply = api_as(marketer).post_raw("/models/train", body)

    assert reply.status in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY)
    assert reply.detail  # says what is wrong
    assert "<script>" not in reply.content.decode()
    assert not PredictiveModel.objects.exists()


def test_an_oversized_training_request_is_refused(api_as: ApiAs, marketer: User) -> None:
    reply = api_as(marketer).post_raw(
        "/models/train", '{"activate": true, "x": "' + "a" * (3 << 20) + '"}'
    )

    assert HTTPStatus.BAD_REQUEST <= reply.status < HTTPStatus.INTERNAL_SERVER_ERROR
    assert not PredictiveModel.objects.exists()


@pytest.mark.parametrize("model_id", ["0", "-1", str(MAX_DB_ID + 1), "abc", "%C3%A9"])
def test_unknown_or_impossible_ids_are_4xx_and_activate_nothing(
    api_as: ApiAs, marketer: User, model_id: str
) -> None:
    ready = PredictiveModel.objects.create(version=1, status=ModelStatus.READY)
    api = api_as(marketer)

    got = api.get(f"/models/{model_id}")
    activated = api.post(f"/models/{model_id}/activate", {})

    for reply in (got, activated):
        assert reply.status in (HTTPStatus.NOT_FOUND, HTTPStatus.UNPROCESSABLE_ENTITY), reply.body
        assert reply.detail
    ready.refresh_from_db()
    assert ready.status == ModelStatus.READY


def test_activating_a_version_that_never_trained_is_a_conflict_that_says_why(
    api_as: ApiAs, marketer: User
) -> None:
    training = PredictiveModel.objects.create(version=1, status=ModelStatus.TRAINING)

    reply = api_as(marketer).post(f"/models/{training.pk}/activate", {})

    assert reply.status == HTTPStatus.CONFLICT
    assert "only a trained version" in reply.detail
    assert not PredictiveModel.objects.filter(status=ModelStatus.ACTIVE).exists()


@pytest.mark.parametrize("value", ["2", "-0.1", "abc", "nan"])
def test_a_probability_filter_out_of_range_names_the_limit(
    api_as: ApiAs, viewer: User, value: str
) -> None:
    reply = api_as(viewer, "read").get("/leads", {"min_probability": value})

    assert reply.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "min_probability" in str(reply.body)
