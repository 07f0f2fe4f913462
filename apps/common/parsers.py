"""The JSON request parser: orjson, which refuses nesting deeper than 1024 levels.

DRF's own parser used the standard library, whose decoder recursed until a body of
1,500 ``[`` raised ``RecursionError`` (a 500). orjson answers such a body, like any
other malformed one, with a parse error (400, code 1001). It also refuses ``NaN`` and
``Infinity``, which no field here accepts. It reads at most ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(``IM_HTTP_MAX_BODY_BYTES``) bytes: a longer body is 413, code 1007 (the ASGI servers refuse
it before it is read: ``imserver.limits``).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            raw = b""
        else:  # never more than the limit (and one byte to tell)
            raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestDataTooBig("request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
