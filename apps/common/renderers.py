"""JSON rendering of API answers: orjson, with DRF's value formats.

:class:`ORJSONRenderer` is the API's default renderer (``REST_FRAMEWORK`` in settings). It writes
what ``rest_framework.renderers.JSONRenderer`` writes with the project's settings (compact, UTF-8,
U+2028/U+2029 escaped, datetimes as DRF's encoder spells them) at a fraction of the cost; an
indented answer (``Accept: application/json; indent=4``) and any value orjson refuses go through
DRF's renderer. :func:`datetime_renderer` renders datetimes as DRF's ``DateTimeField`` does, for
views that build their rows by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from django.conf import settings
from django.utils import timezone
from rest_framework import ISO_8601
from rest_framework.fields import DateTimeField
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_encoder_default = JSONEncoder().default
_LS, _PS = "\u2028".encode(), "\u2029".encode()


class ORJSONRenderer(JSONRenderer):
    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if (accepted_media_type and "indent" in accepted_media_type) or (renderer_context or {}).get("indent"):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_encoder_default, option=_OPTIONS)
        except orjson.JSONEncodeError:  # an int beyond 64 bits, a type only json's encoder knows
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80" in out:  # U+2028/U+2029 are escaped, as DRF does (JSON inside JavaScript)
            out = out.replace(_LS, b"\\u2028").replace(_PS, b"\\u2029")
        return out


_drf_datetime = DateTimeField().to_representation


def _render_any(value: datetime | None) -> str | None:
    return _drf_datetime(value) if value is not None else None


def datetime_renderer() -> Callable[[datetime | None], str | None]:
    """A function rendering a datetime as DRF's ``DateTimeField`` does (ISO 8601 in the current
    time zone, ``Z`` for UTC), with the time zone looked up once rather than per value."""
    if not settings.USE_TZ or api_settings.DATETIME_FORMAT != ISO_8601:
        return _render_any
    tz = timezone.get_current_timezone()

    def render(value: datetime | None) -> str | None:
        if not value or value.tzinfo is None:
            return _render_any(value)
        text = value.astimezone(tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return render


def db_datetime_renderer() -> Callable[[datetime | None], str | None]:
    """:func:`datetime_renderer` for datetimes as a raw cursor returns them (naive, in UTC, as Django
    stores them with ``USE_TZ``): the same text as DRF's ``DateTimeField`` gives the aware value."""
    if not settings.USE_TZ:
        return datetime_renderer()
    aware = datetime_renderer()
    if api_settings.DATETIME_FORMAT != ISO_8601 or timezone.get_current_timezone_name() != "UTC":
        return lambda value: aware(value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value)

    def render(value: datetime | None) -> str | None:
        if value is None or value.tzinfo is not None:
            return aware(value)
        return value.isoformat() + "Z"

    return render
