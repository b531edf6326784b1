"""The predictive-model API: versions, training (202), activation and roll back with roles,
the lead's probability and the score explanation's prediction."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest

from leadbase.accounts.models import User
from leadbase.leads.models import Lead
from leadbase.scoring.models import ModelStatus, PredictiveModel

from .conftest import ApiAs, install_model
from .world import World

pytestmark = pytest.mark.django_db


def test_versions_list_and_detail_shapes(
    api_as: ApiAs, viewer: User, good_model: PredictiveModel
) -> None:
    api = api_as(viewer, "read")
    listed = api.get("/models")
    assert listed.status == HTTPStatus.OK
    (item,) = listed.body["items"]
    assert item["version"] == good_model.version and item["status"] == "active"
    assert {"roc_auc", "pr_auc", "log_loss", "brier", "top_decile_lift"} <= set(item["metrics"])
    assert "charts" not in item
    detail = api.get(f"/models/{good_model.pk}")
    assert detail.status == HTTPStatus.OK
    body = detail.body
    assert set(body["models"]) >= {"gbm", "logistic", "naive_bayes"}
    assert set(body["charts"]) == {"roc", "calibration", "gains", "importance"}
    assert body["summary"]["rows"] > 0 and body["validation"]
    assert "artefact" not in body
    assert api.get("/models/999999").status == HTTPStatus.NOT_FOUND


def test_training_answers_202_with_the_version_to_poll(api_as: ApiAs, marketer: User) -> None:
    reply = api_as(marketer).post("/models/train", {"activate": False})
    assert reply.status == HTTPStatus.ACCEPTED
    assert reply.body["status"] == "training" and reply.body["version"] == 1
    assert reply.body["url"].endswith(f"/models/{reply.body['id']}")
    # another training while this one runs is a conflict
    again = api_as(marketer).post("/models/train", {})
    assert again.status == HTTPStatus.CONFLICT
    assert "training" in again.detail


@pytest.mark.parametrize("role", ["viewer", "rep"])
def test_only_admins_and_marketers_train_and_activate(
    api_as: ApiAs, request: pytest.FixtureRequest, role: str, world: World
) -> None:
    user = request.getfixturevalue(role)
    model = PredictiveModel.objects.create(version=1, status=ModelStatus.READY)
    api = api_as(user)
    assert api.post("/models/train", {}).status == HTTPStatus.FORBIDDEN
    assert api.post(f"/models/{model.pk}/activate", {}).status == HTTPStatus.FORBIDDEN
    assert not PredictiveModel.objects.filter(status=ModelStatus.TRAINING).exists()


def test_activate_and_roll_back(
    api_as: ApiAs, admin_user: User, good_model: PredictiveModel
) -> None:
    # Given v1 active and a copy of it as v2, ready
    from .conftest import COPIED

    v2 = install_model(
        {name: getattr(good_model, name) for name in COPIED}, version=2, status="ready"
    )
    api = api_as(admin_user)
    # When v2 is activated, then v1 (the roll back)
    reply = api.post(f"/models/{v2.pk}/activate", {})
    assert reply.status == HTTPStatus.OK and reply.body["status"] == "active"
    assert reply.body["activated_by"]["username"] == admin_user.username
    assert PredictiveModel.objects.get(pk=good_model.pk).status == ModelStatus.RETIRED
    back = api.post(f"/models/{good_model.pk}/activate", {})
    # Then exactly one is active at each step
    assert back.status == HTTPStatus.OK
    statuses = dict(PredictiveModel.objects.values_list("version", "status"))
    assert statuses == {1: "active", 2: "retired"}


def test_a_failed_version_is_not_activated(api_as: ApiAs, marketer: User) -> None:
    failed = PredictiveModel.objects.create(version=1, status=ModelStatus.FAILED, error="x")
    reply = api_as(marketer).post(f"/models/{failed.pk}/activate", {})
    assert reply.status == HTTPStatus.CONFLICT
    assert "only a trained version" in reply.detail


def test_the_lead_and_its_score_carry_the_prediction(
    api_as: ApiAs, viewer: User, world: World, good_model: PredictiveModel
) -> None:
    api = api_as(viewer, "read")
    lead = world.open[0]
    stored = Lead.objects.get(pk=lead).predicted_probability
    assert stored is not None
    assert api.get(f"/leads/{lead}").body["predicted_probability"] == pytest.approx(stored)
    score = api.get(f"/leads/{lead}/score")
    assert score.status == HTTPStatus.OK
    found = score.body["prediction"]
    assert found["model_version"] == good_model.version
    assert 0 <= found["probability"] <= 1
    assert all({"feature", "label", "value", "delta", "text"} == set(f) for f in found["factors"])


def test_without_a_model_the_score_has_no_prediction(
    api_as: ApiAs, viewer: User, make_lead: Callable[..., Lead]
) -> None:
    lead = make_lead()
    reply = api_as(viewer, "read").get(f"/leads/{lead.pk}/score")
    assert reply.status == HTTPStatus.OK and reply.body["prediction"] is None


def test_leads_page_by_probability_with_nulls_last_and_filter(
    api_as: ApiAs, viewer: User, world: World, good_model: PredictiveModel
) -> None:
    api = api_as(viewer, "read")
    for sort in ("-predicted_probability", "predicted_probability"):
        seen = [
            (item["predicted_probability"], item["id"])
            for page in api.walk("/leads", {"sort": sort, "limit": 3})
            for item in page.body["items"]
        ]
        known = [pair for pair in seen if pair[0] is not None]
        assert len(seen) == Lead.objects.count()  # every lead once, across pages
        assert seen[: len(known)] == known  # leads without a probability come last
        expected = sorted(known, reverse=sort.startswith("-"))
        assert known == expected
    bar = sorted(p for p in Lead.objects.values_list("predicted_probability", flat=True) if p)[5]
    found = api.get("/leads", {"min_probability": bar, "limit": 100}).body["items"]
    assert found and all(item["predicted_probability"] >= bar for item in found)
    assert api.get("/leads", {"min_probability": 2}).status == HTTPStatus.UNPROCESSABLE_ENTITY
