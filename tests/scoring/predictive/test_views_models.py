"""The models pages (/scoring/models/), the score card's factors, and the lead list's sort and
filter by probability."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from leadbase.accounts.models import User
from leadbase.leads.models import Lead
from leadbase.scoring.models import ModelStatus, PredictiveModel
from leadbase.scoring.predictive import prediction

from .conftest import COPIED, install_model
from .world import World

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def test_the_list_shows_versions_with_metrics_and_actions(
    login: Login, marketer: User, viewer: User, good_model: PredictiveModel
) -> None:
    install_model({n: getattr(good_model, n) for n in COPIED}, version=2, status="ready")
    page = login(marketer).get(reverse("scoring:models"))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert 'id="model-1"' in html and 'id="model-2"' in html
    assert "Activate v2" in html and "Train a new version" in html
    roc = good_model.metrics["chosen_metrics"]["roc_auc"]
    assert f"{roc:.3f}" in html
    # a viewer reads, without the buttons
    html = login(viewer).get(reverse("scoring:models")).content.decode()
    assert 'id="model-2"' in html and "Activate v2" not in html
    assert "Train a new version" not in html


def test_the_version_page_carries_the_charts_data_without_inline_script(
    login: Login, viewer: User, good_model: PredictiveModel
) -> None:
    page = login(viewer).get(reverse("scoring:model", args=[good_model.version]))
    html = page.content.decode()
    assert page.status_code == HTTPStatus.OK
    for canvas in ("chart-roc", "chart-calibration", "chart-gains", "chart-importance"):
        assert f'id="{canvas}"' in html
    start = html.index('<script id="model-charts" type="application/json">')
    data = json.loads(html[start:].split(">", 1)[1].split("</script>", 1)[0])
    assert data["roc"] == good_model.charts["roc"]
    assert "chart.umd.min.js" in html and "model_charts.js" in html
    assert "Naive Bayes (baseline)" in html


def test_a_failed_version_page_says_what_is_needed(login: Login, viewer: User) -> None:
    PredictiveModel.objects.create(
        version=1,
        status=ModelStatus.FAILED,
        error="Too little data to learn from: 3 converted and 9 not: at least 30 of each",
        summary={"labelled": 12, "converted": 3, "not_converted": 9},
    )
    html = login(viewer).get(reverse("scoring:model", args=[1])).content.decode()
    assert "3 converted and 9 not: at least 30 of each" in html
    assert "chart-roc" not in html


def test_activation_by_the_ui_needs_an_editor(
    login: Login, rep: User, admin_user: User, good_model: PredictiveModel
) -> None:
    v2 = install_model({n: getattr(good_model, n) for n in COPIED}, version=2, status="ready")
    url = reverse("scoring:model-activate", args=[2])
    assert login(rep).post(url).status_code == HTTPStatus.FORBIDDEN
    assert PredictiveModel.objects.get(pk=v2.pk).status == ModelStatus.READY
    reply = login(admin_user).post(url)
    assert reply.status_code == HTTPStatus.FOUND
    assert PredictiveModel.objects.get(pk=v2.pk).status == ModelStatus.ACTIVE
    assert PredictiveModel.objects.get(pk=good_model.pk).status == ModelStatus.RETIRED


def test_the_train_button_starts_a_version_with_progress(
    login: Login, marketer: User, viewer: User
) -> None:
    assert login(viewer).post(reverse("scoring:model-train")).status_code == HTTPStatus.FORBIDDEN
    reply = login(marketer).post(reverse("scoring:model-train"))
    assert reply.status_code == HTTPStatus.FOUND
    model = PredictiveModel.objects.get()
    assert reply["Location"] == reverse("scoring:model", args=[model.version])
    page = login(marketer).get(reply["Location"]).content.decode()
    assert 'hx-get="' + reverse("scoring:model-progress", args=[model.version]) in page
    assert 'id="model-progress-bar"' in page
    partial = login(marketer).get(
        reverse("scoring:model-progress", args=[model.version]), headers={"HX-Request": "true"}
    )
    assert partial.status_code == HTTPStatus.OK and "<html" not in partial.content.decode()


def test_the_score_card_shows_the_top_factors(
    login: Login, marketer: User, world: World, good_model: PredictiveModel
) -> None:
    lead = world.open[0]
    html = login(marketer).get(reverse("scoring:lead-card", args=[lead])).content.decode()
    assert 'id="prediction-probability"' in html
    assert "points of probability" in html


def test_a_refused_artefact_is_shown_on_its_page(
    login: Login, viewer: User, world: World, good_model: PredictiveModel
) -> None:
    PredictiveModel.objects.filter(pk=good_model.pk).update(artefact=b"not a model")
    prediction.forget()
    assert prediction.active_predictor() is None
    html = login(viewer).get(reverse("scoring:model", args=[1])).content.decode()
    assert "altered after training" in html


def test_the_lead_list_sorts_and_filters_by_probability(
    login: Login, marketer: User, world: World, good_model: PredictiveModel
) -> None:
    client = login(marketer)
    probabilities: dict[int, float] = {
        pk: float(p or 0)
        for pk, p in Lead.objects.filter(pk__in=world.open).values_list(
            "pk", "predicted_probability"
        )
    }
    assert Lead.objects.filter(pk__in=world.open, predicted_probability=None).count() == 0
    ranked = sorted(probabilities, key=lambda pk: (-probabilities[pk], -pk))
    page = client.get(reverse("leads:list"), {"sort": "-predicted_probability"})
    html = page.content.decode()
    positions = [html.index(f'href="/leads/{pk}/"') for pk in ranked]
    assert positions == sorted(positions)
    percent = round(sorted(probabilities.values())[len(probabilities) // 2] * 100)
    filtered = client.get(reverse("leads:list"), {"min_probability": str(percent)})
    html = filtered.content.decode()
    for pk, p in probabilities.items():
        assert (f'href="/leads/{pk}/"' in html) == (p >= percent / 100), (pk, p, percent)
    bad = client.get(reverse("leads:list"), {"min_probability": "150"})
    assert bad.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
    assert "100" in bad.content.decode()
