"""LEADBASE_PREDICTIVE_QUIET_DAYS, _RETRAIN_DAYS and _MAX_ROWS come from the environment,
and a badly written value stops start-up with a message naming the setting."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

import leadbase.config.settings

SETTINGS = Path(leadbase.config.settings.__file__)


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in (
        "LEADBASE_PREDICTIVE_QUIET_DAYS",
        "LEADBASE_PREDICTIVE_RETRAIN_DAYS",
        "LEADBASE_PREDICTIVE_MAX_ROWS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_defaults_and_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load(monkeypatch)
    assert defaults["LEADBASE_PREDICTIVE_QUIET_DAYS"] == 90
    assert defaults["LEADBASE_PREDICTIVE_RETRAIN_DAYS"] == 7
    assert defaults["LEADBASE_PREDICTIVE_MAX_ROWS"] == 200_000
    values = load(
        monkeypatch,
        LEADBASE_PREDICTIVE_QUIET_DAYS="45.5",
        LEADBASE_PREDICTIVE_RETRAIN_DAYS="0",
        LEADBASE_PREDICTIVE_MAX_ROWS="50_000",
    )
    assert values["LEADBASE_PREDICTIVE_QUIET_DAYS"] == 45.5
    assert values["LEADBASE_PREDICTIVE_RETRAIN_DAYS"] == 0
    assert values["LEADBASE_PREDICTIVE_MAX_ROWS"] == 50_000


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEADBASE_PREDICTIVE_QUIET_DAYS", "0"),  # every open lead would be "gone quiet"
        ("LEADBASE_PREDICTIVE_QUIET_DAYS", "ninety"),
        ("LEADBASE_PREDICTIVE_RETRAIN_DAYS", "-1"),
        ("LEADBASE_PREDICTIVE_RETRAIN_DAYS", "nan"),
        ("LEADBASE_PREDICTIVE_RETRAIN_DAYS", "inf"),
    ],
)
def test_a_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"{name}=.*number of days"):
        load(monkeypatch, **{name: value})


@pytest.mark.parametrize("value", ["-5", "1e5", "many", "2.5"])
def test_a_bad_row_cap_names_the_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"LEADBASE_PREDICTIVE_MAX_ROWS=.*whole number"):
        load(monkeypatch, LEADBASE_PREDICTIVE_MAX_ROWS=value)
