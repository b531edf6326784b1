"""core.api_json: the API's encoder writes exactly what ninja's writes, only faster."""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import json
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from leadbase.core.api_json import ApiJSONEncoder


class Colour(enum.Enum):
    RED = "red"


class Point(Schema):
    x: int
    at: dt.datetime


UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
        dt.datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC),
        dt.datetime(2026, 7, 1, 12, 30, 5, 999, tzinfo=BERLIN),
        dt.datetime(2026, 3, 1, 12, 30),
        dt.date(2026, 3, 1),
        dt.time(8, 15, 0, 250000),
        dt.timedelta(days=2, seconds=5),
        Decimal("1234567.50"),
        Decimal("0"),
        Decimal("-0.001"),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        Colour.RED,
        ipaddress.ip_address("192.0.2.1"),
        Point(x=1, at=dt.datetime(2026, 1, 1, tzinfo=UTC)),
        {"nested": [dt.date(2026, 1, 2), Decimal("1.10"), None, "zoë", 1.5]},
    ],
)
def test_same_output_as_ninjas_encoder(value: Any) -> None:
    assert json.dumps(value, cls=ApiJSONEncoder) == json.dumps(value, cls=NinjaJSONEncoder)


def test_what_neither_can_encode_fails_alike() -> None:
    with pytest.raises(TypeError):
        json.dumps(object(), cls=ApiJSONEncoder)
