"""`leadbase train`: trains in the command's process; --json, --no-activate, and the plain
failure when there is too little data."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leadbase.leads.models import Lead
from leadbase.scoring.models import ModelStatus, PredictiveModel

from .world import World


@pytest.mark.django_db
def test_train_json_no_activate(world: World) -> None:
    out = StringIO()
    call_command("train", "--json", "--no-activate", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["version"] == 1 and payload["status"] == "ready"
    assert payload["activated"] is False and "--no-activate" in payload["activation_note"]
    assert set(payload["models"]) >= {"gbm", "logistic", "naive_bayes"}
    assert payload["chosen_metrics"]["roc_auc"] > 0.7
    assert payload["summary"]["converted"] == len(world.converted)
    assert not PredictiveModel.objects.filter(status=ModelStatus.ACTIVE).exists()
    assert Lead.objects.filter(predicted_probability__isnull=False).count() == 0


@pytest.mark.django_db
def test_train_with_too_little_data_exits_with_what_is_needed(
    make_lead: Callable[..., Lead],
) -> None:
    for _ in range(4):
        Lead.objects.filter(pk=make_lead().pk).update(sales_status="won")
    out = StringIO()
    with pytest.raises(CommandError, match="4 converted and 0 not: at least 30 of each"):
        call_command("train", "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["status"] == "failed" and "at least 30 of each" in payload["error"]
