"""The JSON API's encoder: ninja's, with the usual non-JSON values made faster.

ninja's NinjaJSONEncoder asks of every value that JSON cannot hold whether it is a pydantic
model, a URL, an IP address or an enum before handing it to Django's encoder; the values an
API response usually holds (datetimes, dates, decimals, UUIDs) are none of those, so they
go to Django's encoder at once. The output is the same, byte for byte (a test checks).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

_DJANGO_TYPES = (dt.date, dt.time, dt.timedelta, decimal.Decimal, uuid.UUID)


class ApiJSONEncoder(NinjaJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, _DJANGO_TYPES):
            return DjangoJSONEncoder.default(self, o)
        return super().default(o)


class ApiJSONRenderer(JSONRenderer):
    encoder_class = ApiJSONEncoder
