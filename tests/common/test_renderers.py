"""The API's orjson renderer writes what DRF's JSONRenderer writes for the values the API answers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import orjson
from rest_framework.renderers import JSONRenderer

from apps.common.renderers import ORJSONRenderer


def test_the_same_json_as_drf_for_every_value_type():
    data = {
        "text": "ünïcode ✓ \u2028 line\u2029sep",
        "n": [1, -2, 3.5, None, True, False],
        "when": datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "whole": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "east": datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        "day": date(2025, 1, 2),
        "id": uuid.UUID(int=7),
        "money": Decimal("1.5"),
        "nested": {"k": [{"x": "y"}]},
        "int_keys": {1: "a"},
    }
    fast, drf = ORJSONRenderer().render(data), JSONRenderer().render(data)
    assert fast == drf
    assert orjson.loads(fast)["when"] == "2025-01-02T03:04:05.678901Z"


def test_none_is_an_empty_body_and_an_indent_request_is_honoured():
    assert ORJSONRenderer().render(None) == b""
    body = ORJSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert body == JSONRenderer().render({"a": 1}, "application/json; indent=2") and b"\n" in body


def test_a_value_beyond_64_bits_falls_back_to_drf():
    assert ORJSONRenderer().render({"big": 2**70}) == JSONRenderer().render({"big": 2**70})
